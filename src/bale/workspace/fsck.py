"""fsck: re-hash cache or remote objects and report those that do not match their names."""

from __future__ import annotations

from bale.workspace.context import Workspace
from bale.workspace.sync import Obj, Scope, chosen_outs, objects_needed, open_backend


def fsck(
    ws: Workspace,
    *,
    remote: str | None = None,
    cloud: bool = False,
    targets: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(oid, actual hash) of every object whose content does not match its name:
    all of the cache's (or the remote's), or those the targets use that are there."""
    chosen: list[Obj] | None = None
    if targets:
        picked = chosen_outs(ws, Scope(targets))
        chosen = sorted(objects_needed(ws, picked.outs, picked.picked))
    if cloud:
        from bale.remotes import transfer

        _spec, backend = open_backend(ws, remote)
        try:
            bad = transfer.verify(backend, chosen, jobs=ws.jobs, progress=ws.progress)
        finally:
            backend.close()
        return [(oid, actual) for oid, actual in bad if actual != "missing"]  # status -c's job
    from bale.parallel import map_batched

    if chosen is None:
        objs = [(o, False) for o in ws.store.oids()]
        objs += [(o, True) for o in ws.store.oids(legacy=True)]
    else:
        objs = [(oid, legacy) for oid, legacy in chosen if ws.store.exists(oid, legacy=legacy)]

    def run(batch):
        return [(oid, ws.store.verify(oid, legacy=legacy)) for oid, legacy in batch]

    checked = map_batched(run, objs, jobs=ws.jobs, forked=True)
    return [(oid, actual) for oid, actual in checked if oid != actual]
