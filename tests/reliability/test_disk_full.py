"""A cache or a workspace on a small filesystem that fills mid-command.

Each case mounts a tmpfs of a few hundred KiB in a private mount namespace
(namespaces.py) and runs bale inside it: `add` with the cache on it, `fetch`
and `pull` with the cache on it, `checkout` and `pull` with the workspace on
it (the cache elsewhere). Every one must end with one `ERROR:` line naming
the full disk, where, and the fix; no object or workspace file under its
final name half-written, no `.dvc` file for a failed add, no temporary file
left. Then the tmpfs grows, the same command finishes and `fsck` is clean.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from bale.fsutil import is_temporary
from tests.cli.util import assert_error, bale_argv, write_tree
from tests.reliability.namespaces import PrivateMounts
from tests.reliability.report import case

PART = "disk full"
SMALL_KIB = 384  # the disk that fills: less than BIG alone
ROOMY_KIB = 16 << 10
BIG = os.urandom(1 << 20)  # one file larger than the small disk
FOLDER = {f"data/f{i:02}.bin": os.urandom(40_000) for i in range(16)}  # 640 kB in 16 files
V1 = {"model.bin": b"model v1\n", "data/f00.bin": b"old\n"}


def _case(what: str) -> AbstractContextManager[None]:
    """One case of the page's table: what was tried."""
    return case(PART, what, "pytest tests/reliability/test_disk_full.py")


@pytest.fixture
def ns() -> Iterator[PrivateMounts]:
    mounts = PrivateMounts()
    yield mounts
    mounts.close()


def _bale(ns: PrivateMounts, *args: str, cwd: Path):
    return ns.run([*bale_argv(), *args], cwd=cwd)


def _ok(proc) -> None:
    assert proc.returncode == 0, (proc.args, proc.stdout, proc.stderr)


def _temporaries(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if is_temporary(p.name))


def _assert_objects_whole(cache: Path) -> None:
    """Every object under its name hashes to it; nothing temporary is left."""
    assert not _temporaries(cache), _temporaries(cache)
    for path in (cache / "files" / "md5").glob("??/*"):
        digest = hashlib.md5(path.read_bytes()).hexdigest()
        oid = path.parent.name + path.name
        assert oid == digest + (".dir" if oid.endswith(".dir") else ""), f"half-written {path}"


def _assert_full_disk_error(proc, where: Path) -> None:
    line = assert_error(proc, "No space left on device", str(where), "free some space")
    assert ".tmp" not in line, line


def _source(base: Path, bale, git) -> tuple[Path, Path]:
    """A repository with V1 committed, then FOLDER and BIG as model.bin,
    both pushed to a folder remote; returns (repository, remote)."""
    src, store = base / "src", base / "store"
    src.mkdir()
    git("init", "-q", "-b", "main", cwd=src)
    bale("init", "-q", cwd=src)
    bale("remote", "add", "-d", "storage", str(store), cwd=src)
    write_tree(src, V1)
    bale("add", "-q", "data", "model.bin", cwd=src)
    bale("push", "-q", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "v1", cwd=src)
    write_tree(src, {**FOLDER, "model.bin": BIG})
    bale("add", "-q", "data", "model.bin", cwd=src)
    bale("push", "-q", cwd=src)
    git("commit", "-qam", "v2", cwd=src)
    return src, store


@pytest.mark.parametrize("target", ["model.bin", "data"])
def test_add_into_a_full_cache(tmp_path: Path, bale, git, ns: PrivateMounts, target: str):
    repo, cache = tmp_path / "repo", tmp_path / "cache"
    repo.mkdir()
    cache.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    bale("init", "-q", cwd=repo)
    bale("config", "--local", "cache.dir", str(cache), cwd=repo)
    write_tree(repo, {**FOLDER, "model.bin": BIG})
    ns.tmpfs(cache, SMALL_KIB)
    seen = ns.view(cache)
    with _case(f"bale add {target} (cache on a {SMALL_KIB} KiB tmpfs)"):
        _assert_full_disk_error(_bale(ns, "add", target, cwd=repo), cache)
        assert not (repo / f"{target}.dvc").exists()
        assert not (repo / ".gitignore").exists()
        _assert_objects_whole(seen)
        ns.resize(cache, ROOMY_KIB)
        _ok(_bale(ns, "add", target, cwd=repo))
        assert (repo / f"{target}.dvc").exists()
        _ok(_bale(ns, "fsck", cwd=repo))
        _assert_objects_whole(seen)


@pytest.mark.parametrize("command", ["fetch", "pull"])
def test_download_into_a_full_cache(tmp_path: Path, bale, git, ns: PrivateMounts, command: str):
    src, _store = _source(tmp_path, bale, git)
    clone, cache = tmp_path / "clone", tmp_path / "cache"
    git("clone", "-q", str(src), str(clone), cwd=tmp_path)
    bale("config", "--local", "cache.dir", str(cache), cwd=clone)
    cache.mkdir()
    ns.tmpfs(cache, SMALL_KIB)
    seen = ns.view(cache)
    with _case(f"bale {command} (cache on a {SMALL_KIB} KiB tmpfs)"):
        _assert_full_disk_error(_bale(ns, command, cwd=clone), cache)
        _assert_objects_whole(seen)
        assert not (clone / "model.bin").exists()
        ns.resize(cache, ROOMY_KIB)
        _ok(_bale(ns, "pull", cwd=clone))
        assert (clone / "model.bin").read_bytes() == BIG
        _ok(_bale(ns, "fsck", cwd=clone))


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".dvc" not in p.parts
        and not p.name.endswith(".dvc") and p.name != ".gitignore" and p.name != ".dvcignore"
    }  # fmt: skip


@pytest.mark.parametrize("command", ["checkout", "pull"])
def test_a_full_workspace(tmp_path: Path, bale, git, ns: PrivateMounts, command: str):
    """The workspace at v1 (cache elsewhere) moves to v2, which does not fit:
    each file keeps its v1 bytes, is absent, or has all of v2's."""
    src, _store = _source(tmp_path, bale, git)
    disk = tmp_path / "disk"
    disk.mkdir()
    ns.tmpfs(disk, SMALL_KIB)
    clone = disk / "repo"
    _ok(ns.run(["git", "clone", "-q", str(src), str(clone)], cwd=disk))
    cache = src / ".dvc" / "cache" if command == "checkout" else tmp_path / "cache"
    _ok(_bale(ns, "config", "--local", "cache.dir", str(cache), cwd=clone))
    seen = ns.view(clone)
    _ok(ns.run(["git", "checkout", "-q", "HEAD~1"], cwd=clone))
    _ok(_bale(ns, "checkout" if command == "checkout" else "pull", cwd=clone))
    assert _files(seen) == V1
    _ok(ns.run(["git", "checkout", "-q", "main"], cwd=clone))
    new = {**FOLDER, "model.bin": BIG}
    with _case(f"bale {command} of 1.6 MB into a {SMALL_KIB} KiB workspace"):
        proc = _bale(ns, command, cwd=clone)
        line = assert_error(proc, "No space left on device", str(clone), "free some space")
        assert ".tmp" not in line, line
        for rel, data in _files(seen).items():
            assert data in (V1.get(rel), new.get(rel)), f"{rel} is half-written"
        assert not _temporaries(seen), _temporaries(seen)
        ns.resize(disk, ROOMY_KIB)
        _ok(_bale(ns, command, cwd=clone))
        assert _files(seen) == new
        status = _bale(ns, "status", cwd=clone)
        _ok(status)
        assert "up to date" in status.stdout
        _ok(_bale(ns, "fsck", cwd=clone))
