"""Params and metrics of the workspace or a revision, collected as DVC
collects them (`dvc/repo/params/show.py`, `dvc/repo/metrics/show.py`), and
their differences (`dvc/utils/diff.py`).

Params are every params file and key the stages of every `dvc.yaml` read,
the files of each `dvc.yaml`'s top-level `params:`, and `params.yaml` when it
exists; metrics are the stages' `metrics:` outputs, then each top-level
`metrics:` list. A revision is read through the one read-only view of a
repository (`view.repoview`): git files from the commit, a tracked metrics
file (`cache: true`) from the cache. The workspace is read from disk.

A file that cannot be read (missing, malformed) is reported beside the
others, and a revision whose `dvc.yaml` cannot be read is reported whole:
DVC warns and shows the rest, and so does bale. Paths are root-relative,
posix.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from bale.errors import (
    BaleError,
    DvcFileError,
    GitRequiredError,
    SourceError,
    TargetNotFoundError,
)
from bale.formats.lockfile import PIPELINE_FILE
from bale.formats.params import param_value, parse_params
from bale.formats.pipeline import DEFAULT_PARAMS, parse_pipeline
from bale.repo.repository import Repo

if TYPE_CHECKING:
    from bale.repo.git import Git
    from bale.view.repoview import RepoView

WORKSPACE = "workspace"


class Loaded(NamedTuple):
    """One params or metrics file: its data, or why it could not be read."""

    data: dict[str, Any] | None
    error: BaleError | None = None


class Collected(NamedTuple):
    """The params or metrics files of one revision, in DVC's order; `error`
    when its stage files cannot be read (then `files` is empty)."""

    files: dict[str, Loaded]
    error: BaleError | None = None

    def errors(self) -> list[BaleError]:
        """Everything that could not be read, the revision's first."""
        found = [] if self.error is None else [self.error]
        return found + [f.error for f in self.files.values() if f.error is not None]


class Change(NamedTuple):
    """One key's values in the old and the new revision (None: absent), and
    `diff`, new minus old, when both are numbers (None otherwise)."""

    old: Any
    new: Any
    diff: int | float | None = None


Diff = dict[str, dict[str, Change]]  # path -> flattened key -> change


class Compared(NamedTuple):
    """A diff with what each side collected (for its errors)."""

    diff: Diff
    old: Collected
    new: Collected


class Files(Protocol):
    """Where one side of a diff reads: the workspace or a revision."""

    def pipelines(self) -> list[str]:
        """The repository's `dvc.yaml` files, root-relative, in DVC's order."""
        ...

    def read(self, rel: str) -> bytes | None:
        """A file's bytes; None when there is no such file."""
        ...

    def files_under(self, rel: str) -> list[str]:
        """The files inside the folder `rel`, sorted; [] when it is no folder."""
        ...


def _walk_order(path: str) -> tuple[str, ...]:
    """Root's `dvc.yaml` first, then each folder's before its subfolders'."""
    folder = posixpath.dirname(path)
    return tuple(folder.split("/")) if folder else ()


