"""The conformance suite: every backend, the same primitives and engine behaviour."""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path

import pytest

from bale.errors import (
    RemoteAccessError,
    RemoteConfigError,
    RemoteObjectCorruptError,
    RemoteObjectMissingError,
    RemoteUnavailableError,
)
from bale.hashing.md5 import file_md5
from bale.odb.layout import is_oid, oid_relpath
from bale.odb.store import ObjectStore
from bale.remotes import open_remote, transfer
from bale.remotes.base import READ_CHUNK, read_range
from tests.fixtures.servers import S3Server, start_http_server
from tests.remotes.conftest import RemoteCase, make_objects


def test_primitives(remote: RemoteCase, tmp_path: Path) -> None:
    backend = remote.open()
    src = tmp_path / "src"
    src.write_bytes(b"hello remote\n")
    rel = "files/md5/ab/cdef0123456789abcdef0123456789"
    assert backend.exists_many([rel]) == set()
    assert list(backend.iter_prefix("files/md5/ab")) == []
    backend.put_file(str(src), rel)
    assert backend.exists_many([rel, "files/md5/ab/nothing"]) == {rel}
    assert list(backend.iter_prefix("files/md5/ab")) == [rel]
    out = tmp_path / "out"
    backend.get_file(rel, str(out))
    assert out.read_bytes() == b"hello remote\n"
    with pytest.raises(FileNotFoundError):
        backend.get_file("files/md5/ab/nothing", str(tmp_path / "nothing"))
    backend.remove_many([rel, "files/md5/ab/nothing"])
    assert backend.exists_many([rel]) == set()
    assert remote.stored_keys() == []


def test_push_fetch_round_trip(remote: RemoteCase, cache: ObjectStore, tmp_path: Path) -> None:
    items = make_objects(cache, 40)
    # A folder manifest and a legacy (DVC 2, dos2unix md5) text object.
    manifest = b'[{"md5": "%s", "relpath": "a"}]' % items[0][0].encode()
    dir_oid = hashlib.md5(manifest).hexdigest() + ".dir"
    cache.add_bytes(dir_oid, manifest)
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"line one\r\nline two\r\n")
    legacy_oid = cache.add_file(str(crlf), legacy=True)
    assert legacy_oid == hashlib.md5(b"line one\nline two\n").hexdigest()
    wanted = [*items, (dir_oid, False), (legacy_oid, True)]
    backend = remote.open()

    pushed = transfer.push(cache, backend, wanted, jobs=4)
    assert sorted(pushed.transferred) == sorted(o for o, _ in wanted)
    assert pushed.failed == [] and pushed.skipped == []
    # DVC's remote layout: files/md5/XX/… and legacy XX/… at the root.
    keys = remote.stored_keys()
    assert oid_relpath(dir_oid) in keys and oid_relpath(legacy_oid, legacy=True) in keys
    assert remote.read(oid_relpath(legacy_oid, legacy=True)) == crlf.read_bytes()

    again = transfer.push(cache, backend, wanted, jobs=4)
    assert again.transferred == [] and len(again.skipped) == len(wanted)

    other = ObjectStore(str(tmp_path / "other"))
    fetched = transfer.fetch(other, backend, wanted, jobs=4)
    assert sorted(fetched.transferred) == sorted(o for o, _ in wanted) and fetched.failed == []
    for oid, legacy in wanted:
        assert other.verify(oid, legacy=legacy) == oid
        assert other.read_bytes(oid, legacy=legacy) == cache.read_bytes(oid, legacy=legacy)
    assert transfer.fetch(other, backend, wanted).skipped == [o for o, _ in wanted]
    assert transfer.verify(backend, wanted, scratch=cache) == []


def test_status_and_present(remote: RemoteCase, cache: ObjectStore, tmp_path: Path) -> None:
    items = make_objects(cache, 12)
    backend = remote.open()
    transfer.push(cache, backend, items[:8])
    ghost = ("0" * 32, False)
    on_remote = transfer.present(backend, [*items, ghost])
    assert {o for o, _ in [*items, ghost]} - {o for o, _ in on_remote} == (
        {o for o, _ in items[8:]} | {ghost[0]}
    )
    assert transfer.present(backend, [*items, ghost]) == set(items[:8])


def test_corrupt_remote_object_is_refused(
    remote: RemoteCase, cache: ObjectStore, tmp_path: Path
) -> None:
    items = make_objects(cache, 3)
    backend = remote.open()
    transfer.push(cache, backend, items)
    bad_oid = items[1][0]
    remote.write(oid_relpath(bad_oid), b"tampered bytes")
    other = ObjectStore(str(tmp_path / "other"))
    result = transfer.fetch(other, backend, items)
    assert sorted(result.transferred) == sorted([items[0][0], items[2][0]])
    [(oid, err)] = result.failed
    assert oid == bad_oid and isinstance(err, RemoteObjectCorruptError)
    message = str(err)
    assert bad_oid in message and remote.url in message and "\n" not in message
    assert not other.exists(bad_oid)
    leftovers = [n for _, _, files in os.walk(other.root) for n in files if n.endswith(".tmp")]
    assert leftovers == []
    assert transfer.verify(backend, items, scratch=cache) == [
        (bad_oid, hashlib.md5(b"tampered bytes").hexdigest())
    ]


