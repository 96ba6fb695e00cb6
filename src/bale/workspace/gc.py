"""gc: delete cache (and remote) objects that no chosen revision uses."""

from __future__ import annotations

from typing import NamedTuple

from bale.errors import UnknownUseError
from bale.workspace.context import Workspace
from bale.workspace.sync import Obj, Scope, by_remote, open_backend
from bale.workspace.used import UsedOut, objects_of, used_outs


class GcPlan(NamedTuple):
    """Objects no chosen revision of any project uses: in the cache, and on
    each remote the outputs use (by remote name)."""

    local: list[Obj]
    remote: dict[str, list[Obj]]


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


def gc_plan(
    ws: Workspace, scope: Scope, *, projects: list[str], cloud: bool, remote: str | None
) -> GcPlan:
    """What gc would delete. With `cloud`, every remote this project's
    outputs use is listed (each output's own `remote:`, else `remote`, else
    the default); an object any chosen output uses is kept on all of them.

    Raises:
        BaleError: see `_used`.
        RemoteAccessError: a remote could not be listed; nothing is guessed.
    """
    used, own = _used(ws, scope, projects)
    local = [(o, False) for o in ws.store.oids()] + [(o, True) for o in ws.store.oids(legacy=True)]
    unused_remote: dict[str, list[Obj]] = {}
    if cloud:
        from bale.remotes import transfer

        for name in by_remote(own, remote):
            spec, backend = open_backend(ws, name)
            try:
                listed = transfer.list_objects(backend)
            finally:
                backend.close()
            unused_remote[spec.name] = sorted(o for o in listed if o not in used)
    return GcPlan(sorted(o for o in local if o not in used), unused_remote)


def gc_apply(ws: Workspace, plan: GcPlan) -> None:
    """Delete what `gc_plan` found, and the temporary files killed commands left."""
    for legacy in (False, True):
        ws.store.remove([o for o, lg in plan.local if lg == legacy], legacy=legacy)
    ws.store.clean_tmp()
    for name, objects in plan.remote.items():
        if not objects:
            continue
        from bale.remotes import transfer

        _spec, backend = open_backend(ws, name)
        try:
            transfer.remove(backend, objects)
        finally:
            backend.close()
