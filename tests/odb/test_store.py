"""The object store: DVC's layout, read-only objects, insertion that is atomic and verified."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bale.errors import ObjectCorruptError
from bale.odb.layout import oid_relpath
from bale.odb.store import ObjectStore


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(str(tmp_path / "cache"))


def test_layout_is_dvcs():
    oid = "7ac062d8a84466e70d9b899c0821a51c"
    assert oid_relpath(oid) == "files/md5/7a/c062d8a84466e70d9b899c0821a51c"
    assert oid_relpath(oid + ".dir") == "files/md5/7a/c062d8a84466e70d9b899c0821a51c.dir"
    assert oid_relpath(oid, legacy=True) == "7a/c062d8a84466e70d9b899c0821a51c"


def test_add_file_stores_a_read_only_copy_under_its_md5(store: ObjectStore, tmp_path: Path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello\r\nworld\r\n")
    oid = store.add_file(str(src))
    assert oid == "7ac062d8a84466e70d9b899c0821a51c"
    obj = Path(store.path(oid))
    assert obj.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    assert not os.path.samefile(obj, src)
    assert _files(tmp_path / "cache") == ["files/md5/7a/c062d8a84466e70d9b899c0821a51c"]
    assert store.add_file(str(src)) == oid  # again: same object, nothing else
    assert store.add_file(str(src), expected=oid) == oid
    assert _files(tmp_path / "cache") == ["files/md5/7a/c062d8a84466e70d9b899c0821a51c"]


def test_add_file_with_a_wrong_expected_hash_stores_nothing(store: ObjectStore, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"actual bytes")
    wrong = "0" * 32
    with pytest.raises(ObjectCorruptError) as info:
        store.add_file(str(src), expected=wrong)
    assert (info.value.oid, info.value.actual) == (wrong, hashlib.md5(b"actual bytes").hexdigest())
    assert wrong in str(info.value) and str(src) in str(info.value)
    assert _files(tmp_path / "cache") == []  # no object, no temporary file


@pytest.mark.parametrize("legacy", [False, True])
def test_a_file_of_many_chunks_is_copied_and_hashed_whole(
    store: ObjectStore, tmp_path: Path, legacy: bool
):
    # Over 1 MiB: written by a second thread while the next chunk is hashed.
    # Text, so the DVC 2 rule (dos2unix, decided per chunk) applies to all of it.
    data = b"".join(b"line %d of a text file\r\n" % i for i in range(200_000))
    src = tmp_path / "big.txt"
    src.write_bytes(data)
    expected = hashlib.md5(data.replace(b"\r\n", b"\n") if legacy else data).hexdigest()
    assert store.add_file(str(src), legacy=legacy) == expected
    assert Path(store.path(expected, legacy=legacy)).read_bytes() == data
    with pytest.raises(ObjectCorruptError):
        store.add_file(str(src), legacy=legacy, expected="0" * 32)
    assert _files(tmp_path / "cache") == [oid_relpath(expected, legacy=legacy)]


_WRITE_FAILS = """
import os, resource, signal, sys
from bale.odb.store import ObjectStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))
try:
    ObjectStore(sys.argv[2]).add_file(sys.argv[1])
except OSError as exc:
    print(type(exc).__name__, exc.errno)
