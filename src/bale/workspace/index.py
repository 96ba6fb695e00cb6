"""Finding `.dvc` files and their outputs, and resolving command targets."""

from __future__ import annotations

import os
import posixpath
from typing import NamedTuple

from bale.errors import BaleError, DvcFileError, TargetNotFoundError
from bale.formats.dvcfile import DvcFile, Out, dump_dvcfile, parse_dvcfile
from bale.fsutil import atomic_write
from bale.hashing.walk import SKIP_DIRS
from bale.repo.repository import Repo

DVCFILE_SUFFIX = ".dvc"


class Tracked(NamedTuple):
    """One output and the `.dvc` file (relative to the root) that records it."""

    dvcfile: str
    out: Out
    index: int

    @property
    def rel(self) -> str:
        """The output's path relative to the repository root."""
        return out_rel(self.dvcfile, self.out.path)


def out_rel(dvcfile_rel: str, out_path: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(dvcfile_rel), out_path))


def load_dvcfile(repo: Repo, rel: str) -> DvcFile:
    path = repo.abs(rel)
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError as exc:
        raise TargetNotFoundError(rel) from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DvcFileError(rel, "not a text file; restore it from git") from exc
    dvcfile = parse_dvcfile(text, origin=rel)
    for out in dvcfile.outs:
        target = out_rel(rel, out.path)
        if posixpath.isabs(out.path) or target == ".." or target.startswith("../"):
            raise DvcFileError(rel, f"output '{out.path}' lies outside the repository")
    return dvcfile


def save_dvcfile(repo: Repo, rel: str, dvcfile: DvcFile) -> bool:
    """Write `dvcfile` at `rel`, onto the existing text if any (its comments and
    layout kept); an unchanged file is not touched. Returns whether it wrote."""
    path = repo.abs(rel)
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
    atomic_write(path, dump_dvcfile(dvcfile, previous=previous).encode("utf-8"), fsync=False)
    return True


def tracked_of(rel: str, dvcfile: DvcFile) -> list[Tracked]:
    return [Tracked(rel, out, i) for i, out in enumerate(dvcfile.outs)]


def find_dvcfiles(repo: Repo, start_rel: str = "") -> dict[str, DvcFile]:
    """Every `.dvc` file under `start_rel`, parsed, by path; the walk does not
    descend into outputs, ignored folders, or other repositories' roots.

    Raises:
        DvcFileError: a `.dvc` file is malformed.
    """
    found: dict[str, DvcFile] = {}
    outputs: set[str] = set()
    stack = [start_rel]
    while stack:
        rel = stack.pop()
        ignored = repo.ignore.matcher(rel)
        subdirs = []
        try:
            it = os.scandir(repo.abs(rel))
        except (FileNotFoundError, NotADirectoryError):
            continue
        with it:
            for entry in it:
                name = entry.name
                child = f"{rel}/{name}" if rel else name
                if entry.is_dir(follow_symlinks=False):
                    if name in SKIP_DIRS or (ignored and ignored(name, True)):
                        continue
                    subdirs.append(child)
                elif name.endswith(DVCFILE_SUFFIX) and entry.is_file():
                    if ignored and ignored(name, False):
                        continue
                    dvcfile = found[child] = load_dvcfile(repo, child)
                    outputs.update(out_rel(child, out.path) for out in dvcfile.outs)
        for child in subdirs:
            if child in outputs or os.path.isdir(os.path.join(repo.abs(child), ".dvc")):
                continue
            stack.append(child)
    return dict(sorted(found.items()))


def collect(repo: Repo, targets: list[str] | None) -> list[tuple[Tracked, str | None]]:
    """Outputs named by `targets` (all when none), with an optional sub-path.

    A target may be a `.dvc` file, an output, a path inside a tracked folder
    (granular: the sub-path is returned), or a folder holding `.dvc` files.

    Raises:
        TargetNotFoundError: a target matches nothing tracked.
    """
    if not targets:
        return [(t, None) for t in all_tracked(repo)]
    result: list[tuple[Tracked, str | None]] = []
    everything: list[Tracked] | None = None
    for target in targets:
        rel = repo.rel(target)
        if rel.endswith(DVCFILE_SUFFIX) and os.path.isfile(repo.abs(rel)):
            result.extend((t, None) for t in tracked_of(rel, load_dvcfile(repo, rel)))
            continue
        if os.path.isfile(repo.abs(rel + DVCFILE_SUFFIX)):
            dvcfile_rel = rel + DVCFILE_SUFFIX
            tracked = [
                t for t in tracked_of(dvcfile_rel, load_dvcfile(repo, dvcfile_rel)) if t.rel == rel
            ]
            if tracked:
                result.extend((t, None) for t in tracked)
                continue
        if everything is None:
            everything = all_tracked(repo)
        matched = False
        for t in everything:
            if t.rel == rel:
                result.append((t, None))
                matched = True
            elif rel.startswith(t.rel + "/"):
                result.append((t, rel[len(t.rel) + 1 :]))
                matched = True
            elif rel == "" or t.rel.startswith(rel + "/"):
                result.append((t, None))
                matched = True
        if not matched:
            raise not_tracked_error(
                repo, target, rel, f"run: bale add {target}", missing="no .dvc file tracks it"
            )
    return result


def not_tracked_error(
    repo: Repo, target: str, rel: str, hint: str, *, missing: str | None = None
) -> BaleError:
    """The error for a target no `.dvc` file tracks: it does not exist, or it
    exists and is simply not tracked (saying "does not exist" would mislead)."""
    if os.path.lexists(repo.abs(rel)):
        return BaleError(f"'{target}' is not tracked; {hint}")
    return TargetNotFoundError(target, missing or hint)


def all_tracked(repo: Repo) -> list[Tracked]:
    return [t for rel, f in find_dvcfiles(repo).items() for t in tracked_of(rel, f)]
