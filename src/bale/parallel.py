"""Run per-file work on a thread pool in batches (one task per batch, not per file)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """One thread per core: measured on small files, more threads than cores
    add GIL hand-offs and kernel lock contention (more system time) and
    finish later; md5 of large files releases the GIL and fills the cores."""
    return min(16, os.cpu_count() or 1)


READ_AHEAD_MIN = 256  # fewer files than this are not worth a thread
FORK_MIN = 256  # nor worth a process
READ_AHEAD_BYTES = 1 << 16
WINDOW = 256  # files read ahead at a time, after probing a few of them
PROBES = 4


class ReadAhead:
    """A thread asking the kernel to start reading files before the workers
    open them (`posix_fadvise` WILLNEED on each file's first bytes).

    Files not in the page cache (written long ago, or evicted) are then read
    with many requests in flight instead of one per worker: reading 20,000
    such files on two threads took 0.45 s with it and 1.3 s without. Windows
    of files whose first few are cached are skipped, so cached files cost
    next to nothing. Errors are ignored: the workers meet them for real.
    """

    def __init__(self, paths: Iterable[str | None] | None) -> None:
        """`paths` in the order they will be read (None entries are skipped);
        None: nothing to do."""
        self._paths = paths or ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ReadAhead:
        if self._paths and hasattr(os, "posix_fadvise"):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        paths = iter(self._paths)
        while not self._stop.is_set():
            window = [p for p in islice(paths, WINDOW) if p is not None]
            if not window:
                return
            # When a few files of the window are cached, the rest likely are
            # too: opening them all would only compete with the workers.
            if all(_is_cached(path) for path in window[:PROBES]):
                continue
            for path in window:
                if self._stop.is_set():
                    return
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, READ_AHEAD_BYTES, os.POSIX_FADV_WILLNEED)
                except OSError:
                    pass
                finally:
                    os.close(fd)


def _is_cached(path: str) -> bool:
    """Whether the first byte of `path` is in the page cache (a read that
    must not wait for the disk)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT)
        return True
    except (OSError, AttributeError):  # BlockingIOError: not cached
        return False
    finally:
        os.close(fd)


def map_batched(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    *,
    jobs: int | None = None,
    batch: int = 64,
    on_batch: Callable[[int], None] | None = None,
    read_ahead: Callable[[T], str] | None = None,
    forked: bool = False,
    on_results: Callable[[Sequence[T], list[R]], None] | None = None,
) -> list[R]:
    """`fn` over slices of `items` in parallel; results in input order.

    Slices hold at least `batch` items and are contiguous and few (about four
    per thread): items come grouped by folder, so threads mostly work in
    different folders and do not contend for the same directory's lock.
    With `read_ahead` (the path `fn` reads for an item), a `ReadAhead` runs
    over the items in the order the threads reach them. `forked`: `fn`'s only
    effects besides its result are on the filesystem, so many items may go to
    forked processes instead of threads (`bale.forks`). `on_results(slice,
    results)` runs here as each slice is done, in any order: this process
    records what it can while the others still work.
    """
    if not items:
        return []
    jobs = jobs or default_jobs()
    if forked and jobs > 1 and len(items) >= FORK_MIN:
        from bale import forks

        if forks.usable():
            return _map_forked(fn, items, jobs, batch, on_batch, read_ahead, on_results)
    size = len(items) if jobs <= 1 else max(batch, -(-len(items) // (jobs * 4)))
    slices = [items[i : i + size] for i in range(0, len(items), size)]
    paths = None
    if read_ahead is not None and len(items) >= READ_AHEAD_MIN:
        paths = map(read_ahead, _interleaved(slices, jobs))
    with ReadAhead(paths):
        if len(slices) == 1:
            out = fn(items)
            if on_results:
                on_results(items, out)
            if on_batch:
                on_batch(len(items))
            return out
        from concurrent.futures import ThreadPoolExecutor

        results: list[R] = []
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for part, chunk in zip(pool.map(fn, slices), slices, strict=True):
                results.extend(part)
                if on_results:
                    on_results(chunk, part)
                if on_batch:
                    on_batch(len(chunk))
        return results


def _map_forked(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    jobs: int,
    batch: int,
    on_batch: Callable[[int], None] | None,
    read_ahead: Callable[[T], str] | None,
    on_results: Callable[[Sequence[T], list[R]], None] | None,
) -> list[R]:
    # Workers take slices as they finish them: many slices even out their
    # loads and let progress move, each is still a run of neighbouring files.
    size = max(batch, -(-len(items) // (jobs * 16)))
    slices = [items[i : i + size] for i in range(0, len(items), size)]
    results: list[list[R]] = [[] for _ in slices]

    def on_slice(index: int, part: list[R]) -> None:
        results[index] = part
        if on_results:
            on_results(slices[index], part)
        if on_batch:
            on_batch(len(slices[index]))

    run_forked(fn, slices, jobs=jobs, on_slice=on_slice, read_ahead=read_ahead)
    return [r for part in results for r in part]


def run_forked(
    fn: Callable[[Sequence[T]], R],
    slices: Sequence[Sequence[T]],
    *,
    jobs: int,
    on_slice: Callable[[int, R], None],
    read_ahead: Callable[[T], str | None] | None = None,
) -> None:
    """`fn(slice)` in forked workers (`bale.forks.Workers`: check
    `forks.usable()` first); `on_slice(index, result)` here as each arrives."""
    from bale.forks import Workers

    paths = None
    if read_ahead is not None:
        paths = map(read_ahead, _interleaved(list(slices), jobs))
    # Forked before the read-ahead thread starts: a fork copies one thread.
    with Workers(fn, slices, jobs) as workers, ReadAhead(paths):
        workers.collect(on_slice)


def _interleaved(slices: list[Sequence[T]], jobs: int) -> Iterator[T]:
    """The items in about the order `jobs` threads taking slices in turn reach them."""
    for first in range(0, len(slices), jobs):
        group = slices[first : first + jobs]
        for i in range(max(len(s) for s in group)):
            for part in group:
                if i < len(part):
                    yield part[i]
