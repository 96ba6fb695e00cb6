"""Which objects a set of revisions uses: what push, fetch, status -c and gc work on."""

from __future__ import annotations

import os
import posixpath
from typing import NamedTuple

from bale.errors import GitRequiredError
from bale.formats.dvcfile import Out
from bale.formats.lockfile import LOCK_FILE, PIPELINE_FILE
from bale.repo.git import list_revs, read_files_at
from bale.workspace.context import Workspace
from bale.workspace.index import (
    DVCFILE_SUFFIX,
    Tracked,
    collect,
    load_index,
    tracked_in,
)


class UsedOut(NamedTuple):
    """An output as some revision records it."""

    rel: str
    out: Out
    dvcfile: str = ""  # the file recording it, at its revision


class Unreadable(NamedTuple):
    """A file of some revision (`rev` "": a folder of the workspace) bale
    could not read: what it uses is unknown."""

    rev: str
    path: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.rev[:8]}:{self.path}" if self.rev else f"folder '{self.path or '.'}'"
        return f"{where} ({self.problem})"


class Used(NamedTuple):
    outs: list[UsedOut]
    unreadable: list[Unreadable]


def used_outs(
    ws: Workspace,
    targets: list[str] | None = None,
    *,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
) -> Used:
    """Outputs of the workspace's `.dvc` files and `dvc.lock` files and, with
    the flags, of git history; the files of history that could not be read
    are returned, not skipped, so no caller mistakes "unknown" for "unused".
    Outputs of history are counted whatever their path: their objects are
    used, and nothing is written at those paths."""
    used: dict[tuple[str, str | None, str], UsedOut] = {}
    index = load_index(ws.repo)
    unreadable = [Unreadable("", folder, "permission denied") for folder in index.unreadable]
    for tracked, _sub in collect(ws.repo, targets, index=index):
        _keep(used, tracked)
    if all_branches or all_tags or all_commits:
        git = ws.repo.git
        if git is None:
            raise GitRequiredError("-a, -T and -A need git; this repository has no_scm set")
        prefix = os.path.relpath(ws.repo.root, git.root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix
        for rev in list_revs(git, branches=all_branches, tags=all_tags, commits=all_commits):
            blobs = read_files_at(git, rev, prefix, _is_stage_file)
            files = {
                (path[len(prefix) + 1 :] if prefix else path): blob for path, blob in blobs.items()
            }
            for tracked in _tracked_at(rev, files, unreadable):
                _keep(used, tracked)
    return Used(list(used.values()), unreadable)


def _is_stage_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name.endswith(DVCFILE_SUFFIX) or name in (PIPELINE_FILE, LOCK_FILE)


def _tracked_at(rev: str, files: dict[str, bytes], unreadable: list[Unreadable]) -> list[Tracked]:
    """The outputs the stage files of one revision record."""
    found, problems = tracked_in(files, checked=False)
    unreadable += [Unreadable(rev, path, problem) for path, problem in problems]
    return found


def _keep(used: dict, tracked: Tracked) -> None:
    out = tracked.out
    if out.oid is None or not out.cache:
        return
    used.setdefault(
        (tracked.rel, out.oid, out.hash_name), UsedOut(tracked.rel, out, tracked.dvcfile)
    )


def objects_of(ws: Workspace, outs: list[UsedOut]) -> set[tuple[str, bool]]:
    """(oid, legacy) of every object the outputs need; folders' entries come
    from manifests present in the cache (missing manifests are skipped)."""
    objects: set[tuple[str, bool]] = set()
    for used in outs:
        out = used.out
        assert out.oid is not None
        objects.add((out.oid, out.legacy))
        if out.is_dir:
            try:
                entries = ws.manifest(out)
            except FileNotFoundError:
                continue
            objects.update((md5, out.legacy) for _, md5 in entries)
    return objects
