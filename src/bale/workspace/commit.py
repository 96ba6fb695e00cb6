"""`commit`: record the workspace's current content for tracked outputs."""

from __future__ import annotations

import os

from bale.errors import StageOutputError, TargetNotFoundError
from bale.workspace.context import Workspace
from bale.workspace.index import collect, load_dvcfile, save_dvcfile
from bale.workspace.save import record


def commit(ws: Workspace, targets: list[str] | None = None) -> list[str]:
    """Store changed outputs in the cache and update their `.dvc` files.

    Returns the outputs whose recorded content changed.
    """
    changed = []
    by_file: dict[str, list] = {}
    for tracked, _sub in collect(ws.repo, targets):
        if tracked.stage is not None:
            if targets:
                raise StageOutputError(
                    f"'{tracked.rel}' is an output of stage {tracked.origin}, which only a "
                    "run records: run bale repro"
                )
            continue  # dvc.lock is the pipeline's to write
        by_file.setdefault(tracked.dvcfile, []).append(tracked)
    updated = []
    for rel, items in by_file.items():
        dvcfile = load_dvcfile(ws.repo, rel)
        outs = list(dvcfile.outs)
        for tracked in items:
            out = tracked.out
            if not out.cache:
                continue
            if not os.path.exists(ws.repo.abs(tracked.rel)):
                raise TargetNotFoundError(tracked.rel, f"it is recorded in {rel} but missing")
            new = record(ws, tracked.rel, out)
            if new != out:
                changed.append(tracked.rel)
            outs[tracked.index] = new
        updated.append((rel, dvcfile._replace(outs=tuple(outs))))
    if changed:
        ws.store.sync()  # durable before any .dvc file names them
    for rel, dvcfile in updated:
        save_dvcfile(ws.repo, rel, dvcfile)
    return changed
