"""Finding `.dvc` files, pipeline outputs (`dvc.lock`) and resolving targets.

Every output path a `.dvc` file or a lock file names goes through
`checked_out_path` before any command sees it: that is where paths bale must
never write (the root, `.git`, `.dvc`, stage files, `.dvcignore`d paths,
anything outside the repository) are refused, for every command at once.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from typing import NamedTuple

from bale.errors import BaleError, DvcFileError, OverlappingOutputError, TargetNotFoundError
from bale.formats.dvcfile import DvcFile, Out, dump_dvcfile, parse_dvcfile
from bale.formats.limits import check_stage_file
from bale.formats.lockfile import (
    LOCK_FILE,
    PIPELINE_FILE,
    OutFlags,
    load_pipeline,
    out_flags,
    parse_lockfile,
    stage_definition,
    stage_wdir,
)
from bale.fsutil import atomic_write, is_temporary, remove_file
from bale.hashing.walk import SKIP_DIRS
from bale.repo.ignore import IgnoreRules
from bale.repo.repository import Repo

DVCFILE_SUFFIX = ".dvc"
STAGE_FILES = frozenset({PIPELINE_FILE, LOCK_FILE})


class Tracked(NamedTuple):
    """One output and the file (relative to the root) that records it: a
    `.dvc` file, or a `dvc.lock` for the outputs of its stage `stage`."""

    dvcfile: str
    out: Out
    index: int
    rel: str  # the output's path relative to the repository root
    stage: str | None = None

    @property
    def origin(self) -> str:
        """Where the output is declared, for messages: `x.dvc`, `dvc.yaml:train`."""
        if self.stage is None:
            return self.dvcfile
        return f"{posixpath.join(posixpath.dirname(self.dvcfile), PIPELINE_FILE)}:{self.stage}"


def out_rel(dvcfile_rel: str, out_path: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(dvcfile_rel), out_path))


def metadata_problem(rel: str) -> str | None:
    """Why bale may never write an output at `rel` (root-relative, normalised),
    or None: the root itself, anything inside `.git`, `.hg` or `.dvc` at any
    depth (dvc's own ignore rules), and the stage files (`*.dvc`, `dvc.yaml`,
    `dvc.lock`) a command would then overwrite."""
    if rel in ("", "."):
        return "is the repository root"
    if rel == ".." or rel.startswith("../") or posixpath.isabs(rel):
        return "lies outside the repository"
    parts = rel.split("/")
    for part in parts:
        if part in SKIP_DIRS:
            return f"is inside {part}/ (repository metadata), where bale never writes"
    name = parts[-1]
    if name.endswith(DVCFILE_SUFFIX):
        return "is a .dvc file, which cannot be an output"
    if name in STAGE_FILES:
        return f"is a pipeline file ({name}), which cannot be an output"
    return None


def checked_out_path(
    base: str, path: str, *, origin: str, ignore: IgnoreRules | None, is_dir: bool = False
) -> str:
    """The root-relative path of an output written as `path` in a file whose
    paths are relative to the folder `base` (root-relative).

    Raises:
        DvcFileError: the path is one bale never writes (`metadata_problem`),
            or `ignore`'s `.dvcignore` rules hide it.
    """
    if posixpath.isabs(path) or "\0" in path:
        raise DvcFileError(origin, f"output '{path}' lies outside the repository; fix this entry")
    rel = posixpath.normpath(posixpath.join(base, path))
    problem = metadata_problem("" if rel == "." else rel)
    if problem is not None:
        raise DvcFileError(origin, f"output '{path}' {problem}; remove this entry")
    if ignore is not None:
        line = ignore.ignored_by(rel, is_dir=is_dir)
        if line is not None:
            raise DvcFileError(
                origin,
                f"output '{path}' is ignored by {line}; remove that line or this output",
            )
    return rel


def load_dvcfile(repo: Repo, rel: str) -> DvcFile:
    """Parse the `.dvc` file `rel`, refusing outputs bale must not write.

    Raises:
        TargetNotFoundError: there is no such file.
        DvcFileError: it is malformed or names such an output.
    """
    path = repo.abs(rel)
    try:
        with open(path, encoding="utf-8") as fobj:
            check_stage_file(rel, os.fstat(fobj.fileno()).st_size)  # before reading a GiB
            text = fobj.read()
    except FileNotFoundError as exc:
        raise TargetNotFoundError(rel) from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DvcFileError(rel, "not a text file; restore it from git") from exc
    dvcfile = parse_dvcfile(text, origin=rel)
    base = posixpath.dirname(rel)
    for out in dvcfile.outs:
        checked_out_path(base, out.path, origin=rel, ignore=repo.ignore, is_dir=out.is_dir)
    return dvcfile


def read_text(repo: Repo, rel: str) -> str | None:
    """The text of a repository file, None when it does not exist.

    Raises:
        DvcFileError: it is not text.
    """
    try:
        with open(repo.abs(rel), encoding="utf-8") as fobj:
            check_stage_file(rel, os.fstat(fobj.fileno()).st_size)  # before reading a GiB
            return fobj.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DvcFileError(rel, "not a text file; restore it from git") from exc


def folder_reader(repo: Repo, folder: str) -> Callable[[str], str | None]:
    """Read files named relative to the root-relative `folder` (a dvc.yaml's
    params and vars files): None when missing; never outside the repository.

    Raises (when called):
        DvcFileError: the path leaves the repository, or is not text.
    """

    def read(path: str) -> str | None:
        rel = posixpath.normpath(posixpath.join(folder, path))
        if posixpath.isabs(path) or rel == ".." or rel.startswith("../"):
            raise DvcFileError(
                posixpath.join(folder, PIPELINE_FILE),
                f"'{path}' lies outside the repository; name a file inside it",
            )
        return read_text(repo, rel)

    return read


def stage_outputs(
    folder: str,
    pipeline_text: str | None,
    lock_text: str | None,
    *,
    ignore: IgnoreRules | None,
    checked: bool = True,
    read: Callable[[str], str | None] | None = None,
) -> list[Tracked]:
    """The outputs the last run of each stage of `folder/dvc.yaml` recorded in
    `folder/dvc.lock`, with `cache`, `push` and `remote` from `dvc.yaml`.
    A stage the lock records but `dvc.yaml` no longer defines is left out, as
    dvc does. Without `checked`, paths are only normalised (for history,
    where nothing is written at them). With `read` (a file of the folder's,
    or None), `dvc.yaml` is resolved with its variables, so `${}` paths and
    wdirs are known; without, it is read as written.

    Raises:
        DvcFileError: either file is malformed, or a path is one bale never writes.
    """
    if pipeline_text is None or lock_text is None:
        return []
    yaml_rel = posixpath.join(folder, PIPELINE_FILE)
    lock_rel = posixpath.join(folder, LOCK_FILE)
    layout = _layout(yaml_rel, pipeline_text, read)
    found = []
    for stage in parse_lockfile(lock_text, origin=lock_rel).stages:
        known = layout(stage.name)
        if known is None:
            continue
        origin = f"{yaml_rel}:{stage.name}"
        wdir, flags = known
        base = posixpath.normpath(posixpath.join(folder, wdir))
        for index, out in enumerate(stage.outs):
            rel = posixpath.normpath(posixpath.join(base, out.path))
            try:
                if checked:
                    rel = checked_out_path(
                        base, out.path, origin=origin, ignore=ignore, is_dir=out.is_dir
                    )
            except DvcFileError as exc:
                if wdir in ("", "."):
                    raise
                # The stage's wdir may be what sends it there: say so.
                problem = f"{exc.problem} or the stage's wdir ({wdir})"
                raise DvcFileError(exc.path, problem) from exc
            flag = flags.get(out.path)
            if flag is not None:
                out = out._replace(cache=flag.cache, push=flag.push, remote=flag.remote)
            found.append(Tracked(lock_rel, out, index, rel, stage.name))
    return found


Layout = tuple[str, Mapping[str, OutFlags]]  # a stage's wdir, and flags by output path


def _layout(
    yaml_rel: str, text: str, read: Callable[[str], str | None] | None
) -> Callable[[str], Layout | None]:
    """How to find each stage's wdir and output flags by name (None: no such
    stage): from the resolved `dvc.yaml` when its files can be read, else
    from the stages as written."""
    if read is not None:
        from bale.formats.pipeline import parse_pipeline

        pipeline = parse_pipeline(text, origin=yaml_rel, read=read)
        resolved = {
            s.name: (s.wdir, {o.path: OutFlags(o.cache, o.push, o.remote) for o in s.outs})
            for s in pipeline.stages
        }
        return resolved.get
    stages = load_pipeline(text, origin=yaml_rel)

    def written(name: str) -> Layout | None:
        if stage_definition(stages, name) is None:
            return None
        origin = f"{yaml_rel}:{name}"
        return stage_wdir(stages, name, origin=origin), out_flags(stages, name)

    return written


_SWEPT: set[str] = set()  # folders `remove_metadata_leftovers` has cleaned in this process


def remove_metadata_leftovers(folder: str) -> None:
    """Remove the temporary files killed writes of `.dvc` files, `dvc.lock`
    and `.gitignore` (`NAME.<token>-N.tmp`) left in `folder`, once per
    folder per process: an add of thousands of files writes a `.dvc` file
    and a `.gitignore` line for each, and one scan of a folder of thousands
    costs milliseconds."""
    if folder in _SWEPT:
        return
    _SWEPT.add(folder)
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(".tmp") and is_temporary(e.name)]
    for name in names:
        stands_for = name.rsplit(".", 2)[0]  # NAME of NAME.<token>-N.tmp
        if stands_for.endswith(DVCFILE_SUFFIX) or stands_for in (LOCK_FILE, ".gitignore"):
            remove_file(os.path.join(folder, name))


def save_dvcfile(repo: Repo, rel: str, dvcfile: DvcFile) -> bool:
    """Write `dvcfile` at `rel`, onto the existing text if any (its comments and
    layout kept); an unchanged file is not touched. Returns whether it wrote.
    What killed writes left in its folder is removed first, written or not
    (a rerun may find the `.dvc` file done and its `.gitignore` not)."""
    path = repo.abs(rel)
    remove_metadata_leftovers(os.path.dirname(path))
    try:
        with open(path, encoding="utf-8") as fobj:
            previous: str | None = fobj.read()
    except FileNotFoundError:
        previous = None
    if previous is not None:
        try:
            if parse_dvcfile(previous, origin=rel) == dvcfile:
                return False
        except DvcFileError:
            previous = None  # a broken file is replaced whole
    atomic_write(path, dump_dvcfile(dvcfile, previous=previous).encode("utf-8"))
    return True


def tracked_of(rel: str, dvcfile: DvcFile) -> list[Tracked]:
    return [Tracked(rel, out, i, out_rel(rel, out.path)) for i, out in enumerate(dvcfile.outs)]


def tracked_in(
    files: Mapping[str, bytes], *, checked: bool = True
) -> tuple[list[Tracked], list[tuple[str, str]]]:
    """The outputs the stage files among `files` (path -> bytes, the
    `.dvc` files, `dvc.yaml` and `dvc.lock` of one tree) record, and
    (path, problem) for each file that could not be read. With `checked`,
    output paths bale never writes are refused (as problems); without,
    they are only normalised (history: nothing is written at them)."""
    found: list[Tracked] = []
    problems: list[tuple[str, str]] = []
    for rel, blob in sorted(files.items()):
        name = posixpath.basename(rel)
        try:
            if name.endswith(DVCFILE_SUFFIX):
                dvcfile = parse_dvcfile(blob.decode("utf-8"), origin=rel)
                if checked:
                    base = posixpath.dirname(rel)
                    for out in dvcfile.outs:
                        checked_out_path(base, out.path, origin=rel, ignore=None)
                found += tracked_of(rel, dvcfile)
            elif name == PIPELINE_FILE:
                folder = posixpath.dirname(rel)
                lock = files.get(posixpath.join(folder, LOCK_FILE))
                found += stage_outputs(
                    folder, blob.decode("utf-8"), None if lock is None else lock.decode("utf-8"),
                    ignore=None, checked=checked,
                )  # fmt: skip
        except (DvcFileError, UnicodeDecodeError) as exc:
            problem = exc.problem if isinstance(exc, DvcFileError) else "not UTF-8 text"
            problems.append((rel, problem))
    return found, problems


class Index(NamedTuple):
    """Everything the workspace tracks: outputs of `.dvc` files and of
    pipeline stages, the `dvc.yaml` files found, and the folders that could
    not be read (what they track is unknown: gc stops, status warns)."""

    tracked: list[Tracked]
    pipelines: list[str]
    unreadable: list[str]
    imports: dict[str, dict]  # .dvc file -> its `deps` entry naming a source repository
    url_imports: dict[str, dict]  # .dvc file -> its `deps` entry naming a URL (import-url)


def import_dep(dvcfile: DvcFile) -> dict | None:
    """The `deps` entry naming a source repository, if `dvcfile` is an import."""
    deps = dvcfile.extra.get("deps")
    if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict):
        repo = deps[0].get("repo")
        if isinstance(repo, dict) and isinstance(repo.get("url"), str):
            return deps[0]
    return None


# `deps` keys of dependencies that are neither a repository's nor a URL's.
_OTHER_DEPS = frozenset({"repo", "db", "params"})


def url_dep(dvcfile: DvcFile) -> dict | None:
    """The `deps` entry naming a URL or path, if `dvcfile` is an import-url:
    as dvc's `Stage.is_import`, no command, one dependency and one output;
    and the dependency is not a repository's, a database's or a dataset's."""
    deps = dvcfile.extra.get("deps")
    if "cmd" in dvcfile.extra or len(dvcfile.outs) != 1:
        return None
    if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict):
        dep = deps[0]
        path = dep.get("path")
        named = isinstance(path, str) and path and not path.startswith("ds://")
        if named and not _OTHER_DEPS & dep.keys():
            return dep
    return None


