"""fsck: re-hash cache or remote objects, report those that do not match
their names, and with `repair` replace them from a good copy.

What a power cut can leave behind is such an object: one renamed into place
whose bytes never reached the disk (when `BALE_FSYNC=0`, or on a filesystem
that lies about flushes). Objects are trusted by their mode, so only a
re-hash finds it.
"""

from __future__ import annotations

from typing import NamedTuple

from bale.errors import ConfigError
from bale.workspace.context import Workspace
from bale.workspace.sync import Obj, Scope, chosen_outs, objects_needed, open_backend


class FsckResult(NamedTuple):
    """`corrupt`: (oid, what its content hashes to); with repair, `repaired`
    (a good copy replaced it) and `dropped` (removed; no good copy was found,
    the objects are missing now), by oid."""

    corrupt: list[tuple[str, str]]
    repaired: list[str]
    dropped: list[str]


def fsck(
    ws: Workspace,
    *,
    remote: str | None = None,
    cloud: bool = False,
    targets: list[str] | None = None,
    repair: bool = False,
) -> FsckResult:
    """Check every object of the cache (or with `cloud`, of the remote), or
    those the targets use that are there.

    With `repair`, a corrupt cache object is removed and fetched again from
    the remote (`remote`, else the default) when it has a good copy; a corrupt
    remote object is removed and pushed again from the cache when the cache
    has a good copy.

    Raises:
        RemoteAccessError: the remote failed as a whole.
    """
    chosen: list[Obj] | None = None
    if targets:
        picked = chosen_outs(ws, Scope(targets))
        chosen = sorted(objects_needed(ws, picked.outs, picked.picked))
    if cloud:
        return _fsck_remote(ws, remote, chosen, repair=repair)
    from bale.parallel import map_batched

    if chosen is None:
        objs = [(o, False) for o in ws.store.oids()]
        objs += [(o, True) for o in ws.store.oids(legacy=True)]
    else:
        objs = [(oid, legacy) for oid, legacy in chosen if ws.store.exists(oid, legacy=legacy)]

    def run(batch: list[Obj]) -> list[tuple[Obj, str]]:
        return [(obj, ws.store.verify(obj[0], legacy=obj[1])) for obj in batch]

    bad = [(obj, actual) for obj, actual in map_batched(run, objs, jobs=ws.jobs, forked=True)
           if obj[0] != actual]  # fmt: skip
    corrupt = sorted((obj[0], actual) for obj, actual in bad)
    if not repair or not bad:
        return FsckResult(corrupt, [], [])
    for legacy in (False, True):
        ws.store.remove([obj[0] for obj, _ in bad if obj[1] is legacy], legacy=legacy)
    from bale.remotes import transfer

    try:
        _spec, backend = open_backend(ws, remote)
    except ConfigError:
        return FsckResult(corrupt, [], sorted(obj[0] for obj, _ in bad))  # no remote to ask
    try:
        done = transfer.fetch(ws.store, backend, [obj for obj, _ in bad], jobs=ws.jobs)
    finally:
        backend.close()
    repaired = set(done.transferred)
    return FsckResult(
        corrupt, sorted(repaired), sorted(obj[0] for obj, _ in bad if obj[0] not in repaired)
    )


def _fsck_remote(
    ws: Workspace, remote: str | None, chosen: list[Obj] | None, *, repair: bool
) -> FsckResult:
    from bale.remotes import transfer

    _spec, backend = open_backend(ws, remote)
    try:
        bad = transfer.verify(backend, chosen, scratch=ws.store, jobs=ws.jobs, progress=ws.progress)
        corrupt = [(oid, actual) for oid, actual in bad if actual != "missing"]  # status -c's job
        if not repair or not corrupt:
            return FsckResult(corrupt, [], [])
        legacy_of = dict(chosen) if chosen is not None else {}
        objs = [(oid, legacy_of.get(oid, False)) for oid, _ in corrupt]
        transfer.remove(backend, objs)
        good = [o for o in objs if ws.store.exists(*o[:1], legacy=o[1])
                and ws.store.verify(o[0], legacy=o[1]) == o[0]]  # fmt: skip
        done = transfer.push(ws.store, backend, good, jobs=ws.jobs)
    finally:
        backend.close()
    repaired = set(done.transferred)
    return FsckResult(
        corrupt, sorted(repaired), sorted(oid for oid, _ in corrupt if oid not in repaired)
    )
