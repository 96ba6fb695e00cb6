"""A command killed (SIGKILL, no cleanup) in the middle of its work leaves a
repository where running it again finishes the job and the cache holds no
corrupt object.

`make test` kills add and checkout midway; the other kills are marked slow
(`make test-slow`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.util import assert_cache_valid, bale_argv, cache_objects, read_tree

pytestmark = pytest.mark.reliability("kills")

FOLDERS = 40
PER_FOLDER = 100  # 4,000 files of 64-512 bytes: long enough to be killed midway


def _make_dataset(root: Path) -> dict[str, bytes]:
    files = {}
    for d in range(FOLDERS):
        folder = root / "big" / f"d{d:02}"
        folder.mkdir(parents=True)
        for i in range(PER_FOLDER):
            data = os.urandom(64 + (d * PER_FOLDER + i) % 449)
            (folder / f"f{i:03}.bin").write_bytes(data)
            files[f"d{d:02}/f{i:03}.bin"] = data
    return files


def _kill_when(argv: list[str], cwd: Path, started: Callable[[], bool]) -> bool:
    """Run `argv`, SIGKILL it as soon as `started()` holds; whether it was killed."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            if started():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    return False


def _count(path: Path) -> int:
    try:
        return len(os.listdir(path))
    except FileNotFoundError:
        return 0


def _assert_clean(repo: Path, bale, files: dict[str, bytes]) -> None:
    assert json.loads(bale("status", "--json", cwd=repo).stdout) == {}
    assert read_tree(repo / "big") == files
    assert_cache_valid(repo)
    objects = cache_objects(repo)
    manifest_oid = next(
        line.split()[-1] for line in (repo / "big.dvc").read_text().splitlines() if "md5:" in line
    )
    entries = json.loads(objects[manifest_oid])
    assert len(entries) == len(files)
    assert all(e["md5"] in objects for e in entries)


def test_add_killed_midway_then_rerun(repo: Path, bale):
    files = _make_dataset(repo)
    objects_dir = repo / ".dvc" / "cache" / "files" / "md5"
    # Killed once some objects are in: 16 of the 256 prefix folders exist.
    killed = _kill_when([*bale_argv(), "add", "big"], repo, lambda: _count(objects_dir) >= 16)
    if not killed:
        pytest.skip("add finished before it could be killed (machine too fast for the data)")
    assert_cache_valid(repo)
    assert not (repo / "big.dvc").exists()
    assert read_tree(repo / "big") == files  # add never touches the data it reads

    bale("add", "big", cwd=repo)
    _assert_clean(repo, bale, files)


@pytest.mark.slow
def test_add_with_hardlinks_killed_while_linking_then_rerun(repo: Path, bale):
    # With links, add replaces each file by a link to its object once all are
    # stored; killed then, it leaves temporary names that must not become data.
    bale("config", "cache.type", "hardlink", cwd=repo)
    files = _make_dataset(repo)
    firsts = [repo / "big" / f"d{d:02}" / "f000.bin" for d in range(0, FOLDERS, 4)]
    killed = _kill_when(
        [*bale_argv(), "add", "big"], repo, lambda: any(p.stat().st_nlink > 1 for p in firsts)
    )
    if not killed:
        pytest.skip("add finished before it could be killed")
    assert_cache_valid(repo)
    assert read_tree(repo / "big").keys() >= files.keys()

    bale("add", "big", cwd=repo)
    assert f"nfiles: {len(files)}\n" in (repo / "big.dvc").read_text()
    _assert_clean(repo, bale, files)  # the leftovers are gone too


def test_checkout_killed_midway_then_rerun(repo: Path, bale):
    files = _make_dataset(repo)
    bale("add", "big", cwd=repo)
    shutil.rmtree(repo / "big")

    def staging() -> list[Path]:
        return [p for p in repo.iterdir() if p.name.startswith("big.") and p.name != "big.dvc"]

    # A missing folder is filled under a temporary name: killed once a tenth
    # of its folders are being filled, it leaves no half folder at big/.
    killed = _kill_when(
        [*bale_argv(), "checkout"],
        repo,
        lambda: any(_count(p) >= FOLDERS // 10 for p in staging()),
    )
    if not killed:
        pytest.skip("checkout finished before it could be killed")
    assert_cache_valid(repo)
    assert not (repo / "big").exists()
    assert staging()

    bale("checkout", cwd=repo)
    _assert_clean(repo, bale, files)
    assert not staging()  # what the killed run left is gone


@pytest.mark.slow
def test_checkout_killed_while_replacing_files_then_rerun(repo: Path, bale, git):
    # The workspace holds an older version of every file: a killed checkout
    # leaves a mix of old and new files, and no unsaved change is lost.
    files = _make_dataset(repo)
    bale("add", "big", cwd=repo)
    git("add", "big.dvc", ".gitignore", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    for rel in list(files)[::2]:
        (repo / "big" / rel).chmod(0o644)
        (repo / "big" / rel).write_bytes(b"v2 " + files[rel])
    bale("add", "big", cwd=repo)
    git("checkout", "-q", "HEAD", "--", "big.dvc", cwd=repo)  # back to v1

    before = {d: (repo / "big" / f"d{d:02}").stat().st_mtime_ns for d in range(FOLDERS)}

    def some_replaced() -> bool:
        # A file placed by rename changes its folder's mtime.
        return any((repo / "big" / f"d{d:02}").stat().st_mtime_ns != before[d] for d in before)

    killed = _kill_when([*bale_argv(), "checkout"], repo, some_replaced)
    if not killed:
        pytest.skip("checkout finished before it could be killed")
    assert_cache_valid(repo)

    bale("checkout", cwd=repo)
    _assert_clean(repo, bale, files)


@pytest.mark.slow
def test_add_out_killed_while_copying_then_rerun(repo: Path, tmp_path: Path, bale):
    """`add SRC -o data/copy` copies under a temporary name: killed, it leaves
    nothing a later `add data` would take for data, and rerunning finishes."""
    source = tmp_path / "source"
    source.mkdir()
    files = _make_dataset(source)
    (repo / "data").mkdir()
    (repo / "data" / "keep.txt").write_text("keep\n")

    def copying() -> bool:
        return any(p.name.startswith("copy.") for p in (repo / "data").iterdir()) and any(
            (repo / "data").glob("copy.*/d0*/f0*")
        )

    argv = [*bale_argv(), "add", str(source / "big"), "-o", "data/copy"]
    if not _kill_when(argv, repo, copying):
        pytest.skip("add -o finished before it could be killed")
    assert not (repo / "data" / "copy").exists()
    bale("add", "data", cwd=repo)
    assert "nfiles: 1\n" in (repo / "data.dvc").read_text()  # the half copy is not data
    bale("remove", "data.dvc", cwd=repo)

    bale("add", str(source / "big"), "-o", "data/copy", cwd=repo)
    assert read_tree(repo / "data" / "copy") == files
    # What the killed copy left beside it is gone.
    assert sorted(p.name for p in (repo / "data").iterdir()) == [
        ".gitignore", "copy", "copy.dvc", "keep.txt",
    ]  # fmt: skip