def load_index(repo: Repo) -> Index:
    """Every output of every `.dvc` file and `dvc.lock` in the repository; the
    walk does not descend into outputs, ignored folders, or other
    repositories' roots.

    Raises:
        DvcFileError: a file is malformed, or names an output bale never writes.
        OverlappingOutputError: two outputs are the same path, or one lies inside another.
    """
    tracked: list[Tracked] = []
    pipelines: list[str] = []
    unreadable: list[str] = []
    imports: dict[str, dict] = {}
    url_imports: dict[str, dict] = {}
    outputs: set[str] = set()
    stack = [""]
    while stack:
        rel = stack.pop()
        subdirs = []
        stage_files = []
        try:
            it = os.scandir(repo.abs(rel))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError:
            unreadable.append(rel)  # one such folder must not stop every command
            continue
        ignored = repo.ignore.matcher(rel)
        with it:
            for entry in it:
                name = entry.name
                child = f"{rel}/{name}" if rel else name
                if entry.is_dir(follow_symlinks=False):
                    if name in SKIP_DIRS or (ignored and ignored(name, True)):
                        continue
                    subdirs.append(child)
                elif name.endswith(DVCFILE_SUFFIX) or name in STAGE_FILES:
                    if not entry.is_file() or (ignored and ignored(name, False)):
                        continue
                    if name in STAGE_FILES:
                        stage_files.append(name)
                        continue
                    dvcfile = load_dvcfile(repo, child)
                    dep = import_dep(dvcfile)
                    if dep is not None:
                        imports[child] = dep
                    elif (url := url_dep(dvcfile)) is not None:
                        url_imports[child] = url
                    found = tracked_of(child, dvcfile)
                    tracked += found
                    outputs.update(t.rel for t in found)
        if PIPELINE_FILE in stage_files:
            pipelines.append(posixpath.join(rel, PIPELINE_FILE))
            found = stage_outputs(
                rel,
                read_text(repo, posixpath.join(rel, PIPELINE_FILE)),
                read_text(repo, posixpath.join(rel, LOCK_FILE)),
                ignore=repo.ignore,
                read=folder_reader(repo, rel),
            )
            tracked += found
            outputs.update(t.rel for t in found)
        for child in subdirs:
            if child in outputs or os.path.isdir(os.path.join(repo.abs(child), ".dvc")):
                continue
            stack.append(child)
    tracked.sort(key=lambda t: (t.dvcfile, t.stage or "", t.index))
    check_overlaps(tracked)
    return Index(tracked, sorted(pipelines), sorted(unreadable), imports, url_imports)