class DiskFiles:
    """The workspace: files on disk, `dvc.yaml` files found by the index's walk."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    def pipelines(self) -> list[str]:
        from bale.workspace.index import load_index

        return sorted(load_index(self.repo).pipelines, key=_walk_order)

    def read(self, rel: str) -> bytes | None:
        try:
            with open(self.repo.abs(rel), "rb") as fobj:
                return fobj.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def files_under(self, rel: str) -> list[str]:
        top = self.repo.abs(rel)
        if not os.path.isdir(top):
            return []
        found = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            base = os.path.relpath(dirpath, self.repo.root).replace(os.sep, "/")
            found += [posixpath.join(base, name) for name in filenames]
        return sorted(found)


class ViewFiles:
    """A revision: the view's git files, and tracked files from the cache
    (fetched from the remote when the cache lacks them). `prefix` is the
    repository root inside the git tree ("" when they are one)."""

    def __init__(self, view: RepoView, prefix: str = "") -> None:
        self.view = view
        self.prefix = prefix
        self._git_files: set[str] | None = None

    def _in_git(self) -> set[str]:
        if self._git_files is None:
            self._git_files = set(self.view.tree.files())
        return self._git_files

    def _full(self, rel: str) -> str:
        return posixpath.join(self.prefix, rel) if self.prefix else rel

    def pipelines(self) -> list[str]:
        # Another repository's root inside this one (a folder with its own
        # `.dvc/config`) is not walked, as DVC's index does not walk it.
        nested = [r for r in self.view.roots() if _inside(r, self.prefix) and r != self.prefix]
        found = []
        for path in self._in_git():
            if posixpath.basename(path) != PIPELINE_FILE or not _inside(path, self.prefix):
                continue
            if any(_inside(path, root) for root in nested):
                continue
            found.append(path[len(self.prefix) + 1 :] if self.prefix else path)
        return sorted(found, key=_walk_order)

    def read(self, rel: str) -> bytes | None:
        full = self._full(rel)
        if full in self._in_git():
            return self.view.tree.read(full)
        for leaf in self.view.leaves(full, expand=True):
            if leaf.path == full and leaf.out is not None and leaf.md5 is not None:
                legacy = leaf.out.out.legacy
                try:
                    self.view.fetch(leaf.out, [(leaf.md5, legacy)])
                except SourceError as exc:
                    raise SourceError(
                        f"'{rel}' is not in the cache and could not be fetched: {exc}"
                    ) from exc
                with open(self.view.store.path(leaf.md5, legacy=legacy), "rb") as fobj:
                    return fobj.read()
        return None

    def files_under(self, rel: str) -> list[str]:
        full = self._full(rel)
        paths = {p for p in self._in_git() if p.startswith(full + "/")}
        paths.update(
            leaf.path
            for leaf in self.view.leaves(full, expand=True)
            if leaf.path.startswith(full + "/")
        )
        cut = len(self.prefix) + 1 if self.prefix else 0
        return sorted(p[cut:] for p in paths)


def _inside(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")


@contextmanager
def opened_side(repo: Repo, rev: str) -> Iterator[Files]:
    """The workspace (`rev` is "workspace") or the repository at `rev`,
    through the one view of a revision (`external.sources.opened`).

    Raises:
        GitRequiredError: the repository has no git.
        RevisionNotFoundError: git knows no such revision.
    """
    if rev == WORKSPACE:
        yield DiskFiles(repo)
        return
    git = repo_git(repo)
    from bale.external.sources import opened
    from bale.odb.store import ObjectStore

    # The repository's own cache: what is there is read in place.
    store = ObjectStore(repo.cache_dir)
    with opened(git.root, rev, store=store) as (_source, view):
        prefix = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
        yield ViewFiles(view, "" if prefix == "." else prefix)


def repo_git(repo: Repo) -> Git:
    if repo.git is None:
        raise GitRequiredError(
            "reading revisions needs git, and this repository has none (core.no_scm); run: git init"
        )
    return repo.git


def has_commits(repo: Repo) -> bool:
    """Whether HEAD names a commit (a new git repository has none)."""
    out = repo_git(repo).run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    return bool(out.strip())


# -- what to read -------------------------------------------------------------


class StageFile(NamedTuple):
    folder: str  # root-relative folder of the dvc.yaml
    stages: tuple
    extra: Mapping[str, Any]


def stage_files(files: Files) -> list[StageFile]:
    """Every `dvc.yaml`, parsed; `${}` read their params and vars files
    from the same side.

    Raises:
        DvcFileError: one is malformed (the whole revision fails, as in DVC).
    """
    found = []
    for rel in files.pipelines():
        folder = posixpath.dirname(rel)
        text = file_text(files, rel)
        if text is None:
            continue

        def read(path: str, folder: str = folder, origin: str = rel) -> str | None:
            return file_text(files, join_inside(folder, path, origin=origin))

        pipeline = parse_pipeline(text, origin=rel, read=read)
        found.append(StageFile(folder, pipeline.stages, pipeline.extra))
    return found


def file_text(files: Files, rel: str) -> str | None:
    data = files.read(rel)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DvcFileError(rel, "not UTF-8 text; fix the file") from exc


def join_inside(folder: str, path: str, *, origin: str) -> str:
    """`path` (relative to `folder`) made root-relative.

    Raises:
        DvcFileError: it is absolute or leaves the repository.
    """
    rel = posixpath.normpath(posixpath.join(folder, path))
    if posixpath.isabs(path) or rel == ".." or rel.startswith("../") or "\0" in path:
        raise DvcFileError(origin, f"'{path}' lies outside the repository; name a file inside it")
    return "" if rel == "." else rel


def params_of(
    files: Files, *, targets: list[str] | None = None, deps_only: bool = False,
    stages: list[str] | None = None,
) -> Collected:  # fmt: skip
    """The params of one side: each file's values (the keys the stages
    name, or all of a file tracked whole), nested as in the file.

    With `targets` (root-relative), those files whole and nothing else;
    with `deps_only`, only what stages read (no top-level `params:`, no
    `params.yaml` of its own); with `stages`, only what those stages read.
    """
    try:
        wanted = _params_wanted(files, targets, deps_only or bool(stages), stages)
    except BaleError as exc:
        return Collected({}, exc)
    return Collected({rel: _load_params(files, rel, keys) for rel, keys in wanted.items()})


def _params_wanted(
    files: Files, targets: list[str] | None, deps_only: bool, stages: list[str] | None = None
) -> dict[str, list[str] | None]:
    """File -> keys (None: the whole file), merged as DVC's `_merge_params`:
    a file tracked whole anywhere is read whole."""
    entries: list[tuple[str, tuple[str, ...] | None]] = []
    if targets:
        entries += [(t, None) for t in targets]
    else:
        for sf in stage_files(files):
            for stage in sf.stages:
                if stages and stage.name not in stages:
                    continue
                origin = posixpath.join(sf.folder, PIPELINE_FILE)
                wdir = join_inside(sf.folder, stage.wdir, origin=origin)
                entries += [(join_inside(wdir, path, origin=origin), keys)
                            for path, keys in stage.params]  # fmt: skip
            if not deps_only:
                origin = posixpath.join(sf.folder, PIPELINE_FILE)
                entries += [(join_inside(sf.folder, path, origin=origin), None)
                            for path in sf.extra.get("params", ())]  # fmt: skip
        if not deps_only and files.read(DEFAULT_PARAMS) is not None:
            entries.append((DEFAULT_PARAMS, None))
    whole = {rel for rel, keys in entries if not keys}
    wanted: dict[str, list[str] | None] = {}
    for rel, keys in entries:
        if rel in whole:
            wanted[rel] = None
        else:
            have = wanted.setdefault(rel, [])
            assert have is not None and keys is not None
            have += [k for k in keys if k not in have]
    return wanted


def _load_params(files: Files, rel: str, keys: list[str] | None) -> Loaded:
    try:
        data = _parsed(files, rel)
    except BaleError as exc:
        return Loaded(None, exc)
    if keys is None:
        return Loaded(data)
    picked: dict[str, Any] = {}
    for key in keys:
        try:
            value = param_value(data, key)
        except KeyError:
            continue  # a key the file lacks is absent, as dpath finds nothing
        _put(picked, key.split("."), value)
    return Loaded(picked)


def _parsed(files: Files, rel: str) -> dict[str, Any]:
    text = file_text(files, rel)
    if text is None:
        raise TargetNotFoundError(rel)
    return parse_params(text, rel)


def _put(into: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set `value` at the nested key `parts`, merging with what is there
    (DVC's dpath merge of the keys a stage names)."""
    for part in parts[:-1]:
        child = into.get(part)
        into[part] = child = dict(child) if isinstance(child, dict) else {}
        into = child
    last = parts[-1]
    if isinstance(into.get(last), dict) and isinstance(value, dict):
        into[last] = {**into[last], **value}
    else:
        into[last] = value


