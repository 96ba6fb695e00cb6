"""push, fetch and status -c: the workspace's side of remotes.

Which objects to move is decided here (from `.dvc` files, `dvc.lock` files and
git history); moving them is the transfer engine's job (`remotes.transfer`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from bale.errors import BaleError, ObjectMissingError
from bale.repo.remote_config import remote_spec
from bale.workspace.context import Presence, Workspace
from bale.workspace.used import Unreadable, UsedOut, objects_of, used_outs

if TYPE_CHECKING:
    import threading

    from bale.workspace.index import Index

Obj = tuple[str, bool]  # (oid, legacy)


class MissingObject(NamedTuple):
    """An object a command needed and the cache lacks; `path` is the output
    (or the file inside a folder output) that needs it."""

    oid: str
    path: str


class SyncResult:
    """What a push or fetch did: objects moved, objects that failed, objects
    the cache lacks, files of history that could not be read, and what was
    left out of the run cache and why (`warnings`)."""

    __slots__ = ("failed", "missing", "transferred", "unreadable", "warnings")

    def __init__(self) -> None:
        self.transferred = 0
        # (oid, why): objects missing from or corrupt on the remote, per object
        self.failed: list[tuple[str, BaleError]] = []
        self.missing: list[MissingObject] = []
        self.unreadable: list[Unreadable] = []
        self.warnings: list[str] = []


class Scope(NamedTuple):
    targets: list[str] | None = None
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False


def open_backend(ws: Workspace, remote: str | None):
    """The named remote's (or the default's) spec and an open backend for it.

    Raises:
        ConfigError: no such remote, no default, or no url.
        RemoteConfigError: its URL or options are wrong.
    """
    from bale.remotes import open_remote

    spec = remote_spec(ws.repo, remote)
    return spec, open_remote(spec.url, spec.options)


class Chosen(NamedTuple):
    """The outputs a scope picks, the paths its targets name (None: no
    targets), and the files of history that could not be read."""

    outs: list[UsedOut]
    picked: set[str] | None
    unreadable: list[Unreadable]


def chosen_outs(ws: Workspace, scope: Scope, *, for_push: bool = False) -> Chosen:
    """The chosen revisions' outputs the targets pick."""
    used = used_outs(
        ws, scope.targets, all_branches=scope.all_branches, all_tags=scope.all_tags,
        all_commits=scope.all_commits,
    )  # fmt: skip
    outs = used.outs
    picked = _target_paths(ws, scope.targets) if scope.targets else None
    if picked is not None:
        # A target limits every chosen revision, not only the workspace.
        outs = [u for u in outs if _parts(u.rel, picked) is not False]
    if for_push:
        outs = [u for u in outs if u.out.push]
    return Chosen(outs, picked, used.unreadable)


def _target_paths(ws: Workspace, targets: list[str]) -> set[str]:
    """The root-relative paths the targets name: as given, and the outputs (or
    paths inside outputs) the workspace's `.dvc` files resolve them to."""
    from bale.workspace.index import DVCFILE_SUFFIX, collect

    paths = set()
    for target in targets:
        rel = ws.repo.rel(target.partition(":")[0])
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


def objects_needed(ws: Workspace, outs: list[UsedOut], picked: set[str] | None) -> set[Obj]:
    """Every object the outputs need; a folder whose manifest is not in the
    cache counts with its manifest alone."""
    if picked is None:
        return objects_of(ws, outs)
    return set(_named(ws, outs, picked))


def _named(ws: Workspace, outs: list[UsedOut], picked: set[str] | None) -> dict[Obj, str]:
    """Every object the outputs need, with the path that needs it; a folder
    whose manifest is not in the cache counts with its manifest alone."""
    named: dict[Obj, str] = {}
    for u in outs:
        assert u.out.oid is not None
        named.setdefault((u.out.oid, u.out.legacy), u.rel)
        if u.out.is_dir:
            try:
                for relpath, md5 in _entries(ws, u, picked):
                    named.setdefault((md5, u.out.legacy), f"{u.rel}/{relpath}")
            except ObjectMissingError:
                continue
    return named


def by_remote(outs: list[UsedOut], remote: str | None) -> dict[str | None, list[UsedOut]]:
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
    """Run `step` once for each remote the chosen outputs use (`by_remote`)."""
    chosen = chosen_outs(ws, scope, for_push=for_push)
    result = SyncResult()
    result.unreadable = chosen.unreadable
    for name, group in by_remote(chosen.outs, remote).items():
        step(ws, group, chosen.picked, name, result)
    return result


