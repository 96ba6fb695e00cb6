"""Run per-file work on a thread pool in batches (one task per batch, not per file)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """One thread per core: measured on small files, more threads than cores
    add GIL hand-offs and kernel lock contention (more system time) and
    finish later; md5 of large files releases the GIL and fills the cores."""
    return min(16, os.cpu_count() or 1)


def map_batched(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    *,
    jobs: int | None = None,
    batch: int = 64,
    on_batch: Callable[[int], None] | None = None,
) -> list[R]:
    """`fn` over slices of `items` in parallel; results in input order.

    Slices hold at least `batch` items and are contiguous and few (about four
    per thread): items come grouped by folder, so threads mostly work in
    different folders and do not contend for the same directory's lock.
    """
    if not items:
        return []
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(items) <= batch:
        out = fn(items)
        if on_batch:
            on_batch(len(items))
        return out
    from concurrent.futures import ThreadPoolExecutor

    size = max(batch, -(-len(items) // (jobs * 4)))
    slices = [items[i : i + size] for i in range(0, len(items), size)]
    results: list[R] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for part, chunk in zip(pool.map(fn, slices), slices, strict=True):
            results.extend(part)
            if on_batch:
                on_batch(len(chunk))
    return results
