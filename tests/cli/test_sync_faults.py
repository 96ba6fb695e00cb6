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
    in_sync,
    md5,
    object_key,
    s3_remote,
    sftp_remote,
    workspace_files,
)
from tests.cli.util import (
    assert_cache_valid,
    assert_error,
    cache_objects,
    snapshot,
    write_tree,
)
from tests.fixtures.servers import S3Server, SFTPServer, start_s3_server

MANY = 150  # small files: enough that a one-job transfer takes a moment


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


@pytest.mark.reliability("kills")
def test_killed_push_leaves_only_whole_objects_and_a_rerun_completes(many, bale):
    repo, store, oids = many
    proc = start(["push", "-j", "1"], repo)
    wait_for(lambda: len(store.oids()) >= 5, proc, "some objects on the remote")
    kill(proc)
    before = store.assert_whole()
    assert 5 <= len(before) < len(oids), "the kill should land midway"

    bale("push", cwd=repo)
    assert store.oids() == oids
    assert bale("status", "-c", cwd=repo).stdout.strip() == in_sync("storage")
    assert bale("fsck", "-c", cwd=repo).stdout.strip() == "All objects match their names."


@pytest.mark.reliability("kills")
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
    assert bale("fsck", cwd=other).stdout.strip() == "All objects match their names."


# -- the server stops midway -----------------------------------------------------------------


@pytest.fixture
def private_s3() -> Iterator[S3Server]:
    """A moto server of this test's own, which it may stop."""
    server = start_s3_server(auth=False)
    yield server
    server.proc.send_signal(signal.SIGCONT)
    server.stop()


# The client's retries run their course: 5 s killed, 10-17 s frozen (`make test-slow`).
@pytest.mark.reliability("network faults")
@pytest.mark.parametrize("how", ["killed", pytest.param("frozen", marks=pytest.mark.slow)])
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
@pytest.mark.reliability("network faults")
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
    assert_error(fsck, "does not match its name")

    if remote.kind == "folder":  # the fix the error names: delete it, push a good copy
        assert remote.root is not None
        remote.root.joinpath(object_key(bad)).unlink()
        bale("push", cwd=tracked)
        bale("pull", cwd=other)
        assert workspace_files(other, "data", "model.bin") == TRACKED


# -- remotes that cannot be used -------------------------------------------------------------


def broken_remote(case: str, request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    """A remote that fails as `case` says, configured through the usual options."""
    if case.startswith("s3"):
        s3: S3Server = request.getfixturevalue("s3_server")
        store = s3_remote(s3)
        if case == "s3-wrong-secret":
            store.options["secret_access_key"] = "WrongSecret" + s3.secret_access_key[11:]
        elif case == "s3-unknown-key":
            store.options["access_key_id"] = "AKIAUNKNOWNKEY000000"
        elif case == "s3-read-only-key":
            store.options["access_key_id"] = s3.read_access_key_id
            store.options["secret_access_key"] = s3.read_secret_access_key
        elif case == "s3-unknown-bucket":
            store.url = "s3://no-such-bucket-for-bale/store"
        elif case == "s3-closed-port":
            store.options["endpointurl"] = f"http://127.0.0.1:{closed_port()}"
        return store
    if case.startswith("ssh"):
        sftp: SFTPServer = request.getfixturevalue("sftp_server")
        store = sftp_remote(sftp, tmp_path)
        if case == "ssh-closed-port":
            store.url = f"ssh://{sftp.user}@127.0.0.1:{closed_port()}/x"
        elif case == "ssh-wrong-password":
            store.options = {"password": "Wrong-" + sftp.password}
        elif case == "ssh-missing-keyfile":
            store.options = {"keyfile": str(tmp_path / "no-such-key")}
        return store
    assert case == "unknown-scheme"
    return Remote("weird", "storage", "s3x://bucket/store")


ACCESS_CASES = {
    # case: (what the error line names, the fix it gives)
    "s3-wrong-secret": ("credentials were refused", "secret_access_key"),
    "s3-unknown-key": ("credentials were refused", "access_key_id"),
    "s3-read-only-key": ("access denied", "check the keys"),
    "s3-unknown-bucket": ("'no-such-bucket-for-bale' does not exist", "fix the remote's url"),
    "s3-closed-port": ("cannot reach", "endpointurl"),
    "ssh-closed-port": ("refused", "check host and port"),
    "ssh-wrong-password": ("refused the login", "password"),
    "ssh-missing-keyfile": ("no-such-key", "keyfile"),
    "unknown-scheme": ("unknown URL scheme 's3x://'", "s3://"),
}


@pytest.mark.parametrize("case", list(ACCESS_CASES))
def test_a_remote_that_cannot_be_used(
    case: str, tracked: Path, tmp_path: Path, request: pytest.FixtureRequest, bale, git
):
    store = broken_remote(case, request, tmp_path)
    if store.kind == "weird":  # `remote add` refuses it: written by hand, as an old config could be
        with (tracked / ".dvc" / "config").open("a") as fobj:
            fobj.write(
                f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {store.url}\n"
            )
    else:
        store.configure(bale, tracked)
    commit_all(git, tracked, "remote")
    other = clone(git, tracked, tmp_path / "clone")
    secrets = [v for k, v in store.options.items() if k in ("secret_access_key", "password")]
    needles = ACCESS_CASES[case]

    commands = [(tracked, "push"), (other, "pull")]
    if case.endswith("closed-port"):
        commands = commands[:1]  # each command retries for seconds: one is enough
    elif case == "s3-read-only-key":
        commands = commands[:1]  # reading is allowed
        assert "new:" in bale("status", "-c", cwd=tracked).stdout
    for cwd, command in commands:
        # A failed pull may leave an empty cache folder, never an object.
        before = snapshot(tmp_path, skip=("clone/.dvc/cache",))
        proc = bale(command, cwd=cwd, ok=False)
        assert_error(proc, *needles)
        assert_no_secret(proc, secrets)
        assert snapshot(tmp_path, skip=("clone/.dvc/cache",)) == before
        assert not cache_objects(other)
    assert not store.s3 or not store.stored_keys()
    # -v adds the traceback a bug report needs, and still no secret.
    if case in ("s3-wrong-secret", "s3-unknown-key", "ssh-wrong-password"):
        assert_no_secret(bale("push", "-v", cwd=tracked, ok=False), secrets)
