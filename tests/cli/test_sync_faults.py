"""Faults end to end: killed push and pull, a server that stops midway, corrupt
remote objects, and remotes that cannot be used (keys, bucket, host, scheme).

Each refusal is one `ERROR:` line with the fix, exit 1, no traceback, no
secret in the output, and nothing written.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.test_sync import (
    TRACKED,
    TRACKED_OIDS,
    Remote,
    any_remote,
    clone,
    commit_all,
    md5,
    object_key,
    s3_remote,
    workspace_files,
)
from tests.cli.util import assert_cache_valid, assert_error, cache_objects, snapshot, write_tree
from tests.fixtures.servers import S3Server, start_s3_server

MANY = 200  # small files: enough that a one-job transfer takes a moment


def bale_argv() -> list[str]:
    import os
    import shutil

    exe = shutil.which("bale", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "bale"]


def many_files(repo: Path, count: int = MANY) -> dict[str, bytes]:
    files = {f"many/{i:04d}.txt": f"small file {i}\n".encode() * (1 + i % 5) for i in range(count)}
    write_tree(repo, files)
    return files


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*bale_argv(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, what: str) -> None:
    """Poll until `condition()` holds; fail if the process ended first."""
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within a minute"
        time.sleep(0.02)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_secret(proc: subprocess.CompletedProcess, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in proc.stdout + proc.stderr, "a secret was printed"


# -- killed and rerun ------------------------------------------------------------------------


@pytest.fixture
def many(repo: Path, bale, git, s3_server: S3Server) -> tuple[Path, Remote, set[str]]:
    """A repository tracking MANY small files, with an empty S3 remote as default."""
    files = many_files(repo)
    bale("add", "many", cwd=repo)
    store = s3_remote(s3_server)
    store.configure(bale, repo)
    commit_all(git, repo, "many")
    return repo, store, {md5(data) for data in files.values()} | {_dir_oid(repo, "many.dvc")}


def _dir_oid(repo: Path, dvcfile: str) -> str:
    for line in repo.joinpath(dvcfile).read_text().splitlines():
        if line.strip().startswith("- md5:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no md5 in {dvcfile}")


def test_killed_push_leaves_only_whole_objects_and_a_rerun_completes(many, bale):
    repo, store, oids = many
    proc = start(["push", "-j", "1"], repo)
    wait_for(lambda: len(store.oids()) >= 5, proc, "some objects on the remote")
    kill(proc)
    before = store.assert_whole()
    assert 5 <= len(before) < len(oids), "the kill should land midway"

    bale("push", cwd=repo)
    assert store.assert_whole() == oids
    assert (
        bale("status", "-c", cwd=repo).stdout.strip() == "Cache and remote 'storage' are in sync."
    )
    assert bale("fsck", "-c", cwd=repo).stdout.strip() == "All objects match their names."


def test_killed_pull_leaves_only_whole_objects_and_a_rerun_completes(
    many, tmp_path: Path, bale, git
):
    repo, _store, oids = many
    bale("push", cwd=repo)
    other = clone(git, repo, tmp_path / "clone")
    proc = start(["pull", "-j", "1"], other)
    wait_for(lambda: len(cache_objects(other)) >= 5, proc, "some objects in the cache")
    kill(proc)
    assert_cache_valid(other)  # every object under its final name hashes to it
    assert 5 <= len(cache_objects(other)) < len(oids), "the kill should land midway"

    bale("pull", cwd=other)
    assert set(cache_objects(other)) == oids
    assert_cache_valid(other)
    assert workspace_files(other, "many") == workspace_files(repo, "many")
    assert bale("status", cwd=other).stdout.strip() == "Data and pipelines are up to date."
    assert bale("fsck", "-c", cwd=other).stdout.strip() == "All objects match their names."


# -- the server stops midway -----------------------------------------------------------------


@pytest.fixture
def private_s3() -> Iterator[S3Server]:
    """A moto server of this test's own, which it may stop."""
    server = start_s3_server(auth=False)
    yield server
    server.proc.send_signal(signal.SIGCONT)
    server.stop()


@pytest.mark.parametrize("how", ["killed", "frozen"])
def test_s3_server_stopped_mid_push(repo: Path, private_s3: S3Server, bale, git, how: str):
    many_files(repo)
    bale("add", "many", cwd=repo)
    store = s3_remote(private_s3)
    store.options |= {"read_timeout": "1", "connect_timeout": "1"}
    store.configure(bale, repo)
    commit_all(git, repo, "many")

    proc = start(["push", "-j", "1"], repo)
    wait_for(lambda: len(store.oids()) >= 5, proc, "some objects on the remote")
    if how == "killed":
        private_s3.stop()
    else:
        private_s3.proc.send_signal(signal.SIGSTOP)
    out, err = proc.communicate(timeout=120)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    line = assert_error(done, store.url)
    assert "endpointurl" in line or "reach" in line or "timed out" in line, line
    assert_no_secret(done, store.secrets)
    if how == "frozen":
        private_s3.proc.send_signal(signal.SIGCONT)
        time.sleep(0.5)  # let the server finish what it had received
        store.assert_whole()  # nothing partial under a final key


# -- a corrupt object on the remote ----------------------------------------------------------


@pytest.fixture
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    return any_remote(request, tmp_path)


@pytest.mark.parametrize(
    ("remote", "which"),
    [("folder", "file"), ("s3", "file"), ("sftp", "file"), ("folder", "manifest")],
    indirect=["remote"],
)
def test_corrupt_remote_object_is_refused_on_pull(
    tracked: Path, remote: Remote, tmp_path: Path, bale, git, which: str
):
    remote.configure(bale, tracked)
    commit_all(git, tracked, "remote")
    bale("push", cwd=tracked)
    bad = md5(TRACKED["model.bin"]) if which == "file" else _dir_oid(tracked, "data.dvc")
    remote.write(object_key(bad), b"not what was pushed\n")

    other = clone(git, tracked, tmp_path / "clone")
    before = snapshot(other, skip=(".dvc/cache",))
    proc = bale("pull", cwd=other, ok=False)
    assert_error(proc, bad, "corrupt")
    assert bad not in cache_objects(other)
    assert_cache_valid(other)
    # Nothing was checked out; what else was fetched is in the cache, whole
    # (without the folder's manifest, its files are unknown).
    assert snapshot(other, skip=(".dvc/cache",)) == before
    fetched = TRACKED_OIDS - {bad} if which == "file" else {md5(TRACKED["model.bin"])}
    assert set(cache_objects(other)) == fetched
    fsck = bale("fsck", "-c", cwd=other, ok=False)
    assert f"corrupt: {bad}" in fsck.stdout
    assert_error(fsck, "do not match")

    if remote.kind == "folder":  # the fix the error names: delete it, push a good copy
        assert remote.root is not None
        remote.root.joinpath(object_key(bad)).unlink()
        bale("push", cwd=tracked)
        bale("pull", cwd=other)
        assert workspace_files(other, "data", "model.bin") == TRACKED
