"""Synced areas: folders mirrored to a remote file by file, not versioned.

Each area's files sit under its prefix as they are named here, so any tool
can read them, with one index beside them (`.bale-sync.json`: each file's
md5 and size, and the folder's tree oid). Unchanged since the last push, an
area costs one walk answered by the state database and one read of the
index. Only changed files move; nothing is deleted without `delete`. A
pull keeps what was synced last in `.dvc/tmp/areas/`, so it can tell a file
changed here (kept, unless forced) from one changed on the remote (taken).
Everything in an index is untrusted: its paths are checked like a
manifest's, and each download is checked against its md5 before it lands.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import threading
from typing import Any, NamedTuple

from bale.errors import BaleError, ConfigError, RemoteObjectCorruptError, TargetError
from bale.formats.manifest import check_relpath
from bale.fsutil import atomic_write, is_temporary, remove_file, tmp_name
from bale.hashing.md5 import file_md5
from bale.registry.settings import Area
from bale.remotes.base import Backend
from bale.remotes.runner import retry, run_all
from bale.workspace.context import Workspace

INDEX = ".bale-sync.json"
Files = dict[str, tuple[str, int]]  # relpath -> (md5, size)


class AreaChanges(NamedTuple):
    area: str
    new: list[str]  # here, not on the remote
    modified: list[str]  # here and there, different
    remote_only: list[str]  # there, not here


class Moved(NamedTuple):
    area: str
    transferred: int
    deleted: int
    kept: list[str]  # local changes a pull left alone


def open_area_backend(ws: Workspace, area: Area) -> Backend:
    from bale.workspace.sync import open_backend

    _spec, backend = open_backend(ws, area.remote)
    return backend


def local_files(ws: Workspace, area: Area) -> tuple[str | None, Files]:
    """The area's tree oid and files now (hashed through the state)."""
    ws.check_inside(area.folder)
    if not os.path.isdir(ws.repo.abs(area.folder)):
        return None, {}
    listing = ws.listing(area.folder)
    current = ws.current(area.folder, need_entries=True, listing=listing)
    assert current is not None and current.tree is not None
    sizes = {entry.relpath: entry.size for entry in listing}
    return current.oid, {rel: (md5, sizes[rel]) for rel, md5 in current.tree.entries or []}


def read_index(backend: Backend, area: Area) -> tuple[str | None, Files] | None:
    """The remote's index of the area, or None when nothing was pushed.

    Raises:
        ConfigError: it is malformed (named with the remote and prefix).
    """
    chunks = backend.read_chunks(f"{area.prefix}/{INDEX}")
    try:
        data = b"".join(chunks)
    except FileNotFoundError:
        return None
    where = f"{backend.url}/{area.prefix}/{INDEX}"
    try:
        doc = json.loads(data)
        files = {check_relpath(rel): (str(md5), int(size))
                 for rel, (md5, size) in doc["files"].items()}  # fmt: skip
        tree = doc.get("tree")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ConfigError(f"{where} is not a sync index bale can read ({exc}); push the area "
                          "again with --delete to rewrite it") from exc  # fmt: skip
    return (tree if isinstance(tree, str) else None), files


def _write_index(
    ws: Workspace, backend: Backend, area: Area, tree: str | None, files: Files
) -> None:
    doc = {"format": 1, "tree": tree, "files": {rel: list(files[rel]) for rel in sorted(files)}}
    with ws.store.scratch() as folder:
        path = os.path.join(folder, INDEX)
        with open(path, "w", encoding="utf-8") as fobj:
            json.dump(doc, fobj, separators=(",", ":"))
        backend.put_file(path, f"{area.prefix}/{INDEX}")


def _state_path(ws: Workspace, area: Area) -> str:
    name = hashlib.md5(f"{area.remote}\0{area.prefix}\0{area.folder}".encode()).hexdigest()
    return os.path.join(ws.repo.tmp_dir, "areas", name + ".json")


def _last_synced(ws: Workspace, area: Area) -> Files:
    try:
        with open(_state_path(ws, area), encoding="utf-8") as fobj:
            return {rel: (md5, size) for rel, (md5, size) in json.load(fobj).items()}
    except (OSError, ValueError, TypeError):
        return {}  # never synced here, or a damaged record: every difference is a change here


def _remember(ws: Workspace, area: Area, files: Files) -> None:
    path = _state_path(ws, area)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write(path, json.dumps({r: list(v) for r, v in files.items()}).encode(), fsync=False)


def changes(ws: Workspace, area: Area, backend: Backend) -> AreaChanges:
    _tree, here = local_files(ws, area)
    index = read_index(backend, area)
    there = index[1] if index else {}
    return AreaChanges(
        area.folder,
        sorted(r for r in here if r not in there),
        sorted(r for r in here if r in there and there[r][0] != here[r][0]),
        sorted(r for r in there if r not in here),
    )


