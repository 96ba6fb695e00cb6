"""The conformance suite: every backend, the same primitives and engine behaviour."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from bale.errors import RemoteObjectCorruptError, RemoteObjectMissingError
from bale.hashing.md5 import file_md5
from bale.odb.layout import is_oid, oid_relpath
from bale.odb.store import ObjectStore
from bale.remotes import transfer
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
    assert transfer.verify(backend, wanted) == []


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
    assert transfer.verify(backend, items) == [
        (bad_oid, hashlib.md5(b"tampered bytes").hexdigest())
    ]


def test_missing_remote_object(remote: RemoteCase, cache: ObjectStore) -> None:
    backend = remote.open()
    ghost = "f" * 32
    result = transfer.fetch(cache, backend, [(ghost, False)])
    [(oid, err)] = result.failed
    assert oid == ghost and isinstance(err, RemoteObjectMissingError)
    assert ghost in str(err) and not cache.exists(ghost)
    assert transfer.verify(backend, [(ghost, False)]) == [(ghost, "missing")]


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
