"""push, fetch, pull, status -c, gc and fsck: the workspace's side of remotes.

Which objects to move is decided here (from `.dvc` files and git history);
moving them is the transfer engine's job (`remotes.transfer`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

from bale.errors import BaleError, ObjectMissingError
from bale.repo.remote_config import remote_spec
from bale.workspace.context import Presence, Workspace
from bale.workspace.used import UsedOut, objects_of, used_outs

Obj = tuple[str, bool]  # (oid, legacy)


class SyncResult:
    """What a push or fetch did: objects moved, objects that failed, and
    outputs whose objects the cache lacks."""

    __slots__ = ("failed", "missing", "transferred")

    def __init__(self) -> None:
        self.transferred = 0
        # (oid, why): objects missing from or corrupt on the remote, per object
        self.failed: list[tuple[str, BaleError]] = []
        self.missing: list[str] = []


class Scope(NamedTuple):
    targets: list[str] | None = None
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False


def open_backend(ws: Workspace, remote: str | None):
    from bale.remotes import open_remote

    spec = remote_spec(ws.repo, remote)
    return spec, open_remote(spec.url, spec.options)


def _outs(
    ws: Workspace, scope: Scope, *, for_push: bool = False
) -> tuple[list[UsedOut], set[str] | None]:
    """The chosen revisions' outputs the targets pick, and the paths the targets
    name (None: no targets, everything)."""
    outs = used_outs(
        ws, scope.targets, all_branches=scope.all_branches, all_tags=scope.all_tags,
        all_commits=scope.all_commits,
    )  # fmt: skip
    picked = _target_paths(ws, scope.targets) if scope.targets else None
    if picked is not None:
        # A target limits every chosen revision, not only the workspace.
        outs = [u for u in outs if _parts(u.rel, picked) is not False]
    return ([u for u in outs if u.out.push] if for_push else outs), picked


def _target_paths(ws: Workspace, targets: list[str]) -> set[str]:
    """The root-relative paths the targets name: as given, and the outputs (or
    paths inside outputs) the workspace's `.dvc` files resolve them to."""
    from bale.workspace.index import DVCFILE_SUFFIX, collect

    paths = set()
    for target in targets:
        rel = ws.repo.rel(target)
        if not (rel.endswith(DVCFILE_SUFFIX) and os.path.isfile(ws.repo.abs(rel))):
            paths.add(rel)
        for tracked, sub in collect(ws.repo, [target]):
            paths.add(f"{tracked.rel}/{sub}" if sub else tracked.rel)
    return paths


def _parts(rel: str, picked: set[str]) -> list[str] | bool | None:
    """How much of output `rel` the targets pick: None (all of it), the paths
    inside it they name (granular, as `dvc push data/sub`), or False (none)."""
    if any(p in ("", rel) or rel.startswith(p + "/") for p in picked):
        return None
    return [p[len(rel) + 1 :] for p in picked if p.startswith(rel + "/")] or False


def _entries(ws: Workspace, used: UsedOut, picked: set[str] | None) -> list[tuple[str, str]]:
    """A folder output's (relpath, md5) entries the targets pick.

    Raises:
        ObjectMissingError: the folder's manifest is not in the cache.
    """
    entries = ws.manifest(used.out)
    subs = _parts(used.rel, picked) if picked is not None else None
    if not isinstance(subs, list):
        return entries
    return [
        (path, md5)
        for path, md5 in entries
        if any(path == sub or path.startswith(sub + "/") for sub in subs)
    ]


def _objects(ws: Workspace, outs: list[UsedOut], picked: set[str] | None) -> set[Obj]:
    """Every object the outputs need; a folder whose manifest is not in the
    cache counts with its manifest alone."""
    if picked is None:
        return objects_of(ws, outs)
    objects: set[Obj] = set()
    for used in outs:
        assert used.out.oid is not None
        objects.add((used.out.oid, used.out.legacy))
        if used.out.is_dir:
            try:
                objects.update((md5, used.out.legacy) for _, md5 in _entries(ws, used, picked))
            except ObjectMissingError:
                continue
    return objects


def _by_remote(outs: list[UsedOut], remote: str | None) -> dict[str | None, list[UsedOut]]:
    """Outputs grouped by the remote each uses, as DVC does: the one its `.dvc`
    entry names (`remote:`), else `remote` (-r), else the default (None). With
    -r, outputs that name another remote are left out. With no outputs, the
    chosen remote still appears (empty), so its configuration is checked."""
    groups: dict[str | None, list[UsedOut]] = {}
    for used in outs:
        own = used.out.remote
        if remote and own and own != remote:
            continue
        groups.setdefault(own or remote, []).append(used)
    return groups or {remote: []}


Step = Callable[[Workspace, list[UsedOut], "set[str] | None", "str | None", SyncResult], None]