def test_missing_remote_object(remote: RemoteCase, cache: ObjectStore) -> None:
    backend = remote.open()
    ghost = "f" * 32
    result = transfer.fetch(cache, backend, [(ghost, False)])
    [(oid, err)] = result.failed
    assert oid == ghost and isinstance(err, RemoteObjectMissingError)
    assert ghost in str(err) and not cache.exists(ghost)
    assert transfer.verify(backend, [(ghost, False)], scratch=cache) == [(ghost, "missing")]


def test_push_reports_objects_missing_from_cache(remote: RemoteCase, cache: ObjectStore) -> None:
    items = make_objects(cache, 2)
    ghost = ("e" * 32, False)
    result = transfer.push(cache, remote.open(), [*items, ghost])
    assert sorted(result.transferred) == sorted(o for o, _ in items)
    assert [oid for oid, _ in result.failed] == [ghost[0]]


def test_list_and_remove(remote: RemoteCase, cache: ObjectStore) -> None:
    items = make_objects(cache, 30)
    backend = remote.open()
    transfer.push(cache, backend, items)
    # A temporary name from a killed upload is never taken for an object.
    remote.write(f"{oid_relpath(items[0][0])}.abc123.tmp", b"partial")
    assert transfer.list_objects(backend) == set(items)
    assert transfer.remove(backend, items[:10]) == 10
    assert transfer.list_objects(backend) == set(items[10:])
    assert transfer.list_objects(backend, legacy=True) == set()


def test_listing_says_when_each_object_arrived(remote: RemoteCase, cache: ObjectStore) -> None:
    """gc's grace period reads ages from the listing it makes anyway (S3's
    LastModified, an SFTP or folder mtime, GCS's updated, Azure's last modified)."""
    items = make_objects(cache, 3)
    backend = remote.open()
    before = time.time()
    transfer.push(cache, backend, items)
    after = time.time()
    remote.write(f"{oid_relpath(items[0][0])}.abc123.tmp", b"partial")
    listed = transfer.list_object_times(backend, legacy=False)
    assert set(listed) == set(items)
    for changed in listed.values():  # the servers' clocks are this machine's; some keep seconds
        assert changed is not None and before - 2 <= changed <= after + 2, (before, changed)


def test_progress_is_reported(remote: RemoteCase, cache: ObjectStore) -> None:
    events: list[tuple[str, object]] = []

    class Recorder:
        def start(self, desc: str, total: int | None) -> None:
            events.append(("start", (desc, total)))

        def advance(self, n: int = 1) -> None:
            events.append(("advance", n))

        def done(self) -> None:
            events.append(("done", None))

    items = make_objects(cache, 5)
    transfer.push(cache, remote.open(), items, progress=Recorder())
    assert ("start", ("Uploading", 5)) in events
    uploads = events[events.index(("start", ("Uploading", 5))) :]
    assert sum(n for kind, n in uploads if kind == "advance") == 5  # type: ignore[misc]
    assert events[-1] == ("done", None)


def test_large_object_round_trip(remote: RemoteCase, cache: ObjectStore, tmp_path: Path) -> None:
    """Bigger than the S3 backend's multipart threshold."""
    big = tmp_path / "big"
    with open(big, "wb") as fobj:
        for i in range(20):
            fobj.write(bytes([i]) * (1 << 20))
    oid = cache.add_file(str(big))
    backend = remote.open()
    assert transfer.push(cache, backend, [(oid, False)]).transferred == [oid]
    other = ObjectStore(str(tmp_path / "other"))
    assert transfer.fetch(other, backend, [(oid, False)]).transferred == [oid]
    assert file_md5(other.path(oid)) == oid
    assert all(is_oid(k.rsplit("/", 2)[-2] + k.rsplit("/", 1)[-1]) for k in remote.stored_keys())


def test_corrupt_large_object_is_refused(
    remote: RemoteCase, cache: ObjectStore, tmp_path: Path
) -> None:
    """A download streamed in chunks (S3 hashes it on the way) is checked too."""
    big = tmp_path / "big"
    big.write_bytes(b"a" * (9 << 20))
    oid = cache.add_file(str(big))
    backend = remote.open()
    transfer.push(cache, backend, [(oid, False)])
    remote.write(oid_relpath(oid), b"b" * (9 << 20))
    other = ObjectStore(str(tmp_path / "other"))
    result = transfer.fetch(other, backend, [(oid, False)])
    [(failed, err)] = result.failed
    assert failed == oid and isinstance(err, RemoteObjectCorruptError)
    assert err.actual == hashlib.md5(b"b" * (9 << 20)).hexdigest()
    assert not other.exists(oid)


