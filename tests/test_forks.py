"""Work in forked processes: results in order, errors intact, no worker left
behind, and threads instead whenever this process runs more than one.

Each scenario runs in a fresh interpreter: this test process may hold threads
(earlier tests' clients), and then work is never forked.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from bale import forks
from bale.errors import ObjectMissingError
from bale.parallel import FORK_MIN, default_jobs, map_batched

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


def _isolated(scenario: Callable[..., None], *args: object) -> None:
    """Run `scenario(*args)` in a new interpreter; its assertion errors come back."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pool.submit(scenario, *args).result(timeout=120)


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _order() -> None:
    assert forks.usable()
    items = list(range(FORK_MIN * 5))
    progress: list[int] = []

    def square(batch: list[int]) -> list[tuple[int, int]]:
        time.sleep(0.01)  # long enough for both workers to take slices
        return [(x * x, os.getpid()) for x in batch]

    seen: dict[int, int] = {}

    def on_results(batch: list[int], results: list[tuple[int, int]]) -> None:
        seen.update((x, value) for x, (value, _) in zip(batch, results, strict=True))

    got = map_batched(
        square, items, jobs=2, forked=True, on_batch=progress.append, on_results=on_results
    )
    assert [value for value, _ in got] == [x * x for x in items]
    pids = {pid for _, pid in got}
    assert os.getpid() not in pids and len(pids) == 2
    assert sum(progress) == len(items)
    assert seen == {x: x * x for x in items}  # each slice's results, here, once
    assert _no_children_left()


def _effects(tmp_path: Path) -> None:
    assert forks.usable()
    items = [str(tmp_path / f"f{i}") for i in range(FORK_MIN * 2)]

    def write(batch: list[str]) -> list[None]:
        for path in batch:
            Path(path).write_text(path)
        return [None] * len(batch)

    map_batched(write, items, jobs=2, forked=True)
    assert all(Path(p).read_text() == p for p in items)


def _error(tmp_path: Path) -> None:
    assert forks.usable()
    items = list(range(FORK_MIN * 4))

    def work(batch: list[int]) -> list[int]:
        if batch[0] == 0:
            raise ObjectMissingError("ab" * 16, "data/x")
        time.sleep(0.05)
        (tmp_path / f"done-{batch[0]}").touch()
        return batch

    with pytest.raises(ObjectMissingError) as caught:
        map_batched(work, items, jobs=2, batch=8, forked=True)
    assert caught.value.oid == "ab" * 16 and caught.value.path == "data/x"
    assert "bale fetch" in str(caught.value)
    # 32 slices of 32: the other worker ends the one or two it holds, no more.
    assert len(list(tmp_path.iterdir())) <= 3
    assert _no_children_left()


def _unpicklable() -> None:
    class Local(Exception):  # defined in a function: pickle cannot find it
        pass

    def work(batch: list[int]) -> list[int]:
        raise Local("the disk is on fire")

    with pytest.raises(RuntimeError, match="Local: the disk is on fire"):
        map_batched(work, list(range(FORK_MIN)), jobs=2, forked=True)
    assert _no_children_left()


def _killed() -> None:
    assert forks.usable()  # else the kill below would end this process

    def work(batch: list[int]) -> list[int]:
        if 0 in batch:
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    with pytest.raises(forks.WorkerDied, match="SIGKILL"):
        map_batched(work, list(range(FORK_MIN * 2)), jobs=2, forked=True)
    assert _no_children_left()


def _walk(tmp_path: Path) -> None:
    """A large walk goes on in workers and lists what one process lists, in
    the same order, signed the same; an error in a worker's folder arrives."""
    from bale.errors import UnsafePathError
    from bale.hashing.tree import part_signatures
    from bale.hashing.walk import FORK_AFTER, walk_files

    root = tmp_path / "data"
    for i in range(40):
        folder = root / f"d{i:02d}" / ("deep" if i % 3 else "")
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(FORK_AFTER // 20):
            (folder / f"f{j}.txt").write_bytes(b"%d %d\n" % (i, j))
    (root / "d07" / "inside.lnk").symlink_to(root / "d00" / "f1.txt")
    (root / "top.txt").write_bytes(b"top\n")
    signers = tmp_path / "signers"
    signers.mkdir()

    def sign(listing):
        (signers / str(os.getpid())).touch()
        time.sleep(0.01)  # long enough for both workers to take slices
        return part_signatures(listing)

    def ignore_for(rel: str):
        return (lambda name, is_dir: name == "f3.txt") if rel.startswith("d1") else None

    walk = {"ignore_for": ignore_for, "link_roots": (str(tmp_path),)}
    one = walk_files(str(root), **walk)
    forked = walk_files(str(root), sign=sign, **walk)
    assert list(forked) == list(one) and forked.folders == one.folders
    assert forked.sigs == part_signatures(one)
    relpaths = {e.relpath for e in forked}
    assert "d07/inside.lnk" in relpaths and "d12/f3.txt" not in relpaths
    assert "d10/deep/f3.txt" not in relpaths and "d20/deep/f3.txt" in relpaths
    workers = {int(p.name) for p in signers.iterdir()} - {os.getpid()}
    assert len(workers) == min(2, default_jobs())
    (root / "d33" / "out.lnk").symlink_to("/")
    with pytest.raises(UnsafePathError):
        walk_files(str(root), sign=part_signatures, **walk)
    assert _no_children_left()


def test_a_large_walk_goes_on_in_workers_and_lists_the_same(tmp_path: Path):
    _isolated(_walk, tmp_path)


def test_results_come_back_in_order_from_other_processes():
    _isolated(_order)


def test_a_workers_effects_on_files_are_seen_here(tmp_path: Path):
    _isolated(_effects, tmp_path)


def test_an_error_arrives_whole_and_stops_the_other_slices(tmp_path: Path):
    _isolated(_error, tmp_path)


def test_an_error_that_cannot_be_pickled_keeps_its_message():
    _isolated(_unpicklable)


def test_a_killed_worker_is_reported_not_waited_for():
    _isolated(_killed)


def test_threads_are_used_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forks.usable()
        items = list(range(FORK_MIN * 2))
        got = map_batched(lambda b: [os.getpid()] * len(b), items, jobs=2, forked=True)
    finally:
        stop.set()
        other.join()
    assert set(got) == {os.getpid()}


def test_without_forked_the_work_stays_in_this_process():
    got = map_batched(lambda b: [os.getpid()] * len(b), list(range(FORK_MIN * 2)), jobs=2)
    assert set(got) == {os.getpid()}


def test_workers_die_with_a_killed_parent(tmp_path: Path):
    script = f"""
import os, time
from pathlib import Path
from bale.parallel import map_batched

def work(batch):
    Path({str(tmp_path)!r}, str(os.getpid())).touch()
    time.sleep(60)
    return batch

map_batched(work, list(range(1000)), jobs=2, forked=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = [int(p.name) for p in tmp_path.iterdir()]
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