def _each_remote(
    ws: Workspace, scope: Scope, remote: str | None, step: Step, *, for_push: bool = False
) -> SyncResult:
    """Run `step` once for each remote the chosen outputs use (`_by_remote`)."""
    outs, picked = _outs(ws, scope, for_push=for_push)
    result = SyncResult()
    for name, group in _by_remote(outs, remote).items():
        step(ws, group, picked, name, result)
    return result


def push(ws: Workspace, scope: Scope, *, remote: str | None = None) -> SyncResult:
    """Upload what the chosen revisions use and their remotes lack; folders'
    manifests go last, so a remote never names a folder it cannot serve."""
    return _each_remote(ws, scope, remote, _push_to, for_push=True)


def _push_to(
    ws: Workspace,
    outs: list[UsedOut],
    picked: set[str] | None,
    remote: str | None,
    result: SyncResult,
) -> None:
    from bale.remotes import transfer

    missing_dirs = [
        u for u in outs if u.out.is_dir and not ws.store.exists(u.out.oid, legacy=u.out.legacy)
    ]
    objects = _objects(ws, outs, picked)
    # Folders the state knows whole in the cache need no listing of it.
    whole = [u for u in outs if ws.known_whole(u.out)]
    present = _objects(ws, whole, picked) & objects if whole else set()
    rest = objects - present
    in_cache = {
        legacy: Presence(ws.store, legacy=legacy, expect=sum(o[1] is legacy for o in rest))
        for legacy in (False, True)
    }
    present |= {o for o in rest if o[0] in in_cache[o[1]]}
    local_missing = sorted(o for o, _legacy in objects - present)
    files = {o for o in objects if not o[0].endswith(".dir")}
    dirs = objects - files
    _spec, backend = open_backend(ws, remote)
    try:
        for group in (files & present, dirs & present):
            done = transfer.push(
                ws.store, backend, sorted(group), jobs=ws.jobs, progress=ws.progress
            )
            result.transferred += len(done.transferred)
            result.failed += done.failed
    finally:
        backend.close()
    result.missing += local_missing + [u.rel for u in missing_dirs]


def fetch(ws: Workspace, scope: Scope, *, remote: str | None = None) -> SyncResult:
    """Download into the cache what the chosen revisions use and the cache
    lacks, each output from its remote."""
    return _each_remote(ws, scope, remote, _fetch_from)


def _fetch_from(
    ws: Workspace,
    outs: list[UsedOut],
    picked: set[str] | None,
    remote: str | None,
    result: SyncResult,
) -> None:
    from bale.remotes import transfer

    _spec, backend = open_backend(ws, remote)
    try:
        tops = {(u.out.oid, u.out.legacy) for u in outs}
        wanted = sorted(o for o in tops if not ws.store.exists(o[0], legacy=o[1]))
        done = transfer.fetch(ws.store, backend, wanted, jobs=ws.jobs, progress=ws.progress)
        result.transferred += len(done.transferred)
        result.failed += done.failed
        entries: set[Obj] = set()
        for u in outs:
            if u.out.is_dir:
                try:
                    entries.update((md5, u.out.legacy) for _, md5 in _entries(ws, u, picked))
                except ObjectMissingError:
                    result.missing.append(u.rel)
        new = Presence(ws.store, legacy=False, expect=len(entries))
        old = Presence(ws.store, legacy=True, expect=len(entries))
        wanted = sorted(o for o in entries if o[0] not in (old if o[1] else new))
        done = transfer.fetch(ws.store, backend, wanted, jobs=ws.jobs, progress=ws.progress)
        result.transferred += len(done.transferred)
        result.failed += done.failed
    finally:
        backend.close()


def cloud_status(
    ws: Workspace, scope: Scope, *, remote: str | None = None
) -> tuple[str, dict[str, str]]:
    """(remote names, {path: 'new' | 'missing' | 'deleted'}) for objects not in
    sync, each output against its remote: new = only in the cache, deleted =
    only on the remote, missing = in neither."""
    from bale.remotes import transfer

    outs, picked = _outs(ws, scope)
    names: list[str] = []
    status: dict[str, str] = {}
    for name, group in _by_remote(outs, remote).items():
        named: dict[Obj, str] = {}
        for u in group:
            named[(u.out.oid, u.out.legacy)] = u.rel
            if u.out.is_dir:
                try:
                    for relpath, md5 in _entries(ws, u, picked):
                        named.setdefault((md5, u.out.legacy), f"{u.rel}/{relpath}")
                except ObjectMissingError:
                    pass
        spec, backend = open_backend(ws, name)
        try:
            on_remote = transfer.present(backend, sorted(named), jobs=ws.jobs)
        finally:
            backend.close()
        names.append(spec.name)
        for obj, path in named.items():
            in_cache = ws.store.exists(obj[0], legacy=obj[1])
            remote_has = obj in on_remote
            if in_cache and not remote_has:
                status[path] = "new"
            elif remote_has and not in_cache:
                status[path] = "deleted"
            elif not in_cache and not remote_has:
                status[path] = "missing"
    return "', '".join(names), dict(sorted(status.items()))