def check_overlaps(tracked: list[Tracked]) -> None:
    """Refuse two outputs at one path, or one inside another: checkout would
    place whichever it read last.

    Raises:
        OverlappingOutputError: naming both outputs and where each is declared.
    """
    by_rel: dict[str, Tracked] = {}
    for t in tracked:
        other = by_rel.get(t.rel)
        if other is not None:
            raise OverlappingOutputError(
                f"'{t.rel}' is an output of both {other.origin} and {t.origin}; remove one of them"
            )
        by_rel[t.rel] = t
    for t in tracked:
        parent = t.rel.rpartition("/")[0]
        while parent:
            other = by_rel.get(parent)
            if other is not None:
                raise OverlappingOutputError(
                    f"'{t.rel}' ({t.origin}) is inside '{other.rel}', an output of "
                    f"{other.origin}; remove one of them"
                )
            parent = parent.rpartition("/")[0]


def collect(
    repo: Repo, targets: list[str] | None, *, index: Index | None = None
) -> list[tuple[Tracked, str | None]]:
    """Outputs named by `targets` (all when none), with an optional sub-path.

    A target may be a `.dvc` file, a `dvc.yaml` or `dvc.lock` (its stages'
    outputs), `dvc.yaml:STAGE`, an output, a path inside a tracked folder
    (granular: the sub-path is returned), or a folder holding outputs. The
    whole index is loaded either way, so that outputs two files claim are
    refused whatever the targets.

    Raises:
        TargetNotFoundError: a target matches nothing tracked.
        OverlappingOutputError: see `load_index`.
    """
    everything = (index or load_index(repo)).tracked
    if not targets:
        return [(t, None) for t in everything]
    result: list[tuple[Tracked, str | None]] = []
    for target in targets:
        picked = _match(repo, everything, target)
        if not picked:
            rel = repo.rel(target.partition(":")[0] if _is_stage_address(target) else target)
            raise not_tracked_error(
                repo, target, rel, f"run: bale add {target}", missing="nothing tracks it"
            )
        result += picked
    return result


