"""Inputs far past any real one: a `.dvc` file or `dvc.lock` of 1 GiB, a
`.dir` manifest of 10 million entries.

Measured before the limits (bale status, peak RSS of the process): a 32 MiB
`.dvc` file of 431,000 outputs took 80 s and 490 MB; parsing a manifest of
1 million entries (93 MB) took 430 MB on top of its bytes, so 10 million would
take about 5 GB and a 1 GiB `.dvc` file tens of GB. Now a stage file past
64 MiB and a manifest past 512 MiB (about 5 million files; ImageNet's 1.3
million is about 120 MB) are refused before they are read, in one line
naming the file, its size, the limit and the variable that raises it
(`bale.formats.limits`).

The unmarked tests use a sparse file, or the limit lowered through that
variable; the `slow` ones write the real 1 GiB `.dvc` file and the real
10-million-entry manifest and check the refusal's peak memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, bale_argv, write_tree
from tests.reliability.report import case

PART = "huge inputs"
GIB = 1 << 30
X_MD5 = hashlib.md5(b"x\n").hexdigest()  # every file of the generated manifests
SMALL_RSS_KB = 300_000  # a refusal needs no more than start-up does, with room


def _case(what: str) -> AbstractContextManager[None]:
    """One case of the page's table: what was tried."""
    return case(PART, what, "pytest tests/reliability/test_huge_inputs.py")


# Runs a command and writes its peak resident memory (KiB) to argv[1]. A child
# of the test process itself would inherit its high-water mark (Linux copies
# it on fork and keeps it across exec), so the command is the child of this
# small process instead.
_PEAK = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fobj:
    fobj.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _measured(args: list[str], cwd: Path, **env: str) -> tuple[subprocess.CompletedProcess, int]:
    """Run bale; the result and its peak resident memory in KiB."""
    with tempfile.NamedTemporaryFile() as peak:
        argv = [sys.executable, "-c", _PEAK, peak.name, *bale_argv(), *args]
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
        )
        return proc, int(Path(peak.name).read_text())