def _used_objects(ws: Workspace, scope: Scope, projects: list[str]) -> set[Obj]:
    """What the chosen revisions of this project and of `projects` use. Each
    project's folders are read from its own cache (it may share only the remote).

    Raises:
        BaleError: a folder's manifest is not in its project's cache.
    """
    from bale.repo.repository import Repo

    used: set[Obj] = set()
    for project in [None, *projects]:
        w = ws if project is None else Workspace(Repo.open(project))
        try:
            outs = used_outs(
                w, None, all_branches=scope.all_branches, all_tags=scope.all_tags,
                all_commits=scope.all_commits,
            )  # fmt: skip
            for u in outs:
                if u.out.is_dir and not w.store.exists(u.out.oid, legacy=u.out.legacy):
                    where = "" if project is None else f" in project '{project}'"
                    raise BaleError(
                        f"the manifest of '{u.rel}'{where} ({u.out.oid}) is not in its cache, "
                        "so gc cannot tell which files it keeps; run: bale fetch "
                        f"(with the same -a/-T/-A){where} first"
                    )
            used |= objects_of(w, outs)
        finally:
            if w is not ws:
                w.close()
    return used


def gc_plan(
    ws: Workspace, scope: Scope, *, projects: list[str], cloud: bool, remote: str | None
) -> tuple[list[Obj], list[Obj]]:
    """(cache objects, remote objects) no chosen revision of any project uses."""
    used = _used_objects(ws, scope, projects)
    local = [(o, False) for o in ws.store.oids()] + [(o, True) for o in ws.store.oids(legacy=True)]
    unused_local = sorted(o for o in local if o not in used)
    unused_remote: list[Obj] = []
    if cloud:
        from bale.remotes import transfer

        _spec, backend = open_backend(ws, remote)
        try:
            remote_objs = transfer.list_objects(backend)
        finally:
            backend.close()
        unused_remote = sorted(o for o in remote_objs if o not in used)
    return unused_local, unused_remote


def gc_apply(
    ws: Workspace, local: list[Obj], remote_objs: list[Obj], *, remote: str | None
) -> None:
    for legacy in (False, True):
        ws.store.remove([o for o, lg in local if lg == legacy], legacy=legacy)
    ws.store.clean_tmp()
    if remote_objs:
        from bale.remotes import transfer

        _spec, backend = open_backend(ws, remote)
        try:
            transfer.remove(backend, remote_objs)
        finally:
            backend.close()


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
        outs, picked = _outs(ws, Scope(targets))
        chosen = sorted(_objects(ws, outs, picked))
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


def relpath(ws: Workspace, rel: str) -> str:
    return os.path.relpath(ws.repo.abs(rel))


def add_to_remote(
    ws: Workspace, targets: list[str], *, remote: str | None = None, use_glob: bool = False
) -> tuple[list, int]:
    """`add --to-remote`: upload the targets' content straight to the remote,
    without keeping a cache copy, then track them as `add` does.

    The data goes up first, so a `.dvc` file never names content the remote
    lacks. Returns (what add recorded, objects uploaded).
    """
    import glob as globlib
    import tempfile

    from bale.errors import TargetNotFoundError
    from bale.hashing.tree import hash_tree
    from bale.hashing.walk import stat_file
    from bale.remotes import transfer
    from bale.workspace.add import add

    if use_glob:
        targets = [m for t in targets for m in sorted(globlib.glob(t, recursive=True))] or targets
    _spec, backend = open_backend(ws, remote)
    uploaded = 0
    try:
        sources: list[tuple[str, str, bool]] = []
        manifests: list[tuple[str, bytes]] = []
        for target in targets:
            rel = ws.repo.rel(target)
            path = ws.repo.abs(rel)
            if os.path.isdir(path):
                tree = hash_tree(path, rel, ws.listing(rel), ws.state, need_entries=True)
                assert tree.entries is not None and tree.manifest is not None
                sources += [(os.path.join(path, p), md5, False) for p, md5 in tree.entries]
                manifests.append((tree.oid, tree.manifest))
            else:
                entry = stat_file(path)
                if entry is None:
                    raise TargetNotFoundError(target)
                sources.append((path, ws.file_md5(rel, entry, legacy=False), False))
        done = transfer.upload(backend, sources, jobs=ws.jobs, progress=ws.progress)
        with tempfile.TemporaryDirectory(prefix="bale-manifests-") as tmp:
            files = []
            for oid, data in manifests:
                with open(os.path.join(tmp, oid), "wb") as fobj:
                    fobj.write(data)
                files.append((os.path.join(tmp, oid), oid, False))
            done_dirs = transfer.upload(backend, files, jobs=ws.jobs)
        failed = done.failed + done_dirs.failed
        if failed:
            oid, why = failed[0]
            raise BaleError(f"upload of {len(failed)} object(s) failed, e.g. {oid}: {why}")
        uploaded = len(done.transferred) + len(done_dirs.transferred)
    finally:
        backend.close()
    return add(ws, targets, no_commit=True), uploaded
