"""`status`: how the workspace differs from what the `.dvc` files record."""

from __future__ import annotations

import os

from bale.hashing.tree import certainly_differs
from bale.workspace.context import Workspace
from bale.workspace.index import Tracked, collect


def output_status(ws: Workspace, tracked: Tracked) -> str | None:
    """DVC's words for one output: not in cache, deleted, modified, or None."""
    out = tracked.out
    if out.oid is not None and out.cache and not ws.in_cache(out):
        return "not in cache"
    listing = None
    if out.oid is not None and out.is_dir and os.path.isdir(ws.repo.abs(tracked.rel)):
        listing = ws.listing(tracked.rel)
        # A changed file in a folder of many: told without the whole new manifest.
        if certainly_differs(
            ws.repo.abs(tracked.rel), tracked.rel, listing, ws.state, out.oid,
            legacy=out.legacy, jobs=ws.jobs,
        ):  # fmt: skip
            return "modified"
    current = ws.current(tracked.rel, legacy=out.legacy, listing=listing)
    if current is None:
        return "deleted"
    if out.oid is None:
        return "new"
    if current.oid != out.oid:
        return "modified"
    if current.tree is not None and current.tree.entries is not None and not out.legacy:
        # Hashed and found equal to the commit (after a checkout, say): from
        # now on a changed file is told from its part alone.
        ws.state.mark_parts_held(tracked.rel, out.oid)
    return None


def status(ws: Workspace, targets: list[str] | None = None) -> dict[str, list[dict]]:
    """{dvcfile: [{"changed outs": {out: state}}]} for what changed, as DVC's --json.

    Paths are relative to the current directory, as DVC prints them.
    """
    result: dict[str, list[dict]] = {}
    cwd = os.getcwd()
    for tracked, _sub in collect(ws.repo, targets):
        state = output_status(ws, tracked)
        if state is None:
            continue
        key = os.path.relpath(ws.repo.abs(tracked.dvcfile), cwd)
        out_key = os.path.relpath(ws.repo.abs(tracked.rel), cwd)
        changes = result.setdefault(key, [{"changed outs": {}}])
        changes[0]["changed outs"][out_key] = state
    return result