def _parallel(backend: Backend, items: list[str], work: Any, jobs: int | None) -> None:
    """`work(rel)` for each item on the backend's threads, retried while transient."""
    errors: list[BaseException] = []

    def one(rel: str, stop: threading.Event) -> None:
        retry(lambda: work(rel), stop)

    def done(_rel: str, _result: object, err: BaseException | None) -> None:
        if err is not None:
            errors.append(err)

    run_all(items, one, jobs=jobs or backend.default_jobs, on_result=done)
    if errors:
        raise errors[0]


def push_area(ws: Workspace, area: Area, *, delete: bool = False) -> Moved:
    """Upload what changed here; with `delete`, remove what is only on the remote."""
    backend = open_area_backend(ws, area)
    try:
        tree, here = local_files(ws, area)
        index = read_index(backend, area)
        if index is not None and tree is not None and index[0] == tree:
            _remember(ws, area, here)
            return Moved(area.folder, 0, 0, [])
        there = index[1] if index else {}
        upload = [rel for rel in sorted(here) if there.get(rel, ("",))[0] != here[rel][0]]
        stale = sorted(r for r in there if r not in here)
        base = ws.repo.abs(area.folder)

        def put(rel: str) -> None:
            backend.put_file(os.path.join(base, *rel.split("/")), f"{area.prefix}/{rel}")

        _parallel(backend, upload, put, ws.jobs)
        if delete and stale:
            backend.remove_many([f"{area.prefix}/{rel}" for rel in stale])
        kept = {} if delete else {rel: there[rel] for rel in stale}
        _write_index(ws, backend, area, tree if not kept else None, {**kept, **here})
        _remember(ws, area, here)
        return Moved(area.folder, len(upload), len(stale) if delete else 0, [])
    finally:
        backend.close()


def _remove_leftovers(base: str) -> None:
    """Remove the temporary files a killed pull left in the area: each
    download lands under `fsutil.tmp_name` and is renamed once checked."""
    for dirpath, _dirs, names in os.walk(base):
        for name in names:
            if is_temporary(name):
                remove_file(os.path.join(dirpath, name))


def pull_area(ws: Workspace, area: Area, *, delete: bool = False, force: bool = False) -> Moved:
    """Download what changed on the remote. A file changed here since the
    last sync is kept (named in `kept`) unless `force`; with `delete`, files
    the remote does not have are removed here.

    Raises:
        TargetError: nothing was ever pushed to the area.
        RemoteObjectCorruptError: a file does not match the md5 its index records.
    """
    backend = open_area_backend(ws, area)
    try:
        index = read_index(backend, area)
        if index is None:
            raise TargetError(f"area '{area.folder}' has nothing on {backend.url}/{area.prefix} "
                              "yet; run: bale sync push " + area.folder)  # fmt: skip
        _tree, there = index
        _remove_leftovers(ws.repo.abs(area.folder))
        _local_tree, here = local_files(ws, area)
        last = _last_synced(ws, area)
        wanted = [rel for rel in sorted(there) if here.get(rel, ("",))[0] != there[rel][0]]
        changed_here = [rel for rel in wanted
                        if rel in here and last.get(rel, ("",))[0] != here[rel][0]]  # fmt: skip
        # Changed here alone: the remote holds what was synced, nothing to pull.
        # Changed on both sides: kept, and said so (`force` takes the remote's).
        ahead = set() if force else {r for r in changed_here if last.get(r) == there[r]}
        kept = [] if force else [r for r in changed_here if r not in ahead]
        wanted = [rel for rel in wanted if rel not in kept and rel not in ahead]
        for rel in wanted:  # every destination checked before anything is written
            ws.check_inside(posixpath.join(area.folder, rel))
        base = ws.repo.abs(area.folder)

        def get(rel: str) -> None:
            dest = os.path.join(base, *rel.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = tmp_name(dest)
            try:
                md5 = backend.get_file(f"{area.prefix}/{rel}", tmp) or file_md5(tmp)
                if md5 != there[rel][0]:
                    raise RemoteObjectCorruptError(backend.url, there[rel][0], md5)
                os.replace(tmp, dest)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)

        _parallel(backend, wanted, get, ws.jobs)
        removed = 0
        if delete:
            for rel in sorted(r for r in here if r not in there):
                ws.check_inside(posixpath.join(area.folder, rel))
                os.unlink(os.path.join(base, *rel.split("/")))
                removed += 1
        # A kept file stays "changed here": the record keeps what was synced before.
        synced = {r: there[r] for r in there if r not in kept}
        _remember(ws, area, {**synced, **{r: last[r] for r in kept if r in last}})
        return Moved(area.folder, len(wanted), removed, kept)
    finally:
        backend.close()


def chosen_areas(areas: list[Area], names: list[str]) -> list[Area]:
    """The areas named (by folder), or all.

    Raises:
        BaleError: a name that is no area.
    """
    if not names:
        return areas
    by_name = {a.folder: a for a in areas}
    unknown = [n for n in names if n.strip("/") not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none (declare them in bale.yaml)"
        raise BaleError(f"'{unknown[0]}' is not a synced area; the areas: {known}")
    return [by_name[n.strip("/")] for n in names]