def push(
    ws: Workspace, scope: Scope, *, remote: str | None = None, run_cache: bool = False
) -> SyncResult:
    """Upload what the chosen revisions use and their remotes lack; folders'
    manifests go last, so a remote never names a folder it cannot serve.
    With `run_cache`, the run cache too (`push_run_cache`)."""
    result = _each_remote(ws, scope, remote, _push_to, for_push=True)
    if run_cache:
        push_run_cache(ws, result, remote=remote)
    return result


def _push_to(
    ws: Workspace,
    outs: list[UsedOut],
    picked: set[str] | None,
    remote: str | None,
    result: SyncResult,
) -> None:
    from bale.remotes import transfer

    objects = objects_needed(ws, outs, picked)
    # Folders the state knows whole in the cache need no listing of it.
    whole = [u for u in outs if ws.known_whole(u.out)]
    present = objects_needed(ws, whole, picked) & objects if whole else set()
    rest = objects - present
    in_cache = {
        legacy: Presence(ws.store, legacy=legacy, expect=sum(o[1] is legacy for o in rest))
        for legacy in (False, True)
    }
    present |= {o for o in rest if o[0] in in_cache[o[1]]}
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
        # Not in the cache but on the remote (`add --to-remote`) is not missing.
        absent = objects - present
        if absent:
            absent -= transfer.present(backend, absent, jobs=ws.jobs, progress=ws.progress)
    finally:
        backend.close()
    if absent:
        names = _named(ws, outs, picked)
        result.missing += [MissingObject(o[0], names[o]) for o in sorted(absent)]


def fetch(
    ws: Workspace, scope: Scope, *, remote: str | None = None, run_cache: bool = False
) -> SyncResult:
    """Download into the cache what the chosen revisions use and the cache
    lacks, each output from its remote. An import whose data this
    repository's remote lacks (or that has no remote) is fetched from its
    source: a repository at the commit it is locked to, a URL as its `.dvc`
    file records it (`_fetch_url_imports`). With `run_cache`, the remote's
    run cache too (`fetch_run_cache`)."""
    from bale.errors import ConfigError
    from bale.workspace.index import load_index

    index = load_index(ws.repo)
    imports = index.imports
    sourced = imports.keys() | index.url_imports.keys()
    chosen = chosen_outs(ws, scope)
    partial = _partial_url_imports(ws, scope, index)
    result = SyncResult()
    result.unreadable = chosen.unreadable
    for name, group in by_remote(chosen.outs, remote).items():
        try:
            _fetch_from(ws, group, chosen.picked, name, result)
        except ConfigError:
            if (not group and not partial) or any(u.dvcfile not in sourced for u in group):
                raise
    imported = [u for u in chosen.outs if u.dvcfile in imports and not ws.in_cache(u.out)]
    if imported:
        _fetch_imports(ws, imported, imports, chosen.picked, result)
    lacking = {u.dvcfile for u in chosen.outs
               if u.dvcfile in index.url_imports and not ws.in_cache(u.out)}  # fmt: skip
    if lacking or partial:
        _fetch_url_imports(ws, sorted(lacking | set(partial)), index, result)
    if run_cache:
        fetch_run_cache(ws, result, remote=remote)
    return result


def _fetch_imports(
    ws: Workspace,
    outs: list[UsedOut],
    imports: dict[str, dict],
    picked: set[str] | None,
    result: SyncResult,
) -> None:
    """Fetch imports from their sources, at the commits they are locked to;
    what comes this way is no longer a failure. A target inside an imported
    folder fetches the folder's manifest and the files it names only."""
    from bale.external.imports import record_from
    from bale.external.sources import opened
    from bale.repo.clones import resolve_url

    for u in outs:
        dep = imports[u.dvcfile]
        url = resolve_url(dep["repo"]["url"], ws.repo.root)
        subs = _parts(u.rel, picked) if picked is not None else None
        with opened(url, dep["repo"].get("rev_lock"), store=ws.store, jobs=ws.jobs,
                    progress=ws.progress) as (_source, view):  # fmt: skip
            whole = view.pick(dep["path"])
            vo = whole.out
            if (
                isinstance(subs, list) and vo is not None and whole.sub is None
                and vo.out.oid == u.out.oid
            ):  # fmt: skip
                legacy = vo.out.legacy
                entries = [(p, m) for p, m in view.manifest(vo)
                           if any(p == s or p.startswith(s + "/") for s in subs)]  # fmt: skip
                view.fetch(vo, [(u.out.oid, legacy)] + [(m, legacy) for _, m in entries])
            else:
                record_from(ws, view, dep["path"], u.out.path)
            result.transferred += view.fetched
    _drop_recovered(ws, result)