def metrics_of(files: Files, *, targets: list[str] | None = None) -> Collected:
    """The metrics of one side: each metrics file's numbers, strings and
    booleans, nested as in the file (lists, nulls and empty mappings are
    dropped, as DVC drops them). A folder stands for the files inside it.

    With `targets` (root-relative), those files and nothing else.
    """
    try:
        paths = list(targets) if targets else _metrics_wanted(files)
    except BaleError as exc:
        return Collected({}, exc)
    found: dict[str, Loaded] = {}
    for path in dict.fromkeys(paths):
        try:
            inside = files.files_under(path)
        except BaleError as exc:
            found[path] = Loaded(None, exc)
            continue
        for rel in inside or [path]:
            if rel not in found:
                found[rel] = _load_metrics(files, rel)
    return Collected(found)


def _metrics_wanted(files: Files) -> list[str]:
    stage_metrics: list[str] = []
    top_level: list[str] = []
    for sf in stage_files(files):
        origin = posixpath.join(sf.folder, PIPELINE_FILE)
        for stage in sf.stages:
            wdir = join_inside(sf.folder, stage.wdir, origin=origin)
            stage_metrics += [join_inside(wdir, out.path, origin=origin)
                              for out in stage.outs if out.section == "metrics"]  # fmt: skip
        top_level += [join_inside(sf.folder, path, origin=origin)
                      for path in sf.extra.get("metrics", ())]  # fmt: skip
    return stage_metrics + top_level


