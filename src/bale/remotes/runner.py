"""Running transfer work: one retry policy, threads or forked workers.

A failure that concerns one object (missing, corrupt: `PER_OBJECT`) is
handed to the caller's `on_result` and the rest go on; any other error stops
the workers (in-flight items finish) and is raised once they have. Transient
errors (a `RemoteAccessError` with `transient` set: unreachable, reset, 5xx,
throttled, a cut-off answer) are retried here, and only here: the clients'
own retries are off.
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
# Tries of one operation while nothing else the remote is asked succeeds: a
# remote that answers nobody is down, and the run stops after about 3 s of
# backoff (plus each try's timeouts).
ATTEMPTS = 4
# Tries while the remote does answer other requests between them: then the
# failures are this request's own (a dropped connection, a cut-off body, one
# 500 or 503 among many answers) and it is worth going on. With a quarter of
# all requests failing, four tries lost one object in ~250, which made one
# pull in five fail; ten lose one in a million.
MAX_ATTEMPTS = 10
# Forked workers take slices of a sixteenth of their share: runs of 64 taken in
# turn put both workers into one prefix folder, each creation waiting on the
# other's lock on it (perf, 100,000 objects: 3% of the time spinning, 17% when
# the disk was slow to allocate inodes).
SLICES_PER_JOB = 16
FIRST_DELAY = 0.25
MAX_DELAY = 5.0  # seconds between two tries at most, before jitter
# Errors about one object: recorded in `failed`; any other error stops the run.
PER_OBJECT = (ObjectMissingError, RemoteObjectMissingError, ObjectCorruptError)


class _Answers:
    """How many operations of this process a remote answered: the count moving
    while one operation failed tells a live remote from one that is down."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


_answers = _Answers()


def retry(op: Callable[[], T], stop: threading.Event) -> T:
    """`op()`, retried with backoff while it fails transiently: up to ATTEMPTS
    tries while no other operation succeeds meanwhile, up to MAX_ATTEMPTS while
    others do. The error that ends it carries `attempts`, the tries made."""
    delay = FIRST_DELAY
    unanswered = 0  # failed tries during which no other operation succeeded
    seen = _answers.count
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            value = op()
        except RemoteAccessError as err:
            if _answers.count == seen:
                unanswered += 1
            seen = _answers.count
            if not err.transient or stop.is_set():
                raise
            if unanswered == ATTEMPTS or attempt == MAX_ATTEMPTS:
                err.attempts = attempt
                raise
        else:
            _answers.add()
            return value
        stop.wait(min(delay, MAX_DELAY) * random.uniform(0.5, 1.5))
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
