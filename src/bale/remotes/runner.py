"""Running transfer work: one retry policy, threads or forked workers.

A failure that concerns one object (missing, corrupt: `PER_OBJECT`) is
handed to the caller's `on_result` and the rest go on; any other error stops
the workers (in-flight items finish) and is raised once they have. Transient
errors (a `RemoteAccessError` with `transient` set: unreachable, reset, 5xx,
throttled) are retried here, and only here: the clients' own retries are off.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from bale.errors import (
    ObjectCorruptError,
    ObjectMissingError,
    RemoteAccessError,
    RemoteObjectMissingError,
)
from bale.parallel import FORK_MIN, READ_AHEAD_MIN, ReadAhead, run_forked

T = TypeVar("T")
Item = tuple[str, bool]  # (oid, legacy)
ATTEMPTS = 4  # one try and three retries: about 3 s of backoff in all
# Forked workers take slices of a sixteenth of their share: runs of 64 taken in
# turn put both workers into one prefix folder, each creation waiting on the
# other's lock on it (perf, 100,000 objects: 3% of the time spinning, 17% when
# the disk was slow to allocate inodes).
SLICES_PER_JOB = 16
FIRST_DELAY = 0.25
# Errors about one object: recorded in `failed`; any other error stops the run.
PER_OBJECT = (ObjectMissingError, RemoteObjectMissingError, ObjectCorruptError)


def retry(op: Callable[[], T], stop: threading.Event) -> T:
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


def run_all(
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
    """`run_all` in forked workers: each sends its slice's outcomes back."""
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


def unique(oids: Iterable[Item]) -> list[Item]:
    seen: dict[str, bool] = {}
    for oid, legacy in oids:
        seen.setdefault(oid, legacy)
    return list(seen.items())
