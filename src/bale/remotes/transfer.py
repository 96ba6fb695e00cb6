"""The one transfer engine: push, fetch, presence, listing, removal, verification.

Every command that moves or checks objects (push, pull, fetch, status -c, gc,
fsck, add --to-remote) calls these functions, and import-url reads its
sources' files through them too (`stat_source`, `walk_source`, `download`),
so concurrency, retries, existence checks, verification and progress are
written once:

- work runs on `jobs` threads or forked workers (`runner`); a failure that
  concerns one object (missing, corrupt) is recorded and the rest go on,
  while a failure of the remote itself (unreachable after retries,
  credentials refused, no bucket) stops the run and is raised;
- transient errors (connection refused or reset, 5xx, throttling) are retried
  with exponential backoff and jitter (`runner.retry`, the one policy);
- uploads appear under their final key only when whole (the backends' rule),
  and downloads enter the cache only through `ObjectStore.add_file`/`add_bytes`
  after their hash matched, so a rerun after a kill redoes only what is missing;
- which objects a remote has is found by listing its `XX/` prefix folders where
  that is cheaper than asking object by object, judged from one sample listing
  (`existence`).

`progress` is anything with `start(desc, total)`, `advance(n)` and `done()`;
nothing is drawn here.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from bale.errors import (
    BaleError,
    ObjectCorruptError,
    ObjectMissingError,
    RemoteAccessError,
    RemoteObjectCorruptError,
    RemoteObjectMissingError,
    TransferError,
)
from bale.formats.manifest import DIR_SUFFIX, manifest_oid
from bale.fsutil import is_temporary, remove_file, sync_filesystem
from bale.hashing.md5 import file_md5
from bale.odb.layout import oid_from_parts, oid_relpath, prefix_folders
from bale.odb.store import ObjectStore, object_digest
from bale.progress import NO_PROGRESS, Progress
from bale.remotes.base import Backend, FileSource, FileStat
from bale.remotes.existence import present_relpaths
from bale.remotes.runner import Item, retry, run_all, unique

T = TypeVar("T")


class TransferResult:
    """What a push or fetch did, by oid."""

    __slots__ = ("failed", "skipped", "transferred")

    def __init__(self) -> None:
        self.transferred: list[str] = []
        self.skipped: list[str] = []  # already at the destination
        self.failed: list[tuple[str, BaleError]] = []  # (oid, why)


def gave_up(err: RemoteAccessError, what: str) -> RemoteAccessError:
    """A copy of `err` to raise from it; when it ended the tries on one object
    (a transient error), naming that object (`what`), so the one line tells
    which object the remote kept failing on."""
    named = copy.copy(err)
    if err.transient:
        tries = "1 try" if err.attempts == 1 else f"{err.attempts} tries"
        named.problem = f"gave up on {what} after {tries}: {err.problem}"
        named.args = (f"remote {err.remote}: {named.problem}",)
    return named


def _transfer(
    todo: list[T],
    work: Callable[[T, threading.Event], object],
    result: TransferResult,
    *,
    oid_of: Callable[[T], str],
    desc: str,
    jobs: int,
    progress: Progress,
    read_ahead: Callable[[T], str | None] | None = None,
    forked: bool = False,
) -> TransferResult:
    """Run `work` over `todo`, recording each object as transferred or failed."""

    def done(item: T, value: object, err: BaseException | None) -> None:
        if err is None:
            result.transferred.append(oid_of(item))
        else:
            result.failed.append((oid_of(item), err))  # type: ignore[arg-type]
        progress.advance(1)

    progress.start(desc, len(todo))
    try:
        run_all(todo, work, jobs=jobs, on_result=done, read_ahead=read_ahead, forked=forked)
    finally:
        progress.done()
    return result


def upload(
    backend: Backend,
    sources: Iterable[tuple[str, str, bool]],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload `(local_path, oid, legacy)` files the remote lacks.

    For `add --to-remote` (files straight from the workspace) and, through
    `push`, for cache objects. The caller vouches that each file hashes to its oid.

    Raises:
        RemoteAccessError: the remote failed as a whole; what was uploaded stays.
    """
    progress = progress or NO_PROGRESS
    jobs = jobs or backend.default_jobs
    by_oid: dict[str, tuple[str, bool]] = {}
    for path, oid, legacy in sources:
        by_oid.setdefault(oid, (path, legacy))
    result = TransferResult()
    # A source that is gone fails in `work` (ObjectMissingError), not here:
    # no stat per file before the remote is even asked.
    wanted = list(by_oid)
    rel_of = {oid: oid_relpath(oid, legacy=by_oid[oid][1]) for oid in wanted}
    present = present_relpaths(backend, list(rel_of.values()), jobs=jobs, progress=progress)
    todo = []
    for oid in wanted:
        if rel_of[oid] in present:
            result.skipped.append(oid)
        else:
            todo.append(oid)
    todo.sort(key=rel_of.__getitem__)  # see fetch: a folder's objects together

    def work(oid: str, stop: threading.Event) -> None:
        path = by_oid[oid][0]
        try:
            retry(lambda: backend.put_file(path, rel_of[oid]), stop)
        except RemoteAccessError as err:
            raise gave_up(err, f"object {oid}") from err
        except FileNotFoundError as err:
            # Backends name the file differently (str, bytes, remote path):
            # the source is what was missing if it is missing now.
            if not os.path.exists(path):
                raise ObjectMissingError(oid, path) from err
            raise

    try:
        return _transfer(
            todo, work, result, oid_of=lambda oid: oid, desc="Uploading", jobs=jobs,
            progress=progress, read_ahead=lambda oid: by_oid[oid][0], forked=backend.local,
        )  # fmt: skip
    finally:
        root = backend.local_path("") if result.transferred else None
        if root is not None:
            # Durable before the caller uploads the manifests or writes the
            # files that name these objects (README, "Durability").
            sync_filesystem(root)