def _is_stage_address(target: str) -> bool:
    path, colon, _name = target.rpartition(":")
    return bool(colon) and posixpath.basename(path.replace(os.sep, "/")) == PIPELINE_FILE


def _match(repo: Repo, everything: list[Tracked], target: str) -> list[tuple[Tracked, str | None]]:
    """What one target names among the tracked outputs."""
    if _is_stage_address(target):
        path, _, name = target.rpartition(":")
        lock = posixpath.join(posixpath.dirname(repo.rel(path)), LOCK_FILE)
        return [(t, None) for t in everything if t.dvcfile == lock and t.stage == name]
    rel = repo.rel(target)
    if rel.endswith(DVCFILE_SUFFIX) and os.path.isfile(repo.abs(rel)):
        return [(t, None) for t in everything if t.dvcfile == rel]
    if posixpath.basename(rel) in STAGE_FILES and os.path.isfile(repo.abs(rel)):
        lock = posixpath.join(posixpath.dirname(rel), LOCK_FILE)
        return [(t, None) for t in everything if t.dvcfile == lock]
    own = [(t, None) for t in everything if t.dvcfile == rel + DVCFILE_SUFFIX and t.rel == rel]
    if own:
        return own
    picked: list[tuple[Tracked, str | None]] = []
    for t in everything:
        if t.rel == rel or rel == "" or t.rel.startswith(rel + "/"):
            picked.append((t, None))
        elif rel.startswith(t.rel + "/"):
            picked.append((t, rel[len(t.rel) + 1 :]))
    return picked


def not_tracked_error(
    repo: Repo, target: str, rel: str, hint: str, *, missing: str | None = None
) -> BaleError:
    """The error for a target no `.dvc` file tracks: it does not exist, or it
    exists and is simply not tracked (saying "does not exist" would mislead)."""
    if os.path.lexists(repo.abs(rel)):
        return BaleError(f"'{target}' is not tracked; {hint}")
    return TargetNotFoundError(target, missing or hint)


def all_tracked(repo: Repo) -> list[Tracked]:
    return load_index(repo).tracked