def _partial_url_imports(ws: Workspace, scope: Scope, index: Index) -> list[str]:
    """The `--no-download` import-urls of the workspace the targets pick."""
    from bale.workspace.index import collect

    picked = collect(ws.repo, scope.targets, index=index)
    return sorted({t.dvcfile for t, _sub in picked
                   if t.dvcfile in index.url_imports and t.out.oid is None})  # fmt: skip


def _fetch_url_imports(ws: Workspace, rels: list[str], index: Index, result: SyncResult) -> None:
    """Fetch import-urls from their sources (`fetch_url`): those whose data
    no remote had (version-aware ones are never pushed), and `--no-download`
    ones, whose output is then recorded. A source that fails is one
    failure; the other imports go on."""
    from bale.external.import_url import fetch_url
    from bale.workspace.index import load_dvcfile

    for rel in rels:
        try:
            result.transferred += fetch_url(ws, rel, load_dvcfile(ws.repo, rel))
        except BaleError as err:
            result.failed.append((index.url_imports[rel]["path"], err))
    _drop_recovered(ws, result)


def _drop_recovered(ws: Workspace, result: SyncResult) -> None:
    """Forget the failures and missing objects that came from a source after all."""
    have = {oid for oid, _ in result.failed if ws.store.exists(oid)}
    result.failed = [(oid, why) for oid, why in result.failed if oid not in have]
    result.missing = [m for m in result.missing if not ws.store.exists(m.oid)]


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
                    assert u.out.oid is not None
                    result.missing.append(MissingObject(u.out.oid, u.rel))
        new = Presence(ws.store, legacy=False, expect=len(entries))
        old = Presence(ws.store, legacy=True, expect=len(entries))
        wanted = sorted(o for o in entries if o[0] not in (old if o[1] else new))
        done = transfer.fetch(ws.store, backend, wanted, jobs=ws.jobs, progress=ws.progress)
        result.transferred += len(done.transferred)
        result.failed += done.failed
    finally:
        backend.close()


def _run_outs(
    ws: Workspace, names: list[tuple[str, str]], result: SyncResult
) -> tuple[list[tuple[str, str]], list[UsedOut]]:
    """The runs `names` of the cache that can be read, and the outputs they
    record; a run that cannot be read is warned of and left out."""
    from bale.errors import DvcFileError
    from bale.pipeline import runcache

    readable = []
    outs = []
    for key, value in names:
        try:
            entry = runcache.read_entry(ws, key, value)
        except FileNotFoundError:
            continue
        except DvcFileError as err:
            result.warnings.append(f"{err}; left it out")
            continue
        readable.append((key, value))
        rel = runcache.entry_relpath(key, value)
        outs += [UsedOut(o.path, o._replace(cache=True), rel) for o in entry.outs]
    return readable, outs


def _remote_runs(backend, result: SyncResult) -> set[tuple[str, str]] | None:
    """(key, value) of every run under the remote's `runs/`; None (with a
    warning) for a remote that cannot be listed, which dvc refuses too."""
    from bale.pipeline import runcache
    from bale.remotes import transfer

    if backend.list_cost == float("inf"):
        result.warnings.append(
            f"remote '{backend.url}' cannot be listed (http), so it holds no run cache; "
            "the run cache was left out"
        )
        return None
    found = set()
    for stat in transfer.walk_source(backend, runcache.RUNS_DIR):
        parsed = runcache.parse_relpath(stat.relpath)
        if parsed is not None:
            found.add(parsed)
    return found


def push_run_cache(ws: Workspace, result: SyncResult, *, remote: str | None = None) -> None:
    """Upload the runs of the cache (`runs/`, dvc's layout) the remote lacks,
    after the objects they name that the cache holds, so another clone (or
    dvc, with `repro --pull`) can restore them. dvc uploads the runs alone.

    Raises:
        RemoteAccessError: the remote failed as a whole.
    """
    from bale.pipeline import runcache
    from bale.remotes.runner import retry, run_all

    names, outs = _run_outs(ws, runcache.local_entries(ws), result)
    if outs:
        objects = SyncResult()
        _push_to(ws, outs, None, remote, objects)  # what the cache lacks is left out
        result.transferred += objects.transferred
        result.failed += objects.failed
    _spec, backend = open_backend(ws, remote)
    try:
        on_remote = _remote_runs(backend, result)
        if on_remote is None:
            return
        todo = [n for n in names if n not in on_remote]

        def work(name: tuple[str, str], stop: threading.Event) -> None:
            path = runcache.entry_path(ws, *name)
            retry(lambda: backend.put_file(path, runcache.entry_relpath(*name)), stop)

        def done(name: tuple[str, str], value: object, err: BaseException | None) -> None:
            if err is None:
                result.transferred += 1
            else:
                result.failed.append((runcache.entry_relpath(*name), err))  # type: ignore[arg-type]

        run_all(todo, work, jobs=ws.jobs or backend.default_jobs, on_result=done)
    finally:
        backend.close()


