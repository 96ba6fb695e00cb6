"""Which objects a set of revisions uses: what push, fetch and gc work on."""

from __future__ import annotations

import os
import posixpath
from typing import NamedTuple

from bale.errors import BaleError, DvcFileError
from bale.formats.dvcfile import Out, parse_dvcfile
from bale.repo.git import list_revs, read_files_at
from bale.workspace.context import Workspace
from bale.workspace.index import DVCFILE_SUFFIX, Tracked, collect, out_rel


class UsedOut(NamedTuple):
    """An output as some revision records it."""

    rel: str
    out: Out


def used_outs(
    ws: Workspace,
    targets: list[str] | None = None,
    *,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    workspace: bool = True,
) -> list[UsedOut]:
    """Outputs of the workspace's `.dvc` files and, with the flags, of git history."""
    used: dict[tuple[str, str | None, str], UsedOut] = {}
    if workspace:
        for tracked, _sub in collect(ws.repo, targets):
            _keep(used, tracked)
    if all_branches or all_tags or all_commits:
        git = ws.repo.git
        if git is None:
            raise BaleError("-a, -T and -A need git; this repository has no_scm set")
        prefix = os.path.relpath(ws.repo.root, git.root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix
        for rev in list_revs(git, branches=all_branches, tags=all_tags, commits=all_commits):
            for path, blob in read_files_at(git, rev, prefix, DVCFILE_SUFFIX).items():
                rel = path[len(prefix) + 1 :] if prefix else path
                try:
                    dvcfile = parse_dvcfile(blob.decode("utf-8"), origin=f"{rev[:8]}:{rel}")
                except (DvcFileError, UnicodeDecodeError):
                    continue  # an old broken file in history is not this command's concern
                for index, out in enumerate(dvcfile.outs):
                    target = out_rel(rel, out.path)
                    if target.startswith("../") or posixpath.isabs(out.path):
                        continue
                    _keep(used, Tracked(rel, out, index))
    return list(used.values())


def _keep(used: dict, tracked: Tracked) -> None:
    out = tracked.out
    if out.oid is None or not out.cache:
        return
    used.setdefault((tracked.rel, out.oid, out.hash_name), UsedOut(tracked.rel, out))


def objects_of(
    ws: Workspace, outs: list[UsedOut], *, need_entries: bool = True
) -> set[tuple[str, bool]]:
    """(oid, legacy) of every object the outputs need; folders' entries come
    from manifests present in the cache (missing manifests are skipped)."""
    objects: set[tuple[str, bool]] = set()
    for used in outs:
        out = used.out
        assert out.oid is not None
        objects.add((out.oid, out.legacy))
        if out.is_dir and need_entries:
            try:
                entries = ws.manifest(out)
            except FileNotFoundError:
                continue
            objects.update((md5, out.legacy) for _, md5 in entries)
    return objects