def _load_metrics(files: Files, rel: str) -> Loaded:
    try:
        data = _parsed(files, rel)
    except DvcFileError as exc:
        problem = exc.problem.replace("params file", "metrics file")
        return Loaded(None, DvcFileError(exc.path, problem))
    except BaleError as exc:
        return Loaded(None, exc)
    return Loaded(_metric_values(data) or {})


def _metric_values(value: Any) -> Any:
    """DVC's `_extract_metrics`: scalars kept (booleans too), mappings
    walked, anything else (lists, null) and what ends empty dropped."""
    if isinstance(value, int | float | str):
        return value
    if not isinstance(value, dict):
        return None
    kept = {}
    for key, item in value.items():
        got = _metric_values(item)
        if got is not None and got != {}:
            kept[key] = got
    return kept


# -- revisions -----------------------------------------------------------------


def collect(repo: Repo, rev: str, what: Callable[[Files], Collected]) -> Collected:
    """What `what` collects of the workspace or of `rev`.

    Raises:
        GitRequiredError, RevisionNotFoundError: see `opened_side`.
    """
    with opened_side(repo, rev) as files:
        return what(files)


def compare(
    repo: Repo, a_rev: str, b_rev: str, what: Callable[[Files], Collected], *,
    unchanged: bool = False,
) -> Compared:  # fmt: skip
    """The changes from `a_rev` to `b_rev` (either may be "workspace").
    A repository without commits has nothing to compare, as in DVC.

    Raises:
        GitRequiredError, RevisionNotFoundError: see `opened_side`.
    """
    if not has_commits(repo):
        return Compared({}, Collected({}), Collected({}))
    old = collect(repo, a_rev, what)
    new = collect(repo, b_rev, what)
    return Compared(diff(old, new, unchanged=unchanged), old, new)


def revisions(
    repo: Repo, *, branches: bool = False, tags: bool = False, commits: bool = False
) -> list[tuple[str, str]]:
    """(name, commit) of every branch, tag or commit, as DVC's brancher names
    them: the names of one commit joined by commas, branches before tags;
    with `commits`, every commit by its id."""
    git = repo_git(repo)
    names: dict[str, list[str]] = {}
    if commits:
        for sha in git.run("rev-list", "--all").decode().split():
            names.setdefault(sha, [sha])
    else:
        refs = []
        if branches:
            refs.append("refs/heads")
        if tags:
            refs.append("refs/tags")
        for ref in refs:
            fmt = "%(objectname) %(*objectname) %(refname:lstrip=2)"
            for line in git.run("for-each-ref", f"--format={fmt}", ref).decode().splitlines():
                parts = line.split(" ", 2)
                if len(parts) != 3:
                    continue
                sha, peeled, name = parts
                have = names.setdefault(peeled or sha, [])  # a tag names its commit
                if name not in have:
                    have.append(name)
    return [(",".join(n), sha) for sha, n in names.items()]


def active_branch(repo: Repo) -> str | None:
    """The branch HEAD is on; None when detached."""
    out = repo_git(repo).run("symbolic-ref", "--short", "--quiet", "HEAD", check=False)
    return out.decode().strip() or None


def same(a: Collected, b: Collected) -> bool:
    """Whether two revisions hold the same values and the same errors."""

    def key(c: Collected) -> tuple:
        return (
            str(c.error) if c.error else None,
            {p: (f.data, str(f.error) if f.error else None) for p, f in c.files.items()},
        )

    return key(a) == key(b)


# -- differences ---------------------------------------------------------------


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested keys joined with dots, lists written as Python writes them
    (DVC's `format_dict` then `flatten`); empty mappings dropped."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, list):
            flat[name] = str(value)
        else:
            flat[name] = value
    return flat


def diff(old: Collected, new: Collected, *, unchanged: bool = False) -> Diff:
    """Each file's changed keys, sorted (every key with `unchanged`); a key
    one side lacks, or whose file it could not read, is None there."""
    result: Diff = {}
    for path in sorted(old.files.keys() | new.files.keys()):
        a = flatten(_data(old, path))
        b = flatten(_data(new, path))
        changes = {}
        for key in sorted(a.keys() | b.keys()):
            before, after = a.get(key), b.get(key)
            if before == after and not unchanged:
                continue
            numbers = isinstance(before, int | float) and isinstance(after, int | float)
            changes[key] = Change(before, after, after - before if numbers else None)
        if changes:
            result[path] = changes
    return result


def _data(collected: Collected, path: str) -> Mapping[str, Any]:
    loaded = collected.files.get(path)
    return loaded.data or {} if loaded is not None else {}
