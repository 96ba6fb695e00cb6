"""Run per-file work on a thread pool in batches (one task per batch, not per file)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    # File work here is mostly syscalls and OpenSSL md5, which release the GIL.
    return min(16, (os.cpu_count() or 1) * 4)


def map_batched(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    *,
    jobs: int | None = None,
    batch: int = 64,
    on_batch: Callable[[int], None] | None = None,
) -> list[R]:
    """`fn` over slices of `items` in parallel; results in input order."""
    if not items:
        return []
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(items) <= batch:
        out = fn(items)
        if on_batch:
            on_batch(len(items))
        return out
    from concurrent.futures import ThreadPoolExecutor

    slices = [items[i : i + batch] for i in range(0, len(items), batch)]
    results: list[R] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for part, chunk in zip(pool.map(fn, slices), slices, strict=True):
            results.extend(part)
            if on_batch:
                on_batch(len(chunk))
    return results