# -- reading files that are not objects (import-url's sources) -------------------------

SOURCE = {"src/a.txt": b"a\n", "src/sub/b.txt": b"bb\n", "src/sub/deeper/c.txt": b"ccc\n"}


def _checksum(remote: RemoteCase, data: bytes) -> str | None:
    """What dvc records of a file of this store: the md5 the servers make
    their etags of (moto, fake-gcs-server), Azure's quoted etag, or nothing
    where the content is hashed."""
    if remote.kind in ("folder", "sftp"):
        return None
    if remote.kind == "azure":
        return '"<any>"'
    return hashlib.md5(data).hexdigest()


def test_source_primitives(remote: RemoteCase, tmp_path: Path) -> None:
    for key, data in SOURCE.items():
        remote.write(key, data)
    backend = remote.open()
    stat = backend.stat("src/a.txt")
    assert (stat.relpath, stat.size) == ("src/a.txt", 2)
    expected = _checksum(remote, b"a\n")
    if expected == '"<any>"':
        assert stat.checksum and stat.checksum.startswith('"') and stat.checksum.endswith('"')
    else:
        assert stat.checksum == expected
    assert backend.checksum_name == ("md5" if expected is None else "etag")
    for absent in ("src/nothing", "src", "nowhere/x"):  # a folder is not a file either
        with pytest.raises(FileNotFoundError):
            backend.stat(absent)
    walked = sorted(backend.walk("src"), key=lambda s: s.relpath)
    assert [(s.relpath, s.size) for s in walked] == [
        ("a.txt", 2), ("sub/b.txt", 3), ("sub/deeper/c.txt", 4)
    ]  # fmt: skip
    assert walked[0].checksum == stat.checksum
    assert sorted(s.relpath for s in backend.walk("src/sub")) == ["b.txt", "deeper/c.txt"]
    assert list(backend.walk("nowhere")) == []
    out = tmp_path / "out"
    backend.get_file("src/sub/deeper/c.txt", str(out))  # any relpath, not only an object's
    assert out.read_bytes() == b"ccc\n"


def test_versions_are_refused_where_they_cannot_be_read(remote: RemoteCase, tmp_path: Path) -> None:
    remote.write("src/a.txt", b"a\n")
    backend = remote.open()
    if backend.versioned_reads:
        pytest.skip("this store reads versions (tested on a versioned bucket)")
    with pytest.raises(RemoteConfigError, match="versions"):
        list(backend.walk("src", versions=True))
    with pytest.raises(RemoteConfigError, match="versions"):
        backend.get_file("src/a.txt", str(tmp_path / "x"), version_id="1")


