"""gc: delete cache (and remote) objects that no chosen revision uses.

The grace period: an object that changed less than `grace` seconds ago is
never deleted from a remote, nor from a cache other repositories share
(`cache.dir` set). Another clone may have pushed it a moment ago for a
commit it has not pushed yet, which this one's revisions cannot know of; the
repository lock cannot help there, since that clone has its own. A
repository's own `.dvc/cache` has only its own writers, which the lock keeps
out while gc runs, so there gc deletes at once, as dvc does. Ages come from
the remote's listings (its clock, so a clock far off shortens or stretches
the period) and the cache's ctimes.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

from bale.errors import UnknownUseError
from bale.workspace.context import Workspace
from bale.workspace.sync import Obj, Scope, by_remote, open_backend
from bale.workspace.used import UsedOut, objects_of, used_outs

GRACE = 3600.0  # seconds: one hour, the default grace period


class GcPlan(NamedTuple):
    """Objects no chosen revision of any project uses: in the cache, and on
    each remote the outputs use (by remote name); `young`, how many more were
    kept for having changed within the grace period; `cutoff`, the time
    (seconds since the epoch) before which a thing counts as old; `leftovers`,
    the temporary files killed uploads left on each remote, older than that."""

    local: list[Obj]
    remote: dict[str, list[Obj]]
    young: int
    cutoff: float | None
    leftovers: dict[str, list[str]]


def _used(ws: Workspace, scope: Scope, projects: list[str]) -> tuple[set[Obj], list[UsedOut]]:
    """What the chosen revisions of this project and of `projects` use (and
    this project's outputs). Each project's folders are read from its own
    cache (it may share only the remote).

    Raises:
        BaleError: a folder's manifest is not in its project's cache, or a
            file of some revision could not be read: what it uses is unknown,
            so nothing may be deleted.
    """
    from bale.repo.repository import Repo

    used: set[Obj] = set()
    own: list[UsedOut] = []
    for project in [None, *projects]:
        w = ws if project is None else Workspace(Repo.open(project))
        where = "" if project is None else f" in project '{project}'"
        try:
            found = used_outs(
                w, None, all_branches=scope.all_branches, all_tags=scope.all_tags,
                all_commits=scope.all_commits,
            )  # fmt: skip
            if found.unreadable:
                raise UnknownUseError(
                    f"gc cannot tell which objects {found.unreadable[0]}{where} uses, so "
                    "nothing was deleted; fix it, or choose revisions without it"
                )
            for u in found.outs:
                if u.out.is_dir and not w.store.exists(u.out.oid, legacy=u.out.legacy):
                    raise UnknownUseError(
                        f"the manifest of '{u.rel}'{where} ({u.out.oid}) is not in its cache, "
                        "so gc cannot tell which files it keeps; run: bale fetch "
                        f"(with the same -a/-T/-A){where} first"
                    )
            used |= objects_of(w, found.outs)
            if project is None:
                own = found.outs
        finally:
            if w is not ws:
                w.close()
    return used, own


def shared_cache(ws: Workspace) -> bool:
    """Whether the cache may have writers this repository's lock does not stop:
    it is not the repository's own `.dvc/cache`."""
    own = os.path.join(ws.repo.dvc_dir, "cache")
    return os.path.realpath(ws.store.root) != os.path.realpath(own)


def gc_plan(
    ws: Workspace,
    scope: Scope,
    *,
    projects: list[str],
    cloud: bool,
    remote: str | None,
    grace: float = GRACE,
) -> GcPlan:
    """What gc would delete. With `cloud`, every remote this project's
    outputs use is listed (each output's own `remote:`, else `remote`, else
    the default); an object any chosen output uses is kept on all of them.
    Unused objects of a remote or a shared cache that changed less than
    `grace` seconds ago (or at an unknown time) are kept and counted.

    Raises:
        BaleError: see `_used`.
        RemoteAccessError: a remote could not be listed; nothing is guessed.
    """
    used, own = _used(ws, scope, projects)
    cutoff = time.time() - grace if grace > 0 else None
    young = 0
    local = [(o, False) for o in ws.store.oids()] + [(o, True) for o in ws.store.oids(legacy=True)]
    unused_local = sorted(o for o in local if o not in used)
    if cutoff is not None and shared_cache(ws):
        old = [o for o in unused_local if ws.store.changed(o[0], legacy=o[1]) < cutoff]
        young += len(unused_local) - len(old)
        unused_local = old
    unused_remote: dict[str, list[Obj]] = {}
    leftovers: dict[str, list[str]] = {}
    if cloud:
        from bale.remotes import transfer

        for name in by_remote(own, remote):
            spec, backend = open_backend(ws, name)
            temporary: list[tuple[str, float | None]] = []
            try:
                listed = transfer.list_object_times(backend, leftovers=temporary)
            finally:
                backend.close()
            leftovers[spec.name] = sorted(
                rel for rel, changed in temporary
                if cutoff is None or (changed is not None and changed < cutoff)
            )  # fmt: skip
            unused = [(o, changed) for o, changed in listed.items() if o not in used]
            old = sorted(
                o
                for o, changed in unused
                if cutoff is None or (changed is not None and changed < cutoff)
            )
            young += len(unused) - len(old)
            unused_remote[spec.name] = old
    return GcPlan(unused_local, unused_remote, young, cutoff, leftovers)


def gc_apply(ws: Workspace, plan: GcPlan) -> None:
    """Delete what `gc_plan` found, and the temporary files killed commands left
    (in a shared cache, only those older than the plan's grace period)."""
    for legacy in (False, True):
        ws.store.remove([o for o, lg in plan.local if lg == legacy], legacy=legacy)
    ws.store.clean_tmp(changed_before=plan.cutoff if shared_cache(ws) else None)
    for name in plan.remote.keys() | plan.leftovers.keys():
        objects, leftovers = plan.remote.get(name, []), plan.leftovers.get(name, [])
        if not objects and not leftovers:
            continue
        from bale.remotes import transfer

        _spec, backend = open_backend(ws, name)
        try:
            transfer.remove(backend, objects)
            if leftovers:
                backend.remove_many(leftovers)  # never objects: nothing to retry for
        finally:
            backend.close()