"""


def test_a_failed_write_of_a_large_file_raises_and_leaves_nothing(tmp_path: Path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 << 20))
    cache = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_FAILS, str(src), str(cache)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.stdout.split() == ["OSError", str(errno.EFBIG)], done.stderr
    assert _files(cache) == []


def test_a_failed_read_leaves_no_temporary_file(store: ObjectStore, tmp_path: Path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError):
        store.add_file(str(tmp_path / "folder"))
    with pytest.raises(FileNotFoundError):
        store.add_file(str(tmp_path / "missing"))
    assert _files(tmp_path / "cache") == []


def test_add_bytes_is_read_only_and_replaces_nothing_else(store: ObjectStore, tmp_path: Path):
    data = b'[{"md5": "7ac062d8a84466e70d9b899c0821a51c", "relpath": "x"}]'
    oid = hashlib.md5(data).hexdigest() + ".dir"
    store.add_bytes(oid, data)
    store.add_bytes(oid, data)
    assert Path(store.path(oid)).read_bytes() == data
    assert stat.S_IMODE(Path(store.path(oid)).stat().st_mode) == 0o444
    assert store.exists(oid) and not store.exists(oid, legacy=True)
    assert store.verify(oid) == oid


def test_listing_objects_ignores_temporary_and_foreign_files(store: ObjectStore, tmp_path: Path):
    a = hashlib.md5(b"a").hexdigest()
    store.add_bytes(a, b"a")
    store.add_bytes(a + ".dir", b"[]")  # (a wrong name, but named like an object)
    base = tmp_path / "cache" / "files" / "md5"
    (base / a[:2] / (a[2:] + ".0123456789ab-7.tmp")).write_bytes(b"partial")
    (base / a[:2] / "README").write_text("not an object")
    (base / "xyz").mkdir()
    (tmp_path / "cache" / "tmp-object.0123456789ab-7.tmp").write_bytes(b"partial")
    assert store.oids() == {a, a + ".dir"}
    assert store.oids(legacy=True) == set()
    store.clean_tmp()
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "cache").rglob("*"))
    assert store.oids() == {a, a + ".dir"}


def test_legacy_objects_live_at_the_cache_root(store: ObjectStore, tmp_path: Path):
    src = tmp_path / "crlf.txt"
    src.write_bytes(b"x\r\n")
    oid = store.add_file(str(src), legacy=True)
    assert oid == hashlib.md5(b"x\n").hexdigest()
    assert _files(tmp_path / "cache") == [oid_relpath(oid, legacy=True)]
    assert store.oids(legacy=True) == {oid} and store.oids() == set()
    assert store.read_bytes(oid, legacy=True) == b"x\r\n"


def test_verify_finds_a_corrupt_object(store: ObjectStore, tmp_path: Path):
    src = tmp_path / "f"
    src.write_bytes(b"good")
    oid = store.add_file(str(src))
    obj = Path(store.path(oid))
    obj.chmod(0o644)
    obj.write_bytes(b"evil")
    assert store.verify(oid) == hashlib.md5(b"evil").hexdigest() != oid


def test_remove_of_read_only_objects(store: ObjectStore, tmp_path: Path):
    empty = store.stamp()
    store.add_bytes(hashlib.md5(b"a").hexdigest(), b"a")
    assert store.stamp() != empty
    store.remove([hashlib.md5(b"a").hexdigest(), hashlib.md5(b"gone").hexdigest()])
    assert store.oids() == set()


# A process that names a temporary file in the store's root the way a command
# does, creates it (a file, or a folder for "scratch"), then waits for stdin to
# close, or exits at once when told: what a killed command leaves behind.
_LEAVE = """
import os, sys
from bale.odb.store import ObjectStore
from bale import fsutil
store = ObjectStore(sys.argv[1])
store._swept = True  # a process that only writes, no sweep of its own
path = fsutil.tmp_name(os.path.join(sys.argv[1], sys.argv[2]))
os.makedirs(path) if sys.argv[2] == "scratch" else open(path, "w").close()
print(path, flush=True)
if sys.argv[3] == "wait":
    sys.stdin.read()
"""


def _leave(root: Path, stem: str, how: str) -> tuple[str, subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", _LEAVE, str(root), stem, how],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    path = proc.stdout.readline().strip()
    if how == "exit":
        proc.wait()
    return path, proc


def test_the_first_write_removes_what_dead_processes_left_and_no_live_ones(
    store: ObjectStore, tmp_path: Path
):
    root = Path(store.root)
    root.mkdir()
    dead_file, _ = _leave(root, "tmp-object", "exit")
    dead_folder, _ = _leave(root, "scratch", "exit")
    live_file, live = _leave(root, "fetch", "wait")
    older = root / "tmp-object.0123456789ab-3.tmp"  # an earlier version's name: gc's to remove
    older.touch()
    try:
        src = tmp_path / "big.bin"
        src.write_bytes(os.urandom(5 << 20))
        store.add_file(str(src))
        assert not os.path.exists(dead_file) and not os.path.exists(dead_folder)
        assert os.path.exists(live_file) and older.exists()
    finally:
        live.communicate("")
    store.clean_tmp()
    assert sorted(p.name for p in root.iterdir()) == ["files"]