@pytest.fixture
def tracked(repo: Path, bale, git) -> Path:
    """`repo` with `data/` (two files) and `model.bin` tracked and committed."""
    write_tree(repo, {"data/a.txt": "a\n", "data/b.txt": "b\n", "model.bin": "m\n"})
    bale("add", "-q", "data", "model.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)
    return repo


def _refuse_stage_file(repo: Path, tmp_path: Path, name: str, commands: list[list[str]]) -> None:
    """Each command refuses the GiB file `name` unread; nothing changes."""
    before = _stamps(tmp_path)
    for args in commands:
        with _case(f"bale {' '.join(args)} with a 1 GiB {name}"):
            proc, rss = _measured(args, repo)
            line = assert_error(proc, name, "1024.0 MiB", "64.0 MiB", "BALE_MAX_STAGE_FILE_MB")
            assert rss < SMALL_RSS_KB, (rss, line)
    assert _stamps(tmp_path) == before


def _stamps(root: Path) -> dict[str, tuple[int, int, int]]:
    """Mode, size and mtime of everything under `root` but bale's `.dvc/tmp`
    (`util.snapshot` would hash a GiB file: seconds)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not (d == "tmp" and dirpath.endswith(".dvc"))]
        for name in dirnames + filenames:
            sres = os.lstat(os.path.join(dirpath, name))
            found[os.path.join(dirpath, name)] = (sres.st_mode, sres.st_size, sres.st_mtime_ns)
    return found


def test_a_sparse_gib_dvc_file_is_refused_unread(tracked: Path, tmp_path: Path):
    with open(tracked / "huge.dvc", "wb") as fobj:
        fobj.truncate(GIB)
    write_tree(tracked, {"new.txt": "n\n"})
    commands = [["status"], ["checkout"], ["commit", "-f"], ["add", "new.txt"]]
    _refuse_stage_file(tracked, tmp_path, "huge.dvc", commands)


def test_a_sparse_gib_dvc_lock_is_refused_unread(tracked: Path, tmp_path: Path):
    write_tree(tracked, {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n"})
    with open(tracked / "dvc.lock", "wb") as fobj:
        fobj.truncate(GIB)
    _refuse_stage_file(tracked, tmp_path, "dvc.lock", [["status"], ["checkout"], ["repro"]])


def _manifest_entries(n: int) -> Iterator[bytes]:
    """The JSON of a manifest of `n` files, in pieces (the content of
    every file is the same two bytes, so one object serves them all)."""
    md5 = X_MD5
    yield b"["
    for start in range(0, n, 100_000):
        yield b", ".join(
            b'{"md5": "%s", "relpath": "train/n%05d/img_%08d.JPEG"}' % (md5.encode(), i // 1300, i)
            for i in range(start, min(n, start + 100_000))
        ) + (b", " if start + 100_000 < n else b"")
    yield b"]"


def _track_manifest(repo: Path, n: int) -> str:
    """Write a manifest of `n` entries into the cache (streaming, hashed as
    written) and `big.dvc` naming it; returns its oid."""
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    tmp = repo / ".dvc" / "manifest.part"
    hasher = hashlib.md5()
    with open(tmp, "wb") as fobj:
        for piece in _manifest_entries(n):
            hasher.update(piece)
            fobj.write(piece)
    oid = hasher.hexdigest() + ".dir"
    (cache / oid[:2]).mkdir(parents=True, exist_ok=True)
    os.replace(tmp, cache / oid[:2] / oid[2:])
    write_tree(cache, {f"{X_MD5[:2]}/{X_MD5[2:]}": "x\n"})
    (repo / "big.dvc").write_text(
        f"outs:\n- md5: {oid}\n  size: {2 * n}\n  nfiles: {n}\n  hash: md5\n  path: big\n"
    )
    return oid


def test_a_manifest_past_a_lowered_limit_is_refused(repo: Path, tmp_path: Path):
    """30,000 entries (2.6 MiB) against a limit of 1 MiB: checkout and status
    refuse in one line naming the manifest, its folder, its size and the limit."""
    oid = _track_manifest(repo, 30_000)
    guard = Unchanged(tmp_path)
    for args in (["checkout"], ["checkout", "big"], ["status"]):
        with _case(f"bale {' '.join(args)} of a 2.6 MiB manifest, BALE_MAX_MANIFEST_MB=1"):
            proc, _rss = _measured(args, repo, BALE_MAX_MANIFEST_MB="1")
            assert_error(proc, oid, "(folder 'big')", "2.6 MiB", "1.0 MiB", "BALE_MAX_MANIFEST_MB")
    guard.check()
    assert not (repo / "big").exists()


def test_a_source_whose_dvc_file_is_past_a_lowered_limit(tracked: Path, tmp_path: Path, bale, git):
    """A registry's committed `.dvc` file of 2 MiB (padded with a comment),
    read through git by `list`, against a limit of 1 MiB."""
    text = (tracked / "model.bin.dvc").read_text()
    (tracked / "model.bin.dvc").write_text(text + "#" * (2 << 20) + "\n")
    git("commit", "-qam", "padded", cwd=tracked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with _case("bale list of a registry with a 2 MiB .dvc file, BALE_MAX_STAGE_FILE_MB=1"):
        proc, _rss = _measured(["list", str(tracked)], elsewhere, BALE_MAX_STAGE_FILE_MB="1")
        assert_error(proc, "model.bin.dvc", "2.0 MiB", "1.0 MiB", "BALE_MAX_STAGE_FILE_MB")


# -- the real sizes (make test-slow) ------------------------------------------------------------


@pytest.mark.slow
def test_a_real_gib_dvc_file_is_refused_unread(tracked: Path, tmp_path: Path):
    """1 GiB of outputs, written in 4 MiB pieces (about 13 million entries)."""
    entry = b"- md5: 60b725f10c9c85c70d97880dfe8191b3\n  size: 2\n  hash: md5\n  path: f\n"
    piece = b"outs:\n" + entry * ((4 << 20) // len(entry))
    with open(tracked / "huge.dvc", "wb") as fobj:
        fobj.write(piece)
        while fobj.tell() < GIB:
            fobj.write(entry * ((4 << 20) // len(entry)))
        fobj.truncate(GIB)
    try:
        _refuse_stage_file(tracked, tmp_path, "huge.dvc", [["status"], ["checkout"]])
    finally:
        (tracked / "huge.dvc").unlink()


@pytest.mark.slow
def test_a_manifest_of_ten_million_entries_is_refused_unread(repo: Path, tmp_path: Path):
    """About 900 MB of JSON: refused by its size before it is read, in the
    memory of start-up (parsing it would take about 5 GB)."""
    oid = _track_manifest(repo, 10_000_000)
    try:
        with _case("bale checkout of a 10-million-entry manifest"):
            proc, rss = _measured(["checkout"], repo)
            assert_error(proc, oid, "(folder 'big')", "512.0 MiB", "BALE_MAX_MANIFEST_MB")
            assert rss < SMALL_RSS_KB, rss
    finally:
        cache = repo / ".dvc" / "cache" / "files" / "md5"
        (cache / oid[:2] / oid[2:]).unlink()


def test_manifest_json_is_what_dvc_writes():
    """The generator writes the JSON dvc writes for such a folder (so the
    refusal is of a valid manifest, not of malformed JSON)."""
    data = b"".join(_manifest_entries(3))
    items = json.loads(data)
    assert data == json.dumps(items, sort_keys=True).encode()
