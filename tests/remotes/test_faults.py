"""Faults: a killed transfer, a server that stops or freezes, transient failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bale.errors import RemoteAuthError, RemoteUnavailableError
from bale.odb.layout import oid_from_parts, oid_relpath
from bale.odb.store import ObjectStore
from bale.remotes import open_remote, runner, transfer
from bale.remotes.local import LocalBackend
from tests.fixtures.servers import start_s3_server
from tests.remotes.conftest import RemoteCase, make_objects

ROOT = Path(__file__).resolve().parents[2]


def make_big_objects(cache: ObjectStore, tmp: Path, count: int, mib: int) -> list[tuple[str, bool]]:
    items = []
    for i in range(count):
        path = tmp / f"big{i}"
        with open(path, "wb") as fobj:
            fobj.write(os.urandom(16) * (1 << 16))  # distinct objects from run to run
            for j in range(1, mib):
                fobj.write(bytes([i, j % 256]) * (1 << 19))
        items.append((cache.add_file(str(path)), False))
        path.unlink()
    return items


def assert_only_whole_objects(remote: RemoteCase) -> list[str]:
    """Every key with an object's name holds exactly that object's bytes."""
    import hashlib

    names = []
    for key in remote.stored_keys():
        parts = key.split("/")
        oid = oid_from_parts(parts[-2], parts[-1]) if len(parts) >= 2 else None
        if oid is None:
            continue  # a temporary name from the killed upload: never an object
        assert hashlib.md5(remote.read(key)).hexdigest() == oid, key
        names.append(oid)
    return names


@pytest.mark.reliability("kills")
@pytest.mark.slow_but_folder
def test_killed_push_leaves_no_partial_object_and_resumes(
    remote: RemoteCase, cache: ObjectStore, tmp_path: Path
) -> None:
    items = make_big_objects(cache, tmp_path, 6, 12) + make_objects(cache, 600)
    oids_file = tmp_path / "oids"
    oids_file.write_text("".join(f"{oid}\n" for oid, _ in items))
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.remotes.pusher",
            "push",
            cache.root,
            remote.url,
            json.dumps(remote.options),
            str(oids_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not remote.stored_keys() and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    before = assert_only_whole_objects(remote)
    assert len(before) < len(items), "the kill should land before the end"

    backend = remote.open()
    result = transfer.push(cache, backend, items)
    assert result.failed == []
    assert sorted(result.transferred + result.skipped) == sorted(o for o, _ in items)
    assert set(before) <= set(result.skipped)
    assert sorted(assert_only_whole_objects(remote)) == sorted(o for o, _ in items)
    assert transfer.verify(backend, items, scratch=cache) == []


@pytest.mark.reliability("kills")
@pytest.mark.slow_but_folder
def test_killed_fetch_resumes(remote: RemoteCase, cache: ObjectStore, tmp_path: Path) -> None:
    items = make_big_objects(cache, tmp_path, 4, 12) + make_objects(cache, 40)
    transfer.push(cache, remote.open(), items)
    other = ObjectStore(str(tmp_path / "other"))
    oids_file = tmp_path / "oids"
    oids_file.write_text("".join(f"{oid}\n" for oid, _ in items))
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.remotes.pusher",
            "fetch",
            other.root,
            remote.url,
            json.dumps(remote.options),
            str(oids_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not other.oids() and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    for oid in other.oids():
        assert other.verify(oid) == oid  # nothing unverified entered the cache
    result = transfer.fetch(other, remote.open(), items)
    assert result.failed == []
    assert sorted(other.oids()) == sorted(o for o, _ in items)


class StopAfter:
    """A progress receiver that runs `action` once `count` uploads are done."""

    def __init__(self, count: int, action) -> None:
        self.count, self.action, self.seen = count, action, 0
        self.uploading = False

    def start(self, desc: str, total: int | None) -> None:
        self.uploading = desc == "Uploading"

    def advance(self, n: int = 1) -> None:
        if self.uploading:
            self.seen += n
            if self.seen == self.count:
                self.action()

    def done(self) -> None:
        return None


@pytest.mark.reliability("network faults")
@pytest.mark.slow
def test_s3_server_stopped_mid_push(cache: ObjectStore) -> None:
    server = start_s3_server(auth=False)
    try:
        items = make_objects(cache, 300)
        backend = open_remote(f"s3://{server.new_bucket()}/x", server.options())
        with pytest.raises(RemoteUnavailableError) as info:
            transfer.push(cache, backend, items, jobs=8, progress=StopAfter(40, server.stop))
        message = str(info.value)
        assert "\n" not in message and "endpointurl" in message
        assert server.secret_access_key not in message
    finally:
        server.stop()


@pytest.mark.reliability("network faults")
@pytest.mark.slow
def test_s3_server_frozen_mid_push_then_resumed(cache: ObjectStore, tmp_path: Path) -> None:
    """A server that stops answering: a clear error; once it is back, only whole
    objects are visible and a rerun completes."""
    server = start_s3_server(auth=False)
    try:
        items = make_big_objects(cache, tmp_path, 3, 10) + make_objects(cache, 100)
        bucket = server.new_bucket()
        case = RemoteCase("s3", f"s3://{bucket}/x", {}, s3=server, bucket=bucket, prefix="x")
        backend = open_remote(case.url, server.options(read_timeout="1", connect_timeout="1"))

        def freeze() -> None:
            server.proc.send_signal(signal.SIGSTOP)

        with pytest.raises(RemoteUnavailableError):
            transfer.push(cache, backend, items, jobs=4, progress=StopAfter(30, freeze))
        server.proc.send_signal(signal.SIGCONT)
        time.sleep(0.5)
        assert_only_whole_objects(case)
        result = transfer.push(cache, backend, items)
        assert result.failed == []
        assert sorted(assert_only_whole_objects(case)) == sorted(o for o, _ in items)
    finally:
        server.proc.send_signal(signal.SIGCONT)
        server.stop()


class Flaky:
    """A real folder backend whose puts fail transiently `failures` times each."""

    def __init__(self, inner: LocalBackend, failures: int) -> None:
        self.inner, self.failures = inner, failures
        self.url, self.default_jobs = inner.url, 2
        self.list_cost, self.page_size = inner.list_cost, inner.page_size
        self.name_cost = inner.name_cost
        self.local = False  # it counts attempts in memory: no forked workers
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()

    def put_file(self, local_path: str, relpath: str) -> None:
        with self.lock:
            self.attempts[relpath] = self.attempts.get(relpath, 0) + 1
            fail = self.attempts[relpath] <= self.failures
        if fail:
            raise RemoteUnavailableError(self.url, "connection reset (test)")
        self.inner.put_file(local_path, relpath)

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        return self.inner.exists_many(relpaths)

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        return self.inner.iter_prefix(prefix)

    def get_file(self, relpath: str, local_path: str) -> None:
        self.inner.get_file(relpath, local_path)

    def remove_many(self, relpaths: Sequence[str]) -> None:
        self.inner.remove_many(relpaths)

    def local_path(self, relpath: str) -> str | None:
        return None

    def close(self) -> None:
        return None


@pytest.mark.reliability("network faults")
def test_transient_errors_are_retried(cache: ObjectStore, tmp_path: Path) -> None:
    items = make_objects(cache, 4)
    flaky = Flaky(LocalBackend(str(tmp_path / "r")), failures=2)
    result = transfer.push(cache, flaky, items)
    assert sorted(result.transferred) == sorted(o for o, _ in items)
    assert set(flaky.attempts.values()) == {3}


@pytest.mark.reliability("network faults")
def test_persistent_transient_error_gives_up(cache: ObjectStore, tmp_path: Path) -> None:
    items = make_objects(cache, 4)
    flaky = Flaky(LocalBackend(str(tmp_path / "r")), failures=99)
    with pytest.raises(RemoteUnavailableError):
        transfer.push(cache, flaky, items)
    assert max(flaky.attempts.values()) == runner.ATTEMPTS
    assert not [p for p in (tmp_path / "r").rglob("*") if p.is_file()]


@pytest.mark.reliability("network faults")
def test_permanent_errors_are_not_retried(cache: ObjectStore, tmp_path: Path) -> None:
    class Denied(Flaky):
        def put_file(self, local_path: str, relpath: str) -> None:
            with self.lock:
                self.attempts[relpath] = self.attempts.get(relpath, 0) + 1
            raise RemoteAuthError(self.url, "permission denied (test)")

    denied = Denied(LocalBackend(str(tmp_path / "r")), failures=0)
    with pytest.raises(RemoteAuthError):
        transfer.push(cache, denied, make_objects(cache, 3))
    assert set(denied.attempts.values()) == {1}


@pytest.mark.reliability("kills")
def test_folder_push_is_atomic_per_object(cache: ObjectStore, tmp_path: Path) -> None:
    """A folder remote's objects are read-only, like DVC's, and named only when whole."""
    items = make_objects(cache, 3)
    backend = open_remote(str(tmp_path / "r"))
    transfer.push(cache, backend, items)
    for oid, _ in items:
        path = tmp_path / "r" / oid_relpath(oid)
        assert path.stat().st_mode & 0o777 == 0o444
    assert not list((tmp_path / "r").rglob("*.tmp"))