def test_s3_versions_of_a_versioned_bucket(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = client.put_object(Bucket=bucket, Key="src/a.txt", Body=b"one\n")["VersionId"]
    client.put_object(Bucket=bucket, Key="src/sub/b.txt", Body=b"b\n")
    second = client.put_object(Bucket=bucket, Key="src/a.txt", Body=b"two!\n")["VersionId"]
    backend = open_remote(f"s3://{bucket}", s3_server.options())
    try:
        stat = backend.stat("src/a.txt")
        assert (stat.size, stat.version_id, stat.checksum) == (
            5, second, hashlib.md5(b"two!\n").hexdigest()
        )  # fmt: skip
        walked = {s.relpath: s for s in backend.walk("src", versions=True)}
        assert walked["a.txt"].version_id == second and walked["sub/b.txt"].version_id
        assert all(s.version_id is None for s in backend.walk("src"))  # a listing names none
        old = tmp_path / "old"
        backend.get_file("src/a.txt", str(old), version_id=first)
        assert old.read_bytes() == b"one\n"
    finally:
        backend.close()


def test_http_source_reads_files_as_dvc_records_them(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "f.csv").write_bytes(b"x,y\n")
    server = start_http_server(site)
    try:
        backend = open_remote(server.url, {})
        stat = backend.stat("f.csv")
        # No ETag from this server: dvc records fsspec's token of what the server said.
        assert stat.size == 4 and stat.checksum is not None and stat.checksum.isdigit()
        assert backend.checksum_name == "checksum" and math.isinf(backend.list_cost)
        with pytest.raises(FileNotFoundError):
            backend.stat("nothing.csv")
        with pytest.raises(RemoteConfigError, match="cannot be listed"):
            list(backend.walk(""))
        out = tmp_path / "out"
        backend.get_file("f.csv", str(out))
        assert out.read_bytes() == b"x,y\n"
    finally:
        server.stop()
    # Gone: "could not tell", never "absent".
    with pytest.raises(RemoteUnavailableError):
        backend.stat("f.csv")
    with pytest.raises(RemoteUnavailableError):
        backend.exists_many(["f.csv"])
    backend.close()


def test_stat_of_an_unreachable_s3_endpoint_is_an_error_not_absent() -> None:
    keys = {"access_key_id": "k", "secret_access_key": "s"}
    backend = open_remote("s3://bucket", {"endpointurl": "http://127.0.0.1:1", **keys})
    try:
        with pytest.raises(RemoteUnavailableError):
            backend.stat("a.txt")
        with pytest.raises(RemoteUnavailableError):
            list(backend.walk("src"))
    finally:
        backend.close()


# -- streamed and ranged reads ---------------------------------------------------------

BIG = (5 << 19) + 12_345  # 2.5 MiB and a bit: several chunks, the last one short


def test_read_chunks_streams_the_whole_file_and_ranges(remote: RemoteCase) -> None:
    """Chunks bounded by READ_CHUNK, and ranges cut exactly, on every backend."""
    data = os.urandom(BIG)
    remote.write("src/big.bin", data)
    remote.write("src/empty.bin", b"")
    backend = remote.open()
    chunks = list(backend.read_chunks("src/big.bin"))
    assert b"".join(chunks) == data
    assert len(chunks) >= 3 and all(0 < len(c) <= READ_CHUNK for c in chunks)
    size = len(data)
    middle = (READ_CHUNK - 100, READ_CHUNK + 100)  # across a chunk boundary
    for start, end in [(0, 1), middle, (size - 10, size), (size - 10, size + 5), (7, 7)]:
        assert read_range(backend, "src/big.bin", start, end) == data[start:end], (start, end)
    assert read_range(backend, "src/big.bin", size, size + 5) == b""
    assert read_range(backend, "src/big.bin", size + 100, size + 200) == b""
    tail = list(backend.read_chunks("src/big.bin", start=READ_CHUNK + 3))
    assert b"".join(tail) == data[READ_CHUNK + 3 :] and all(len(c) <= READ_CHUNK for c in tail)
    assert b"".join(backend.read_chunks("src/big.bin", start=size)) == b""
    assert b"".join(backend.read_chunks("src/empty.bin")) == b""
    assert read_range(backend, "src/empty.bin", 0, 5) == b""


def test_read_chunks_of_a_missing_file_and_an_abandoned_read(remote: RemoteCase) -> None:
    """Errors come from the first next(); a read stopped early (its file or
    connection let go) leaves the backend usable."""
    data = os.urandom(BIG)
    remote.write("src/big.bin", data)
    backend = remote.open()
    for absent in ("src/nothing", "nowhere/x", "src"):  # a folder is not a file either
        chunks = backend.read_chunks(absent)  # a generator: nothing asked yet
        with pytest.raises(FileNotFoundError) as info:
            next(chunks)
        assert not isinstance(info.value, RemoteAccessError)  # the file, not the store
        with pytest.raises(FileNotFoundError) as info:
            read_range(backend, absent, 0, 0)  # nothing to read, still no such file
        assert not isinstance(info.value, RemoteAccessError)
    for _ in range(3):
        chunks = backend.read_chunks("src/big.bin")
        first = next(chunks)
        assert first and data.startswith(first)
        chunks.close()
    assert read_range(backend, "src/big.bin", 5, 10) == data[5:10]
    assert backend.stat("src/big.bin").size == len(data)


def _left_by_a_killed_process(stem: str) -> str:
    """A temporary name as a process of this host makes it, the process gone."""
    import subprocess
    import sys

    code = f"from bale.fsutil import tmp_name; print(tmp_name({stem!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


@pytest.mark.parametrize("remote", ["folder", "sftp"], indirect=True)  # the others: no temporaries
def test_an_upload_removes_what_a_killed_upload_left(
    remote: RemoteCase, cache: ObjectStore
) -> None:
    """A folder remote's uploads land beside their object, an SFTP remote's
    in its root: the next upload there removes those of dead processes (a
    rerun leaves no temporary file), never a running one's (this process's)."""
    from bale.fsutil import tmp_name

    [(oid, _)] = make_objects(cache, 1)
    rel = oid_relpath(oid)
    where = rel.rsplit("/", 1)[0] + "/" if remote.kind == "folder" else ""
    dead = where + _left_by_a_killed_process(rel.rsplit("/", 1)[1] if where else "upload")
    live = where + os.path.basename(tmp_name("upload"))
    for key in (dead, live):
        remote.write(key, b"half an object")
    transfer.push(cache, remote.open(), [(oid, False)])
    keys = remote.stored_keys()
    assert rel in keys and live in keys and dead not in keys, keys
