"""The merge driver: three-way merges of `.dvc` files and `dvc.lock` that a
line merge gets wrong.

Two branches that each add files to one tracked folder both rewrite its
`md5:` line, so git's text merge conflicts. DVC's own driver needs every
manifest in the cache, and when it fails it leaves our version in the file
without conflict markers, easy to commit as if merged: the other side's
files are lost (DVC issue 8638). Here a folder is merged by its `.dir`
manifests: what one side added, removed or changed
is taken, the same change on both sides is one change, and a file changed
differently on both sides is a conflict named by its path. Only manifests
are read (from the cache, else the output's remote), never the files.
`dvc.lock` is merged per stage. Whatever cannot be merged is left as git
leaves a conflict: markers in the file, exit status 1.

All three versions are untrusted: manifests pass their path checks before
any is stored, and nothing is written but git's result file and manifests
into the cache. Imports `workspace` (the cache of a repository), `repo`,
`remotes`, `odb`, `formats` and `errors`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from bale.errors import BaleError, DvcFileError, ManifestError, NotARepoError
from bale.formats.dvcfile import DvcFile, Out, dump_dvcfile, out_to_dict, parse_dvcfile, parse_out
from bale.formats.lockfile import LOCK_FILE, parse_lockfile
from bale.formats.manifest import dump_manifest, manifest_oid, parse_manifest
from bale.fsutil import atomic_write, is_temporary, remove_file
from bale.odb.store import ObjectStore
from bale.repo.repository import Repo

SIDES = ("base", "ours", "theirs")
_CONTENT = ("md5", "size", "nfiles")  # what a folder merge computes; the rest merges by key
_ABSENT: Any = object()  # a key, path or stage one version does not have


class Merge(NamedTuple):
    """A merged text, or None and what kept it from merging (one line each,
    naming the paths)."""

    text: str | None
    conflicts: tuple[str, ...] = ()
    unreadable: bool = False  # an input could not be read: one line says why


class DriverResult(NamedTuple):
    merged: bool
    conflicts: tuple[str, ...]
    unreadable: bool = False


class _Conflict(Exception):
    """Why a merge stops; caught in this module and returned as a `Merge`.
    `unreadable`: an input is malformed or missing, not a content conflict."""

    def __init__(self, *lines: str, unreadable: bool = False) -> None:
        super().__init__(*lines)
        self.lines = lines
        self.unreadable = unreadable


class _Both(Exception):
    """Both sides changed one value differently."""


def _pick(base: Any, ours: Any, theirs: Any) -> Any:
    """The three-way merge of one value: the side that changed it wins.

    Raises:
        _Both: both changed it, differently.
    """
    if ours == theirs:
        return ours
    if base == ours:
        return theirs
    if base == theirs:
        return ours
    raise _Both


def _merge_mapping(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any], *, where: str
) -> dict[str, Any]:
    """Key by key, in our order then theirs' new keys; a key changed on both
    sides differently is a conflict.

    Raises:
        _Conflict: naming each such key.
    """
    merged: dict[str, Any] = {}
    both = []
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        try:
            value = _pick(base.get(key, _ABSENT), ours.get(key, _ABSENT), theirs.get(key, _ABSENT))
        except _Both:
            both.append(f"{where}: '{key}' changed on both sides")
            continue
        if value is not _ABSENT:
            merged[key] = value
    if both:
        raise _Conflict(*both)
    return merged


def _merge_entries(
    base: Mapping[str, str], ours: Mapping[str, str], theirs: Mapping[str, str], *, folder: str
) -> dict[str, str]:
    """Three-way merge of manifests as {relpath: md5}.

    Raises:
        _Conflict: a file changed differently on both sides, deleted on one
            and changed on the other, or a file where the other side has a
            folder; one line per path.
    """
    merged: dict[str, str] = {}
    lines = []
    for relpath in sorted(ours.keys() | theirs.keys()):
        was, mine, other = (m.get(relpath, _ABSENT) for m in (base, ours, theirs))
        try:
            md5 = _pick(was, mine, other)
        except _Both:
            if was is _ABSENT:
                why = "added on both sides with different content"
            elif _ABSENT in (mine, other):
                why = "deleted on one side and changed on the other"
            else:
                why = "changed on both sides"
            lines.append(f"{folder}/{relpath}: {why}")
            continue
        if md5 is not _ABSENT:
            merged[relpath] = md5
    if lines:
        raise _Conflict(*lines)
    for relpath in merged:  # a file on one side where the other made a folder of that name
        parent = relpath.rpartition("/")[0]
        while parent:
            if parent in merged:
                lines.append(f"{folder}/{parent}: a file on one side, a folder on the other")
            parent = parent.rpartition("/")[0]
    if lines:
        raise _Conflict(*sorted(set(lines)))
    return merged


class Manifests:
    """Where a merge's manifests come from (the cache, then the output's
    remote) and where the merged one goes (the cache): a repository's cache,
    or none when the merge runs outside a repository."""

    def __init__(self, repo: Repo | None) -> None:
        self.repo = repo
        self.store: ObjectStore | None = None
        if repo is not None:
            from bale.workspace.context import Workspace

            self.store = Workspace(repo).store
        self._sizes: dict[tuple[str, bool], int | None] = {}

    def entries(self, out: Out, *, side: str, folder: str) -> dict[str, str]:
        """The folder's {relpath: md5}, checked (no `..`, no absolute path).

        Raises:
            _Conflict: no cache or remote holds it, or it is malformed.
        """
        assert out.oid is not None
        if self.store is None:
            raise _Conflict(
                f"{folder}: no bale repository (.dvc/) here to read its manifests from; "
                "merge inside the repository",
                unreadable=True,
            )
        data = self._local(out.oid, out.legacy)
        fetched = data is None
        if data is None:
            data = self._fetch(out, side=side, folder=folder)
        try:
            entries = parse_manifest(data, oid=out.oid)
        except ManifestError as exc:
            raise _Conflict(
                f"{folder}: the manifest {out.oid} ({side}) {exc.problem}; nothing was merged",
                unreadable=True,
            ) from exc
        if fetched:  # checked: kept, as a fetch would keep it
            self.store.add_bytes(out.oid, data, legacy=out.legacy)
            self.store.sync()
        return dict(entries)

    def _local(self, oid: str, legacy: bool) -> bytes | None:
        assert self.store is not None
        try:
            data = self.store.read_bytes(oid, legacy=legacy)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return data if manifest_oid(data) == oid else None  # corrupt: the remote's copy, if any

    def _fetch(self, out: Out, *, side: str, folder: str) -> bytes:
        """The manifest from the output's remote (or the default), verified,
        staged in a scratch folder of the cache (a hostile one never becomes
        a cache object)."""
        from bale.remotes import open_remote, transfer
        from bale.repo.remote_config import remote_spec

        assert self.store is not None and self.repo is not None and out.oid is not None
        lacking = f"{folder}: the manifest {out.oid} ({side}) is not in the cache"
        try:
            spec = remote_spec(self.repo, out.remote)
            backend = open_remote(spec.url, spec.options)
        except BaleError as exc:
            raise _Conflict(
                f"{lacking} and no remote can be read ({exc}); fetch it (bale fetch), merge again",
                unreadable=True,
            ) from exc
        try:
            with self.store.scratch() as tmp:
                staging = ObjectStore(tmp)
                done = transfer.fetch(staging, backend, [(out.oid, out.legacy)], jobs=1)
                if done.failed:
                    raise _Conflict(f"{lacking} nor on remote '{spec.name}' ({done.failed[0][1]}); "
                                    "push it from where it was made, then merge again",
                                    unreadable=True)  # fmt: skip
                return staging.read_bytes(out.oid, legacy=out.legacy)
        except BaleError as exc:
            raise _Conflict(f"{lacking} and remote '{spec.name}' cannot be read: {exc}",
                            unreadable=True) from exc  # fmt: skip
        finally:
            backend.close()

    def store_merged(self, entries: Mapping[str, str], *, legacy: bool) -> str:
        """Write the merged manifest (DVC's exact bytes) into the cache; its oid."""
        assert self.store is not None
        data = dump_manifest(entries.items())
        oid = manifest_oid(data)
        if self._local(oid, legacy) is None:
            self.store.add_bytes(oid, data, legacy=legacy)
            self.store.sync()  # on disk before the `.dvc` file names it
        return oid

    def size(
        self, merged: Mapping[str, str], bases: Iterable[tuple[Mapping[str, str], int | None]],
        *, legacy: bool,
    ) -> int | None:  # fmt: skip
        """The merged folder's size, when it can be known: a side's recorded
        size plus and minus the files that differ from it (their objects
        are usually here: the ones that side lacks are the other side's
        own), else the sum of every file's object; None when objects are
        missing (DVC then writes no `size` either)."""
        for base, recorded in bases:
            if recorded is None:
                continue
            plus = self._total([m for p, m in merged.items() if base.get(p) != m], legacy)
            minus = self._total([m for p, m in base.items() if merged.get(p) != m], legacy)
            if plus is not None and minus is not None and recorded + plus - minus >= 0:
                return recorded + plus - minus
        return self._total(list(merged.values()), legacy)

    def _total(self, md5s: list[str], legacy: bool) -> int | None:
        assert self.store is not None
        total = 0
        for md5 in md5s:
            key = (md5, legacy)
            if key not in self._sizes:
                try:
                    self._sizes[key] = os.stat(self.store.path(md5, legacy=legacy)).st_size
                except (FileNotFoundError, NotADirectoryError):
                    self._sizes[key] = None
            size = self._sizes[key]
            if size is None:
                return None
            total += size
        return total


# -- .dvc files ---------------------------------------------------------------


def merge_dvcfiles(base: str, ours: str, theirs: str, *, path: str, manifests: Manifests) -> Merge:
    """The three-way merge of a `.dvc` file (`path` from the repository's
    top, for messages and the outputs' paths): outputs by path, their other
    keys and the file's root keys one by one, a folder changed on both
    sides by its manifests."""
    try:
        files = [_parse_dvcfile(text, f"{path} ({side})") for side, text in
                 zip(SIDES, (base, ours, theirs), strict=True)]  # fmt: skip
        extra = _merge_mapping(*(f.extra for f in files), where=path)
        outs = _merge_outs(
            *files, path=path, manifests=manifests, stage="md5" in extra or "deps" in extra
        )
    except _Conflict as exc:
        return Merge(None, exc.lines, exc.unreadable)
    merged = DvcFile(tuple(outs), extra)
    return Merge(dump_dvcfile(merged, previous=ours))


def _parse_dvcfile(text: str, origin: str) -> DvcFile:
    try:
        dvcfile = parse_dvcfile(text, origin=origin)
    except DvcFileError as exc:
        raise _Conflict(f"{exc}; nothing was merged", unreadable=True) from exc
    paths = [out.path for out in dvcfile.outs]
    if len(set(paths)) != len(paths):
        raise _Conflict(f"{origin}: an output is listed twice; nothing was merged", unreadable=True)
    return dvcfile


def _merge_outs(
    base: DvcFile, ours: DvcFile, theirs: DvcFile, *, path: str, manifests: Manifests,
    stage: bool,
) -> list[Out]:  # fmt: skip
    by_path = [{out.path: out for out in f.outs} for f in (base, ours, theirs)]
    order = [*by_path[1], *(p for p in by_path[2] if p not in by_path[1])]
    folder = posixpath.dirname(path)
    merged: list[Out] = []
    lines: list[str] = []
    for out_path in order:
        was, mine, other = (outs.get(out_path, _ABSENT) for outs in by_path)
        where = posixpath.join(folder, out_path)
        try:
            try:
                out = _pick(was, mine, other)
            except _Both:
                if _ABSENT in (mine, other):
                    raise _Conflict(
                        f"{where}: deleted on one side and changed on the other"
                    ) from None
                out = _merge_out(None if was is _ABSENT else was, mine, other, where=where,
                                 manifests=manifests, stage=stage)  # fmt: skip
        except _Conflict as exc:
            if exc.unreadable:
                raise
            lines += exc.lines
            continue
        if out is not _ABSENT:
            merged.append(out)
    if lines:
        raise _Conflict(*lines)
    return merged


def _merge_out(
    base: Out | None, ours: Out, theirs: Out, *, where: str, manifests: Manifests, stage: bool
) -> Out:
    """One output both sides changed: its keys one by one, its content by
    the side that changed it, or by a manifest merge when both changed a
    folder."""
    meta = [{k: v for k, v in out_to_dict(o).items() if k not in _CONTENT} if o else {}
            for o in (base, ours, theirs)]  # fmt: skip
    merged = _merge_mapping(*meta, where=where)
    content = [_content(o) if o else (None, None, None) for o in (base, ours, theirs)]
    if ours.oid == theirs.oid:
        oid, size, nfiles = (
            ours.oid,
            _first(ours.size, theirs.size),
            _first(ours.nfiles, theirs.nfiles),
        )
    elif base is not None and base.oid == ours.oid:
        oid, size, nfiles = content[2]
    elif base is not None and base.oid == theirs.oid:
        oid, size, nfiles = content[1]
    else:
        oid, size, nfiles = _merge_folder(base, ours, theirs, where=where, manifests=manifests,
                                          stage=stage)  # fmt: skip
    for key, value in zip(_CONTENT, (oid, size, nfiles), strict=True):
        if value is not None:
            merged[key] = value
    try:
        return parse_out(merged, where)
    except DvcFileError as exc:
        raise _Conflict(f"{exc}; nothing was merged", unreadable=True) from exc


def _content(out: Out) -> tuple[str | None, int | None, int | None]:
    return out.oid, out.size, out.nfiles


def _first(a: int | None, b: int | None) -> int | None:
    return a if a is not None else b


def _merge_folder(
    base: Out | None, ours: Out, theirs: Out, *, where: str, manifests: Manifests, stage: bool
) -> tuple[str, int | None, int]:
    """Both sides changed the content: a folder merges by its manifests;
    a file (or a folder on one side and a file on the other) is a conflict."""
    sides = [o for o in (base, ours, theirs) if o is not None and o.oid is not None]
    if not (ours.is_dir and theirs.is_dir) or not all(o.is_dir for o in sides):
        raise _Conflict(f"{where}: changed on both sides (a file output; choose one side)")
    if len({o.legacy for o in sides}) != 1:
        raise _Conflict(
            f"{where}: changed on both sides, hashed by different DVC versions (md5 and "
            "md5-dos2unix); choose one side, then bale add it again"
        )
    if stage:
        raise _Conflict(f"{where}: an import updated on both sides; choose one side, "
                        "then bale update it")  # fmt: skip
    base_entries: dict[str, str] = {}
    if base is not None and base.oid is not None:
        base_entries = manifests.entries(base, side="base", folder=where)
    mine = manifests.entries(ours, side="ours", folder=where)
    other = manifests.entries(theirs, side="theirs", folder=where)
    merged = _merge_entries(base_entries, mine, other, folder=where)
    oid = manifests.store_merged(merged, legacy=ours.legacy)
    size = manifests.size(merged, [(mine, ours.size), (other, theirs.size)], legacy=ours.legacy)
    return oid, size, len(merged)


# -- dvc.lock -----------------------------------------------------------------


def merge_lockfiles(base: str, ours: str, theirs: str, *, path: str) -> Merge:
    """The three-way merge of a `dvc.lock`: stage by stage (a stage changed
    on one side is taken whole; changed on both, differently, is a
    conflict), root keys one by one; our stages keep their order, theirs
    new ones follow."""
    try:
        data = [_load_lock(text, f"{path} ({side})") for side, text in
                zip(SIDES, (base, ours, theirs), strict=True)]  # fmt: skip
        stages = [d.get("stages") or {} for d in data]
        lines = []
        merged_stages: dict[str, Any] = {}
        for name in [*stages[1], *(n for n in stages[2] if n not in stages[1])]:
            was, mine, other = (s.get(name, _ABSENT) for s in stages)
            try:
                body = _pick(was, mine, other)
            except _Both:
                why = ("deleted on one side and changed on the other" if _ABSENT in (mine, other)
                       else "changed on both sides")  # fmt: skip
                lines.append(f"{path}: stage '{name}' {why}")
                continue
            if body is not _ABSENT:
                merged_stages[name] = body
        if lines:
            raise _Conflict(*lines)
        roots = [{k: v for k, v in d.items() if k != "stages"} for d in data]
        root = _merge_mapping(*roots, where=path)
    except _Conflict as exc:
        return Merge(None, exc.lines, exc.unreadable)
    from bale.formats.yaml import dump_yaml

    result: dict[str, Any] = {}
    for key in [*data[1], *root]:  # ours' order of keys, the stages where ours had them
        if key == "stages" or key in root:
            result.setdefault(key, merged_stages if key == "stages" else root[key])
    result.setdefault("stages", merged_stages)
    return Merge(dump_yaml(result))


def _load_lock(text: str, origin: str) -> dict[str, Any]:
    from bale.formats.yaml import load_yaml

    try:
        parse_lockfile(text, origin=origin)  # the schema and every entry checked
    except DvcFileError as exc:
        raise _Conflict(f"{exc}; nothing was merged", unreadable=True) from exc
    data = load_yaml(text) if text.strip() else None
    return data or {}


# -- the driver -----------------------------------------------------------------

GIT_TEMP = ".merge_file_"  # how git names the three files it hands a driver


def _remove_leftovers(ours_file: str) -> None:
    """Remove the temporary files killed drivers left beside `ours_file`
    (the result is written under `fsutil.tmp_name` and renamed): git names
    its files afresh for each merge, so those of earlier merges are found
    by git's prefix. Two merges never share a worktree (git's index lock)."""
    parent, name = os.path.split(os.path.abspath(ours_file))
    prefix = GIT_TEMP if name.startswith(GIT_TEMP) else name + "."
    with os.scandir(parent) as entries:
        stale = [e.path for e in entries if e.name.startswith(prefix) and is_temporary(e.name)]
    for leftover in stale:
        remove_file(leftover)


def run_driver(
    base_file: str, ours_file: str, theirs_file: str, *, path: str | None = None,
    marker_size: int = 7,
) -> DriverResult:  # fmt: skip
    """Merge git's three temporary files into `ours_file`, as a merge
    driver does: the merged text, or git's conflict markers (then
    `merged` is False and `conflicts` says why). `path` is the file's path
    from the repository's top (git's %P); without it, the content says
    whether it is a `dvc.lock`."""
    _remove_leftovers(ours_file)
    texts = []
    for name in (base_file, ours_file, theirs_file):
        with open(name, "rb") as fobj:
            texts.append(fobj.read())
    base, ours, theirs = texts
    if ours == theirs or theirs == base:
        return DriverResult(True, ())  # `ours_file` holds the result already
    if ours == base:
        atomic_write(ours_file, theirs)
        return DriverResult(True, ())
    where = path or ours_file
    try:
        decoded = [t.decode("utf-8") for t in texts]
    except UnicodeDecodeError:
        merge = Merge(None, (f"{where}: not UTF-8 text; nothing was merged",), unreadable=True)
    else:
        merge = _merge_texts(*decoded, path=path, where=where)
    if merge.text is not None:
        atomic_write(ours_file, merge.text.encode("utf-8"))
        return DriverResult(True, ())
    markers = conflict_markers(base_file, ours_file, theirs_file, marker_size=marker_size)
    atomic_write(ours_file, markers)
    return DriverResult(False, merge.conflicts, merge.unreadable)


def _merge_texts(base: str, ours: str, theirs: str, *, path: str | None, where: str) -> Merge:
    name = posixpath.basename(path) if path else ""
    if name == LOCK_FILE or (not path and _looks_like_lock(ours)):
        return merge_lockfiles(base, ours, theirs, path=where)
    if path and not name.endswith(".dvc"):
        return Merge(None, (f"{where}: changed on both sides (not a .dvc file or dvc.lock, "
                            "so merged as text)",))  # fmt: skip
    try:
        repo: Repo | None = Repo.open(os.path.dirname(path) if path else ".")
    except NotARepoError:
        repo = None
    except BaleError as exc:  # a config that cannot be read: no cache to find
        return Merge(None, (f"{where}: {exc}",), unreadable=True)
    return merge_dvcfiles(base, ours, theirs, path=where, manifests=Manifests(repo))


def _looks_like_lock(text: str) -> bool:
    return any(line.startswith(("schema:", "stages:")) for line in text.splitlines())


def conflict_markers(
    base_file: str, ours_file: str, theirs_file: str, *, marker_size: int
) -> bytes:
    """Our file with git's conflict markers where the sides differ (`git
    merge-file`), or around the whole of both sides when a line merge finds
    no conflict (the content conflicts all the same)."""
    from bale.repo.git import Git

    size = max(marker_size, 1)
    files = [os.path.abspath(f) for f in (ours_file, base_file, theirs_file)]
    out = Git(os.path.dirname(files[0])).run(
        "merge-file", "-p", f"--marker-size={size}", "-L", "ours", "-L", "base", "-L", "theirs",
        *files, check=False,
    )  # fmt: skip
    opening = b"<" * size + b" "
    if out.startswith(opening) or b"\n" + opening in out:
        return out
    sides = []
    for name in (ours_file, theirs_file):
        with open(name, "rb") as fobj:
            data = fobj.read()
        sides.append(data if data.endswith(b"\n") or not data else data + b"\n")
    return (opening + b"ours\n" + sides[0] + b"=" * size + b"\n" + sides[1]
            + b">" * size + b" theirs\n")  # fmt: skip