def fetch_run_cache(ws: Workspace, result: SyncResult, *, remote: str | None = None) -> None:
    """Download the remote's runs the cache lacks, each checked against its
    names before it is kept (a run that is not is warned of, and nothing of
    it written), then the objects every run of the remote names that the
    cache lacks. Objects the remote lacks are no failure: dvc pushes runs
    without them; the runs cannot be restored until the objects come.

    Raises:
        RemoteAccessError: the remote failed as a whole.
    """
    from bale.errors import DvcFileError, RemoteObjectMissingError
    from bale.fsutil import remove_dead_leftovers, remove_file, tmp_name
    from bale.pipeline import runcache
    from bale.remotes.runner import retry, run_all

    _spec, backend = open_backend(ws, remote)
    try:
        on_remote = _remote_runs(backend, result)
        if on_remote is None:
            return
        names = sorted(on_remote)
        todo = [n for n in names if not os.path.exists(runcache.entry_path(ws, *n))]
        root = runcache.runs_root(ws)
        if todo:
            os.makedirs(root, exist_ok=True)
            remove_dead_leftovers(root)  # what a killed fetch of these left

        def work(name: tuple[str, str], stop: threading.Event) -> str:
            """`kept`, `gone` (removed since it was listed), or why it was ignored."""
            key, value = name
            rel = runcache.entry_relpath(key, value)
            dest = runcache.entry_path(ws, key, value)
            # Downloaded beside the runs and kept only once checked: nothing
            # of a bad entry is left, not even its folder.
            tmp = tmp_name(os.path.join(root, "fetch"))

            def get() -> None:
                remove_file(tmp)  # a retry starts from nothing
                backend.get_file(rel, tmp)

            try:
                retry(get, stop)
                with open(tmp, "rb") as fobj:
                    data = fobj.read()
                try:
                    runcache.parse_entry(data.decode("utf-8"), key=key, value=value,
                                         origin=f"{backend.url}/{rel}")  # fmt: skip
                except UnicodeDecodeError:
                    return f"run cache entry '{backend.url}/{rel}' is not text; ignored it"
                except DvcFileError as err:
                    return f"{err}; ignored it"
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                os.replace(tmp, dest)
            except FileNotFoundError as err:
                if err.filename == tmp:
                    raise
                return "gone"
            finally:
                remove_file(tmp)
            return "kept"

        def done(name: tuple[str, str], value: object, err: BaseException | None) -> None:
            if err is not None:
                result.failed.append((runcache.entry_relpath(*name), err))  # type: ignore[arg-type]
            elif value == "kept":
                result.transferred += 1
            elif value != "gone":
                result.warnings.append(str(value))

        run_all(todo, work, jobs=ws.jobs or backend.default_jobs, on_result=done)
    finally:
        backend.close()
    _names, outs = _run_outs(ws, names, SyncResult())  # the ignored ones were warned of
    if outs:
        objects = SyncResult()
        _fetch_from(ws, outs, None, remote, objects)
        result.transferred += objects.transferred
        result.failed += [f for f in objects.failed
                          if not isinstance(f[1], RemoteObjectMissingError)]  # fmt: skip


class CloudStatus(NamedTuple):
    """What `status -c` found: the remotes compared, `{path: 'new' | 'deleted'
    | 'missing'}` for objects not in sync (new: only in the cache, deleted:
    only on the remote, missing: in neither), and the files of history that
    could not be read (what they use is unknown)."""

    remotes: list[str]
    changes: dict[str, str]
    unreadable: list[Unreadable]


def cloud_status(ws: Workspace, scope: Scope, *, remote: str | None = None) -> CloudStatus:
    """Compare the cache with the remote each chosen output uses.

    A folder whose manifest the cache lacks is read from the remote's copy
    (fetched into the cache, verified, as dvc does), so its files are
    compared too; when neither holds it, the folder is 'missing'.
    """
    from bale.remotes import transfer

    chosen = chosen_outs(ws, scope)
    names: list[str] = []
    status: dict[str, str] = {}
    for name, group in by_remote(chosen.outs, remote).items():
        spec, backend = open_backend(ws, name)
        try:
            manifests = sorted(
                {
                    (u.out.oid, u.out.legacy)
                    for u in group
                    if u.out.is_dir and not ws.store.exists(u.out.oid, legacy=u.out.legacy)
                }
            )
            if manifests:
                transfer.fetch(ws.store, backend, manifests, jobs=ws.jobs)
            named = _named(ws, group, chosen.picked)
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
    return CloudStatus(names, dict(sorted(status.items())), chosen.unreadable)
