"""map_batched: results in order, with or without reading ahead; the read-ahead
thread never outlives the call and never fails it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bale.parallel import READ_AHEAD_MIN, ReadAhead, map_batched


def _files(root: Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        path = root / f"d{i % 7}" / f"f{i}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"%d" % i)
        paths.append(str(path))
    return paths


def test_results_keep_their_order_with_read_ahead(tmp_path: Path):
    paths = _files(tmp_path, READ_AHEAD_MIN * 3)
    paths[5] = str(tmp_path / "missing")  # read ahead ignores it; fn meets it

    def read(batch: list[str]) -> list[bytes | None]:
        out = []
        for path in batch:
            try:
                out.append(Path(path).read_bytes())
            except FileNotFoundError:
                out.append(None)
        return out

    before = threading.active_count()
    for jobs in (1, 2, 3):
        got = map_batched(read, paths, jobs=jobs, read_ahead=lambda p: p)
        assert got == read(paths)
    assert threading.active_count() == before


def test_read_ahead_stops_when_left_early(tmp_path: Path):
    paths = _files(tmp_path, 50)
    before = threading.active_count()
    with ReadAhead(p for _ in range(10_000) for p in paths):
        pass  # leaving at once: the thread is told to stop and joined
    assert threading.active_count() == before
    with ReadAhead(None):  # nothing to read: no thread at all
        assert threading.active_count() == before


@pytest.mark.parametrize("jobs", [1, 3])
def test_each_slices_results_are_handed_over_once(jobs: int):
    items = list(range(1000))
    seen: list[tuple[int, int]] = []
    got = map_batched(
        lambda batch: [x + 1 for x in batch], items, jobs=jobs, batch=10,
        on_results=lambda batch, out: seen.extend(zip(batch, out, strict=True)),
    )  # fmt: skip
    assert got == [x + 1 for x in items]
    assert sorted(seen) == [(x, x + 1) for x in items]
