"""The one transfer engine: push, fetch, status, listing, removal, verification.

Every command that moves or checks objects (push, pull, fetch, status -c, gc,
fsck, add --to-remote) calls these functions, so concurrency, retries,
existence checks, verification and progress are written once:

- work runs on `jobs` threads (the backend's default when not given); a
  failure that concerns one object (missing, corrupt) is recorded and the rest
  go on, while a failure of the remote itself (unreachable after retries,
  credentials refused, no bucket) stops the run and is raised;
- transient errors (connection refused or reset, 5xx, throttling) are retried
  with exponential backoff and jitter;
- uploads appear under their final key only when whole (the backends' rule),
  and downloads enter the cache only through `ObjectStore.add_file`/`add_bytes`
  after their hash matched, so a rerun after a kill redoes only what is missing;
- which objects a remote has is found by listing its `XX/` prefix folders where
  that is cheaper than asking object by object, judged from one sample listing
  (see `_present`).

`progress` is anything with `start(desc, total)`, `advance(n)` and `done()`;
nothing is drawn here.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import random
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, TypeVar

from bale.errors import (
    BaleError,
    ObjectCorruptError,
    ObjectMissingError,
    RemoteAccessError,
    RemoteObjectCorruptError,
    RemoteObjectMissingError,
)
from bale.fsutil import remove_file, sync_filesystem, tmp_name
from bale.hashing.md5 import file_md5
from bale.odb.layout import FILES_DIR, oid_from_parts, oid_relpath
from bale.odb.store import ObjectStore
from bale.parallel import FORK_MIN, READ_AHEAD_MIN, ReadAhead, run_forked
from bale.progress import NO_PROGRESS, Progress
from bale.remotes.base import Backend

T = TypeVar("T")
Item = tuple[str, bool]  # (oid, legacy)
DIR_SUFFIX = ".dir"
ATTEMPTS = 4  # one try and three retries: about 3 s of backoff in all
# Forked workers take slices of a sixteenth of their share: runs of 64 taken in
# turn put both workers into one prefix folder, each creation waiting on the
# other's lock on it (perf, 100,000 objects: 3% of the time spinning, 17% when
# the disk was slow to allocate inodes).
SLICES_PER_JOB = 16
FIRST_DELAY = 0.25
# Errors about one object: recorded in `failed`; any other error stops the run.
PER_OBJECT = (ObjectMissingError, RemoteObjectMissingError, ObjectCorruptError)


class TransferResult:
    """What a push or fetch did, by oid."""

    __slots__ = ("failed", "skipped", "transferred")

    def __init__(self) -> None:
        self.transferred: list[str] = []
        self.skipped: list[str] = []  # already at the destination
        self.failed: list[tuple[str, BaleError]] = []  # (oid, why)

    @property
    def ok(self) -> bool:
        return not self.failed


class RemoteStatus(NamedTuple):
    missing_on_remote: set[str]
    missing_locally: set[str]


# -- running work ---------------------------------------------------------------


def _retry(op: Callable[[], T], stop: threading.Event) -> T:
    """`op()`, retried with backoff while it fails transiently."""
    delay = FIRST_DELAY
    for attempt in range(ATTEMPTS):
        try:
            return op()
        except RemoteAccessError as err:
            if not err.transient or attempt == ATTEMPTS - 1 or stop.is_set():
                raise
        stop.wait(delay * random.uniform(0.5, 1.5))
        delay *= 3
    raise AssertionError("unreachable")


def _run(
    items: Sequence[T],
    work: Callable[[T, threading.Event], object],
    *,
    jobs: int,
    on_result: Callable[[T, object, BaseException | None], None],
    read_ahead: Callable[[T], str | None] | None = None,
    forked: bool = False,
) -> None:
    """`work(item, stop)` on `jobs` threads; `on_result` is called under a lock.

    A PER_OBJECT error goes to `on_result`; any other error stops the workers
    (in-flight items finish) and is raised here once they have. `read_ahead`
    names the local file `work` reads for an item, if any (`ReadAhead`).
    `forked`: `work` only reads and writes local files, so many items may go
    to forked processes instead (`bale.forks`).
    """
    if not items:
        return
    # Workers take runs of neighbouring items (sorted oids share a prefix
    # folder), so two threads seldom write into one folder at a time; runs
    # stay short enough that the last ones do not leave threads idle long.
    run = max(1, min(64, len(items) // (jobs * 8)))
    if forked and jobs > 1 and len(items) >= FORK_MIN:
        from bale import forks

        if forks.usable():
            _run_forked(items, work, jobs, on_result, read_ahead, run)
            return
    lock = threading.Lock()
    stop = threading.Event()
    chunks = iter(range(0, len(items), run))
    fatal: list[BaseException] = []

    def worker() -> None:
        while not stop.is_set():
            with lock:
                start = next(chunks, None)
            if start is None:
                return
            for item in items[start : start + run]:
                if stop.is_set():
                    return
                try:
                    value = work(item, stop)
                except PER_OBJECT as err:
                    with lock:
                        on_result(item, None, err)
                except BaseException as err:
                    with lock:
                        fatal.append(err)
                    stop.set()
                    return
                else:
                    with lock:
                        on_result(item, value, None)

    threads = [
        threading.Thread(target=worker, name="bale-transfer", daemon=True)
        for _ in range(max(1, min(jobs, len(items))))
    ]
    paths = None
    if read_ahead is not None and len(items) >= READ_AHEAD_MIN:
        paths = map(read_ahead, items)
    with ReadAhead(paths):
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException:  # Ctrl-C: let in-flight transfers end, start no more
            stop.set()
            for thread in threads:
                thread.join()
            raise
    if fatal:
        raise fatal[0]


def _run_forked(
    items: Sequence[T],
    work: Callable[[T, threading.Event], object],
    jobs: int,
    on_result: Callable[[T, object, BaseException | None], None],
    read_ahead: Callable[[T], str | None] | None,
    run: int,
) -> None:
    """`_run` in forked workers: each sends its slice's outcomes back."""
    from bale.forks import MAX_SLICES

    stop = threading.Event()  # a worker's own: retries in it end with it

    def outcomes(chunk: Sequence[T]) -> list[tuple[object, BaseException | None]]:
        out: list[tuple[object, BaseException | None]] = []
        for item in chunk:
            try:
                out.append((work(item, stop), None))
            except PER_OBJECT as err:
                out.append((None, err))
        return out

    size = max(run, -(-len(items) // MAX_SLICES), len(items) // (jobs * SLICES_PER_JOB))
    slices = [items[i : i + size] for i in range(0, len(items), size)]

    def on_slice(index: int, outs: list[tuple[object, BaseException | None]]) -> None:
        for item, (value, err) in zip(slices[index], outs, strict=True):
            on_result(item, value, err)

    run_forked(outcomes, slices, jobs=jobs, on_slice=on_slice, read_ahead=read_ahead)


def _unique(oids: Iterable[Item]) -> list[Item]:
    seen: dict[str, bool] = {}
    for oid, legacy in oids:
        seen.setdefault(oid, legacy)
    return list(seen.items())


# -- existence ----------------------------------------------------------------


def _list_cost(backend: Backend, names: int) -> float:
    """What listing a folder of `names` names costs, in single-object checks."""
    pages = max(1, math.ceil(names / backend.page_size))
    return pages * backend.list_cost + names * backend.name_cost


def _list_bounded(backend: Backend, prefix: str, budget: float) -> set[str] | None:
    """Names under `prefix`, or None as soon as listing costs more than `budget`."""
    names: set[str] = set()
    for rel in backend.iter_prefix(prefix):
        names.add(rel)
        if _list_cost(backend, len(names)) > budget:
            return None
    return names


def _present(
    backend: Backend, relpaths: Sequence[str], *, jobs: int, progress: Progress
) -> set[str]:
    """Which of `relpaths` the remote has.

    Objects are grouped by prefix folder (`files/md5/ab`). Asking costs 1 per
    object; listing a folder costs `list_cost` per page plus `name_cost` per
    name (see `_list_cost`). The fullest folder is listed first as a sample,
    giving up (and asking object by object) as soon as that costs more than
    asking would; its size estimates every folder's, and each folder is then
    listed only where that is cheaper for the objects asked about it. So ten
    objects never cause a listing, an empty or small remote is listed for a
    few thousand, and a huge remote is not.
    """
    found: set[str] = set()
    if not relpaths:
        return found
    groups: dict[str, list[str]] = {}
    for rel in relpaths:
        groups.setdefault(rel.rpartition("/")[0], []).append(rel)
    stop = threading.Event()
    cost = backend.list_cost
    to_ask: list[str] = []
    to_list: list[tuple[str, list[str]]] = []
    progress.start("Querying remote", len(relpaths))
    sample = max(groups, key=lambda p: len(groups[p]))
    # A sample may waste up to one full page; sample only when that is small
    # beside asking about every object.
    worth_sampling = len(relpaths) > 2 * _list_cost(backend, backend.page_size)
    if math.isinf(cost) or not worth_sampling or len(groups[sample]) <= _list_cost(backend, 0):
        to_ask = list(relpaths)
    else:
        rels = groups.pop(sample)
        names = _retry(lambda: _list_bounded(backend, sample, len(rels)), stop)
        if names is None:
            to_ask = list(relpaths)  # the remote is big: ask object by object
            groups = {}
        else:
            found.update(rel for rel in rels if rel in names)
            progress.advance(len(rels))
            estimate = _list_cost(backend, len(names))
            for prefix, group in groups.items():
                if len(group) > estimate:
                    to_list.append((prefix, group))
                else:
                    to_ask.extend(group)
    batch = max(1, min(64, math.ceil(len(to_ask) / max(1, jobs))))
    tasks: list[tuple[str, list[str]] | list[str]] = list(to_list)
    tasks += [to_ask[i : i + batch] for i in range(0, len(to_ask), batch)]

    def work(task: tuple[str, list[str]] | list[str], stop: threading.Event) -> list[str]:
        if isinstance(task, tuple):
            prefix, group = task
            names = _retry(lambda: _list_bounded(backend, prefix, len(group)), stop)
            if names is not None:
                return [rel for rel in group if rel in names]
            rels: Sequence[str] = group  # bigger than the sample said: ask instead
        else:
            rels = task
        return sorted(_retry(lambda: backend.exists_many(rels), stop))

    def done(task: tuple[str, list[str]] | list[str], value: object, err: object) -> None:
        found.update(value)  # type: ignore[arg-type]
        progress.advance(len(task[1]) if isinstance(task, tuple) else len(task))

    _run(tasks, work, jobs=jobs, on_result=done)
    progress.done()
    return found


# -- public operations ------------------------------------------------------------


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
        _run(todo, work, jobs=jobs, on_result=done, read_ahead=read_ahead, forked=forked)
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
    present = _present(backend, list(rel_of.values()), jobs=jobs, progress=progress)
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
            _retry(lambda: backend.put_file(path, rel_of[oid]), stop)
        except RemoteAccessError:
            raise
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
    items = _unique(oids)
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
        actual = hashlib.md5(data, usedforsecurity=False).hexdigest() + DIR_SUFFIX
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
    for oid, legacy in _unique(oids):
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
        tmp = tmp_name(os.path.join(cache.root, "fetch"))

        md5: list[str | None] = [None]

        def get() -> None:
            remove_file(tmp)  # a retry starts from nothing
            md5[0] = backend.get_file(rel, tmp)

        try:
            try:
                _retry(get, stop)
            except RemoteAccessError:
                raise  # e.g. no such bucket: about the remote, not this object
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
    items = _unique(oids)
    rel_of = {oid_relpath(oid, legacy=legacy): (oid, legacy) for oid, legacy in items}
    found = _present(
        backend, list(rel_of), jobs=jobs or backend.default_jobs, progress=progress or NO_PROGRESS
    )
    return {rel_of[rel] for rel in found}


def status(
    cache: ObjectStore,
    backend: Backend,
    oids: Iterable[Item],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> RemoteStatus:
    """Which objects are missing on the remote, and which in the cache.

    Raises:
        RemoteAccessError: the remote could not answer (never guessed as absent).
    """
    items = _unique(oids)
    on_remote = present(backend, items, jobs=jobs, progress=progress)
    return RemoteStatus(
        missing_on_remote={oid for oid, legacy in items if (oid, legacy) not in on_remote},
        missing_locally={oid for oid, legacy in items if not cache.exists(oid, legacy=legacy)},
    )


def list_objects(
    backend: Backend,
    *,
    legacy: bool | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> set[Item]:
    """Every `(oid, legacy)` object on the remote, by listing its prefix folders
    (256 per layout; both layouts unless `legacy` picks one). For gc -c.

    Temporary names left by killed uploads are not objects and are not listed.

    Raises:
        RemoteAccessError: a listing failed; nothing is guessed.
    """
    progress = progress or NO_PROGRESS
    layouts = [False, True] if legacy is None else [legacy]
    prefixes: list[tuple[str, bool]] = []
    for old in layouts:
        base = "" if old else FILES_DIR + "/"
        prefixes += [(f"{base}{i:02x}", old) for i in range(256)]
    found: set[Item] = set()

    def work(task: tuple[str, bool], stop: threading.Event) -> list[str]:
        return _retry(lambda: list(backend.iter_prefix(task[0])), stop)

    def done(task: tuple[str, bool], value: object, err: BaseException | None) -> None:
        two = task[0][-2:]
        for rel in value:  # type: ignore[attr-defined]
            oid = oid_from_parts(two, rel.rpartition("/")[2])
            if oid:
                found.add((oid, task[1]))
        progress.advance(1)

    progress.start("Listing remote", len(prefixes))
    try:
        _run(prefixes, work, jobs=jobs or backend.default_jobs, on_result=done)
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
    rels = [oid_relpath(oid, legacy=legacy) for oid, legacy in _unique(oids)]
    batches = [rels[i : i + 250] for i in range(0, len(rels), 250)]

    def work(batch: list[str], stop: threading.Event) -> None:
        _retry(lambda: backend.remove_many(batch), stop)

    def done(batch: list[str], value: object, err: BaseException | None) -> None:
        progress.advance(len(batch))

    progress.start("Removing", len(rels))
    try:
        _run(batches, work, jobs=jobs or backend.default_jobs, on_result=done)
    finally:
        progress.done()
    return len(rels)


def verify(
    backend: Backend,
    oids: Iterable[Item] | None = None,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> list[tuple[str, str]]:
    """Re-hash remote objects (fsck -r): `(oid, actual)` for each one whose content
    does not match its name, `(oid, "missing")` for a named one that is absent.

    Without `oids`, every object the remote lists is checked. Objects are
    downloaded to a temporary folder and deleted after hashing.

    Raises:
        RemoteAccessError: the remote failed as a whole.
    """
    progress = progress or NO_PROGRESS
    jobs = jobs or backend.default_jobs
    items = sorted(list_objects(backend, jobs=jobs)) if oids is None else _unique(oids)
    bad: list[tuple[str, str]] = []
    scratch = tempfile.mkdtemp(prefix="bale-verify-")

    def work(item: Item, stop: threading.Event) -> str:
        oid, legacy = item
        rel = oid_relpath(oid, legacy=legacy)
        d2u = legacy and not oid.endswith(DIR_SUFFIX)
        direct = backend.local_path(rel)
        try:
            if direct is not None:
                digest = file_md5(direct, legacy=d2u)
            else:
                tmp = os.path.join(scratch, oid)

                def get() -> None:
                    remove_file(tmp)
                    backend.get_file(rel, tmp)

                try:
                    _retry(get, stop)
                    digest = file_md5(tmp, legacy=d2u)
                finally:
                    remove_file(tmp)
        except RemoteAccessError:
            raise
        except FileNotFoundError:
            return "missing"
        return digest + DIR_SUFFIX if oid.endswith(DIR_SUFFIX) else digest

    def done(item: Item, value: object, err: BaseException | None) -> None:
        if value != item[0]:
            bad.append((item[0], str(value)))
        progress.advance(1)

    progress.start("Verifying remote", len(items))
    try:
        _run(items, work, jobs=jobs, on_result=done)
    finally:
        progress.done()
        shutil.rmtree(scratch, ignore_errors=True)
    return sorted(bad)