def upload_output(
    backend: Backend,
    sources: list[tuple[str, str, bool]],
    manifest: tuple[str, bytes] | None,
    *,
    scratch: ObjectStore,
    what: str,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Upload an output's files (`(local_path, oid, legacy)`) and then, once
    they all went up, its folder's manifest `(oid, bytes)`: a remote never
    names a folder it cannot serve. Returns how many objects were sent.
    The manifest is written for the upload in a scratch folder of `scratch`.

    Raises:
        TransferError: an upload failed (`what` names the output); the caller
            records nothing.
    """
    results = [upload(backend, sources, jobs=jobs, progress=progress)]
    if manifest is not None and not results[0].failed:
        oid, data = manifest
        with scratch.scratch() as folder:
            path = os.path.join(folder, "manifest")
            with open(path, "wb") as fobj:
                fobj.write(data)
            results.append(upload(backend, [(path, oid, False)], jobs=jobs))
    failed = [f for r in results for f in r.failed]
    if failed:
        bad, why = failed[0]
        raise TransferError(
            f"{len(failed)} object(s) of '{what}' failed to upload, e.g. {bad}: {why}; "
            "nothing was recorded; run the same command again"
        )
    return sum(len(r.transferred) for r in results)


def push(
    cache: ObjectStore,
    backend: Backend,
    oids: Iterable[Item],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload the cache objects `(oid, legacy)` the remote lacks.

    Objects missing from the cache are reported in `failed`, not raised.

    Raises:
        RemoteAccessError: the remote failed as a whole; rerunning resumes.
    """
    items = unique(oids)
    sources = [(cache.path(oid, legacy=legacy), oid, legacy) for oid, legacy in items]
    return upload(backend, sources, jobs=jobs, progress=progress)


def _store_verified(
    cache: ObjectStore,
    backend: Backend,
    src: str,
    oid: str,
    legacy: bool,
    *,
    own: bool = False,
    md5: str | None = None,
) -> None:
    """Put `src` into the cache as `oid` only if it hashes to `oid`; a file
    the caller `own`s (a download in the cache folder) is renamed, not copied,
    and `md5` is its digest if the download took it."""
    if oid.endswith(DIR_SUFFIX):
        # Manifests are small and hashed as written (no dos2unix, even legacy).
        with open(src, "rb") as fobj:
            data = fobj.read()
        actual = manifest_oid(data)
        if actual != oid:
            raise RemoteObjectCorruptError(backend.url, oid, actual)
        cache.add_bytes(oid, data, legacy=legacy)
        return
    try:
        if own:
            cache.move_in(src, oid, legacy=legacy, md5=md5)
        else:
            cache.add_file(src, legacy=legacy, expected=oid)
    except ObjectCorruptError as err:
        raise RemoteObjectCorruptError(backend.url, oid, err.actual) from err


def fetch(
    cache: ObjectStore,
    backend: Backend,
    oids: Iterable[Item],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Download the objects `(oid, legacy)` the cache lacks, verified.

    Each object is downloaded to a temporary file in the cache folder and enters
    the cache only if its content hashes to its oid; a corrupt or missing remote
    object is reported in `failed` (RemoteObjectCorruptError,
    RemoteObjectMissingError) and nothing of it is kept.

    Raises:
        RemoteAccessError: the remote failed as a whole; rerunning resumes.
    """
    progress = progress or NO_PROGRESS
    jobs = jobs or backend.default_jobs
    result = TransferResult()
    todo: list[Item] = []
    for oid, legacy in unique(oids):
        if cache.exists(oid, legacy=legacy):
            result.skipped.append(oid)
        else:
            todo.append((oid, legacy))
    made_root = bool(todo) and not os.path.isdir(cache.root)
    if todo:
        os.makedirs(cache.root, exist_ok=True)  # downloads land beside the objects
    # In name order, each worker writes its run of objects into one prefix
    # folder: creating 20,000 files this way took 0.33 s instead of 0.46 s.
    todo.sort(key=lambda item: oid_relpath(item[0], legacy=item[1]))

    def work(item: Item, stop: threading.Event) -> None:
        oid, legacy = item
        rel = oid_relpath(oid, legacy=legacy)
        direct = backend.local_path(rel)
        if direct is not None:
            # A folder remote: hash while copying straight into the cache.
            try:
                _store_verified(cache, backend, direct, oid, legacy)
            except RemoteAccessError:
                raise
            except FileNotFoundError as err:
                if err.filename != direct:
                    raise
                raise RemoteObjectMissingError(backend.url, oid) from err
            return
        tmp = cache.tmp_path("fetch")

        md5: list[str | None] = [None]

        def get() -> None:
            remove_file(tmp)  # a retry starts from nothing
            md5[0] = backend.get_file(rel, tmp)

        try:
            try:
                retry(get, stop)
            except RemoteAccessError as err:  # e.g. no such bucket: about the remote
                raise gave_up(err, f"object {oid}") from err
            except FileNotFoundError as err:
                if err.filename == tmp:
                    raise
                raise RemoteObjectMissingError(backend.url, oid) from err
            _store_verified(cache, backend, tmp, oid, legacy, own=True, md5=md5[0])
        finally:
            remove_file(tmp)

    try:
        return _transfer(
            todo,
            work,
            result,
            oid_of=lambda item: item[0],
            desc="Downloading",
            jobs=jobs,
            progress=progress,
            read_ahead=lambda item: backend.local_path(oid_relpath(item[0], legacy=item[1])),
            forked=backend.local,
        )
    finally:
        if result.transferred:
            cache.sync()  # trusted from now on (read-only): on disk first
        elif made_root:
            with contextlib.suppress(OSError):  # a fetch that got nothing leaves no cache
                os.rmdir(cache.root)


def present(
    backend: Backend,
    oids: Iterable[Item],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> set[Item]:
    """The `(oid, legacy)` objects the remote has (status -c).

    Raises:
        RemoteAccessError: the remote could not answer (never guessed as absent).
    """
    items = unique(oids)
    rel_of = {oid_relpath(oid, legacy=legacy): (oid, legacy) for oid, legacy in items}
    found = present_relpaths(
        backend, list(rel_of), jobs=jobs or backend.default_jobs, progress=progress or NO_PROGRESS
    )
    return {rel_of[rel] for rel in found}


def list_objects(
    backend: Backend,
    *,
    legacy: bool | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> set[Item]:
    """Every `(oid, legacy)` object on the remote, by listing its prefix folders
    (256 per layout; both layouts unless `legacy` picks one). For fsck -c.

    Temporary names left by killed uploads are not objects and are not listed.

    Raises:
        RemoteAccessError: a listing failed; nothing is guessed.
    """

    def names(prefix: str) -> list[tuple[str, float | None]]:
        return [(rel, None) for rel in backend.iter_prefix(prefix)]

    return set(_list_prefixes(backend, names, legacy, jobs, progress))


def list_object_times(
    backend: Backend,
    *,
    legacy: bool | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    leftovers: list[tuple[str, float | None]] | None = None,
) -> dict[Item, float | None]:
    """`list_objects`, each object with when it last changed on the remote
    (seconds since the epoch, None where the store did not say), from the same
    listings. For gc -c, which keeps what is younger than its grace period.

    With `leftovers`, the temporary files killed uploads left (`fsutil.tmp_name`:
    beside the objects, or in the root where the backend uploads from there)
    are appended to it with their times.

    Raises:
        RemoteAccessError: a listing failed; nothing is guessed.
    """

    def named(prefix: str) -> list[tuple[str, float | None]]:
        found = list(backend.iter_prefix_times(prefix))
        if leftovers is not None:
            leftovers.extend(f for f in found if is_temporary(f[0].rpartition("/")[2]))
        return found

    if leftovers is not None and getattr(backend, "uploads_from_root", False):
        root = retry(lambda: list(backend.iter_prefix_times("")), threading.Event())
        leftovers.extend(f for f in root if is_temporary(f[0]))
    return _list_prefixes(backend, named, legacy, jobs, progress)


def _list_prefixes(
    backend: Backend,
    list_one: Callable[[str], list[tuple[str, float | None]]],
    legacy: bool | None,
    jobs: int | None,
    progress: Progress | None,
) -> dict[Item, float | None]:
    """`list_one` over every prefix folder, retried; objects by `(oid, legacy)`."""
    progress = progress or NO_PROGRESS
    layouts = [False, True] if legacy is None else [legacy]
    prefixes: list[tuple[str, bool]] = []
    for old in layouts:
        prefixes += [(folder, old) for folder in prefix_folders(legacy=old)]
    found: dict[Item, float | None] = {}

    def work(task: tuple[str, bool], stop: threading.Event) -> list[tuple[str, float | None]]:
        return retry(lambda: list_one(task[0]), stop)

    def done(task: tuple[str, bool], value: object, err: BaseException | None) -> None:
        two = task[0][-2:]
        for rel, changed in value:  # type: ignore[attr-defined]
            oid = oid_from_parts(two, rel.rpartition("/")[2])
            if oid:
                found[(oid, task[1])] = changed
        progress.advance(1)

    progress.start("Listing remote", len(prefixes))
    try:
        run_all(prefixes, work, jobs=jobs or backend.default_jobs, on_result=done)
    finally:
        progress.done()
    return found


def remove(
    backend: Backend,
    oids: Iterable[Item],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Delete these objects from the remote (gc -c); absent ones are fine. Returns the count.

    Raises:
        RemoteAccessError: a deletion failed (e.g. permission denied).
    """
    progress = progress or NO_PROGRESS
    rels = [oid_relpath(oid, legacy=legacy) for oid, legacy in unique(oids)]
    batches = [rels[i : i + 250] for i in range(0, len(rels), 250)]

    def work(batch: list[str], stop: threading.Event) -> None:
        retry(lambda: backend.remove_many(batch), stop)

    def done(batch: list[str], value: object, err: BaseException | None) -> None:
        progress.advance(len(batch))

    progress.start("Removing", len(rels))
    try:
        run_all(batches, work, jobs=jobs or backend.default_jobs, on_result=done)
    finally:
        progress.done()
    return len(rels)


def verify(
    backend: Backend,
    oids: Iterable[Item] | None = None,
    *,
    scratch: ObjectStore,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> list[tuple[str, str]]:
    """Re-hash remote objects (fsck -r): `(oid, actual)` for each one whose content
    does not match its name, `(oid, "missing")` for a named one that is absent.

    Without `oids`, every object the remote lists is checked. Objects are
    downloaded to a scratch folder of `scratch` and deleted after hashing.

    Raises:
        RemoteAccessError: the remote failed as a whole.
    """
    progress = progress or NO_PROGRESS
    jobs = jobs or backend.default_jobs
    items = sorted(list_objects(backend, jobs=jobs)) if oids is None else unique(oids)
    bad: list[tuple[str, str]] = []

    def work(item: Item, stop: threading.Event) -> str:
        oid, legacy = item
        rel = oid_relpath(oid, legacy=legacy)
        direct = backend.local_path(rel)
        try:
            if direct is not None:
                return object_digest(direct, oid, legacy=legacy)
            else:
                tmp = os.path.join(folder, oid)

                def get() -> None:
                    remove_file(tmp)
                    backend.get_file(rel, tmp)

                try:
                    retry(get, stop)
                    return object_digest(tmp, oid, legacy=legacy)
                finally:
                    remove_file(tmp)
        except RemoteAccessError as err:
            raise gave_up(err, f"object {oid}") from err
        except FileNotFoundError:
            return "missing"

    def done(item: Item, value: object, err: BaseException | None) -> None:
        if value != item[0]:
            bad.append((item[0], str(value)))
        progress.advance(1)

    progress.start("Verifying remote", len(items))
    try:
        with scratch.scratch() as folder:
            run_all(items, work, jobs=jobs, on_result=done)
    finally:
        progress.done()
    return sorted(bad)


def stat_source(source: FileSource, relpath: str) -> FileStat:
    """`source.stat(relpath)`, retried while it fails transiently.

    Raises:
        FileNotFoundError: no file is there.
        RemoteAccessError: the store could not tell.
    """
    return retry(lambda: source.stat(relpath), threading.Event())


def walk_source(source: FileSource, prefix: str, *, versions: bool = False) -> list[FileStat]:
    """`source.walk(prefix)` as a list, the whole listing retried while it
    fails transiently.

    Raises:
        RemoteAccessError: the store could not list it.
    """
    return retry(lambda: list(source.walk(prefix, versions=versions)), threading.Event())


def download(
    cache: ObjectStore,
    source: FileSource,
    files: Sequence[tuple[str, str | None]],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Download files that are not objects (`(relpath, version_id)`, an
    import-url's source) into `cache`, each named by the md5 of the bytes
    written, as `fetch` stores objects; returns those md5s, in order.

    Raises:
        RemoteAccessError: the store failed, or a file went away while it was read.
    """
    progress = progress or NO_PROGRESS
    md5s: list[str] = [""] * len(files)
    os.makedirs(cache.root, exist_ok=True)  # downloads land beside the objects

    def work(index: int, stop: threading.Event) -> None:
        relpath, version_id = files[index]
        tmp = cache.tmp_path("fetch")
        taken: list[str | None] = [None]

        def get() -> None:
            remove_file(tmp)  # a retry starts from nothing
            taken[0] = source.get_file(relpath, tmp, version_id=version_id)

        try:
            try:
                retry(get, stop)
            except RemoteAccessError as err:
                raise gave_up(err, f"'{relpath}'") from err
            except FileNotFoundError as err:
                if err.filename == tmp:
                    raise
                gone = (
                    f"'{relpath}' has no version {version_id}"
                    if version_id is not None
                    else f"'{relpath}' went away while it was read; run the command again"
                )
                raise RemoteAccessError(source.url, gone) from err
            md5 = taken[0] or file_md5(tmp)
            cache.move_in(tmp, md5, md5=md5)
            md5s[index] = md5
        finally:
            remove_file(tmp)

    def done(index: int, value: object, err: BaseException | None) -> None:
        progress.advance(1)

    progress.start("Downloading", len(files))
    try:
        run_all(range(len(files)), work, jobs=jobs or source.default_jobs, on_result=done)
    finally:
        progress.done()
    return md5s
