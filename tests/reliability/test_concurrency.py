"""Two processes at once, end to end with real bale, dvc and git processes.

One repository: a command that finds `.dvc/tmp/lock` held waits for it (one
line naming the holder), then refuses with one `ERROR:` line after the bound
($BALE_LOCK_WAIT); bale and dvc exclude each other; a lock of a killed process
is free at once. push, fetch and pull wait for an add, a repro for a repro
(whose stage command holds the lock for as long as it runs). One remote, two
clones: both pushes succeed, whole objects.

A process is held inside the lock without sleeps: the test waits until the
lock file names the process and the lock is really taken, then SIGSTOPs it,
and SIGCONTs it once the waiter has said it waits.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bale.formats.dvcfile import parse_dvcfile
from bale.formats.lockfile import parse_lockfile
from tests.cli.test_sync import (
    Remote,
    clone,
    commit_all,
    folder_remote,
    in_sync,
    md5,
    object_key,
    objects_of,
    s3_remote,
)
from tests.cli.test_sync_faults import bale_argv, kill, many_files, wait_for
from tests.cli.util import assert_error, write_tree

pytestmark = pytest.mark.reliability("concurrency")

WAITING = "Waiting for another bale/dvc process"


def start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env},
    )  # fmt: skip


def lock_path(repo: Path) -> Path:
    return repo / ".dvc" / "tmp" / "lock"


def lock_taken(repo: Path) -> bool:
    """Whether some process holds the repository lock (a probe, released at once)."""
    path = lock_path(repo)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


def lock_names(repo: Path, pid: int) -> bool:
    path = lock_path(repo)
    return path.exists() and path.read_text().split()[:1] == [str(pid)]


def stop_inside_lock(repo: Path, proc: subprocess.Popen) -> None:
    """SIGSTOP `proc` while it holds the repository lock (its pid in the file, the
    flock taken); a process that let go before the stop is resumed and tried again."""
    while True:
        wait_for(lambda: lock_names(repo, proc.pid) and lock_taken(repo), proc, "the lock taken")
        proc.send_signal(signal.SIGSTOP)
        if lock_names(repo, proc.pid) and lock_taken(repo):
            return
        proc.send_signal(signal.SIGCONT)


@pytest.fixture
def held(repo: Path, bale, git) -> Iterator[tuple[Path, subprocess.Popen]]:
    """`repo` with `data` committed and a `bale add many` stopped inside the lock."""
    write_tree(repo, {"data/a.txt": "a\n", "data/b.txt": "b\n"})
    bale("add", "data", cwd=repo)
    commit_all(git, repo, "data")
    many_files(repo, 400)
    proc = start([*bale_argv(), "add", "many"], repo)
    stop_inside_lock(repo, proc)
    yield repo, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.communicate()


def assert_consistent(repo: Path, bale, dvc_exe: str) -> None:
    """Nothing corrupt: state database, `.dvc` files, cache, and dvc reads the repository."""
    state = repo / ".dvc" / "tmp" / "bale" / "state.db"
    if state.exists():
        with sqlite3.connect(state) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for dvcfile in repo.glob("*.dvc"):
        if dvcfile.is_file():
            parse_dvcfile(dvcfile.read_text(), origin=str(dvcfile))
    if (repo / "dvc.lock").exists():
        parse_lockfile((repo / "dvc.lock").read_text(), origin="dvc.lock")
    bale("status", cwd=repo)
    assert "All objects match their names." in bale("fsck", cwd=repo).stdout
    subprocess.run([dvc_exe, "status"], cwd=repo, check=True, capture_output=True)


# -- one repository ----------------------------------------------------------------------


DATA = {"data/a.txt": b"a\n", "data/b.txt": b"b\n"}


def remote_with_data(repo: Path, store: Remote, bale) -> None:
    """`store` (a folder) gets `data`'s objects, which the cache then lacks (a fetch's work)."""
    store.configure(bale, repo)
    for oid in objects_of(DATA, "data"):
        cached = repo / ".dvc" / "cache" / object_key(oid)
        (store.root / object_key(oid)).parent.mkdir(parents=True, exist_ok=True)
        (store.root / object_key(oid)).write_bytes(cached.read_bytes())
        cached.unlink()


@pytest.mark.parametrize(
    "second",
    [["checkout"], ["gc", "-w", "-f"], ["push"], ["fetch", "data"], ["pull", "data"]],
)
def test_second_command_waits_for_add(
    held, second: list[str], bale, dvc_exe: str, tmp_path: Path
) -> None:
    repo, add = held
    store = folder_remote(tmp_path)
    if second[0] == "push":
        store.configure(bale, repo)
    elif second[0] in ("fetch", "pull"):
        remote_with_data(repo, store, bale)
    if second[0] in ("checkout", "pull"):
        (repo / "data" / "a.txt").unlink()  # work for checkout
    waiter = start([*bale_argv(), *second], repo, BALE_LOCK_WAIT="60")
    line = waiter.stderr.readline()
    assert line.startswith(f"{WAITING} (pid {add.pid}: bale add many)"), line
    add.send_signal(signal.SIGCONT)
    assert add.wait() == 0, add.communicate()
    out, err = waiter.communicate()
    assert waiter.returncode == 0, (out, err)
    assert err == "", err  # the one waiting line, nothing else
    if second[0] in ("checkout", "pull"):
        assert (repo / "data" / "a.txt").read_text() == "a\n"
    assert (repo / "many.dvc").exists()
    if second == ["push"]:
        # planned after the add: the whole of what it made went up, no half of it
        assert bale("status", "-c", cwd=repo).stdout.strip() == in_sync("storage")
        assert store.assert_whole() >= objects_of(DATA, "data")
    if second[0] in ("fetch", "pull"):
        assert bale("status", cwd=repo).stdout.strip() == "Data and pipelines are up to date."
    assert_consistent(repo, bale, dvc_exe)  # gc planned after add: many's objects kept


# A stage command held until the test lets it go: it says it started, runs once.
_GATE = """
import os, time
open("runs.log", "a").write("ran\\n")
open("started", "w").close()
while not os.path.exists("go"):
    time.sleep(0.01)
open("out.txt", "w").write(open("in.txt").read().upper())
"""


def test_second_repro_waits_then_refuses_or_finds_it_done(
    repo: Path, bale, git, dvc_exe: str
) -> None:
    """The lock is held for a whole repro, its stage's command included: a second
    repro waits (one line naming the first), is refused after the bound, or after
    the first ends finds the stage done; the command ran once, dvc.lock is whole."""
    write_tree(repo, {"in.txt": "hello\n", "gate.py": _GATE, "dvc.yaml": (
        f"stages:\n  shout:\n    cmd: {sys.executable} gate.py\n"
        "    deps: [in.txt, gate.py]\n    outs: [out.txt]\n")})  # fmt: skip
    commit_all(git, repo, "pipeline")
    first = start([*bale_argv(), "repro"], repo)
    wait_for(lambda: (repo / "started").exists(), first, "the stage's command started")
    try:
        refused = bale("repro", cwd=repo, ok=False, env={**os.environ, "BALE_LOCK_WAIT": "0.3"})
        lines = refused.stderr.splitlines()
        assert len(lines) == 2 and lines[0].startswith(WAITING), refused.stderr
        refused.stderr = lines[1] + "\n"
        assert_error(refused, f"the repository is busy (pid {first.pid}: bale repro)")
        second = start([*bale_argv(), "repro"], repo, BALE_LOCK_WAIT="60")
        line = second.stderr.readline()
        assert line.startswith(f"{WAITING} (pid {first.pid}: bale repro)"), line
    finally:
        (repo / "go").touch()
    out, err = first.communicate()
    assert first.returncode == 0, (out, err)
    out, err = second.communicate()
    assert second.returncode == 0 and err == "", (out, err)
    assert "Stage 'shout' didn't change, skipping" in out
    assert (repo / "runs.log").read_text() == "ran\n"
    assert (repo / "out.txt").read_text() == "HELLO\n"
    assert bale("status", cwd=repo).stdout.strip() == "Data and pipelines are up to date."
    assert_consistent(repo, bale, dvc_exe)


def test_busy_after_the_bound(held, bale, dvc_exe: str) -> None:
    repo, add = held
    proc = bale("checkout", cwd=repo, ok=False, env={**os.environ, "BALE_LOCK_WAIT": "0.3"})
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(WAITING), proc.stderr
    proc.stderr = lines[1] + "\n"
    assert_error(proc, f"the repository is busy (pid {add.pid}: bale add many); try again",
                 "BALE_LOCK_WAIT")  # fmt: skip
    add.send_signal(signal.SIGCONT)
    assert add.wait() == 0
    assert_consistent(repo, bale, dvc_exe)


def test_two_pushes_at_once(repo: Path, bale, git, tmp_path: Path, dvc_exe: str) -> None:
    """push holds the lock, as dvc's does: one waits for the other, both succeed."""
    files = many_files(repo, 200)
    bale("add", "many", cwd=repo)
    store = folder_remote(tmp_path)
    store.configure(bale, repo)
    pushes = [start([*bale_argv(), "push", "-j", "2"], repo, BALE_LOCK_WAIT="60")
              for _ in range(2)]  # fmt: skip
    for proc in pushes:
        out, err = proc.communicate()
        assert proc.returncode == 0, (out, err)
    assert {md5(data) for data in files.values()} <= store.assert_whole()
    assert "All objects match their names." in bale("fsck", "-c", cwd=repo).stdout
    assert_consistent(repo, bale, dvc_exe)


# -- bale and dvc ----------------------------------------------------------------------------


def test_dvc_and_bale_exclude_each_other(held, bale, dvc_exe: str) -> None:
    repo, add = held
    write_tree(repo, {"other.txt": "other\n"})
    proc = subprocess.run([dvc_exe, "add", "other.txt"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode != 0 and "Unable to acquire lock" in proc.stderr, proc.stderr
    add.send_signal(signal.SIGCONT)
    assert add.wait() == 0

    # now dvc holds the lock: a dvc add stopped inside it (dvc unlocks around a stage's
    # command, so a repro cannot hold it)
    many_files(repo / "more", 400)
    dvc = start([dvc_exe, "add", "more/many"], repo)
    stop_inside_lock(repo, dvc)
    try:
        proc = bale(
            "add", "other.txt", cwd=repo, ok=False, env={**os.environ, "BALE_LOCK_WAIT": "0"}
        )
        assert_error(proc, f"the repository is busy (pid {dvc.pid}: ", "dvc add more/many)")
    finally:
        dvc.send_signal(signal.SIGCONT)
    out, err = dvc.communicate()
    assert dvc.returncode == 0, (out, err)
    bale("add", "other.txt", cwd=repo)
    assert_consistent(repo, bale, dvc_exe)


# -- stale and foreign locks -------------------------------------------------------------------


def test_lock_of_a_killed_add_is_free_at_once(held, bale, dvc_exe: str) -> None:
    repo, add = held
    kill(add)  # SIGKILL inside the lock, in the middle of hashing and caching
    assert not lock_taken(repo)
    proc = bale("add", "many", cwd=repo, env={**os.environ, "BALE_LOCK_WAIT": "0"})
    assert WAITING not in proc.stderr
    assert_consistent(repo, bale, dvc_exe)


@pytest.mark.parametrize("whose", ["dead", "live", "dvc"])
def test_lock_file_without_a_holder_is_taken(repo: Path, bale, whose: str) -> None:
    """The file's pid only names a holder: a dead pid, a reused (live) pid, dvc's ` PID`
    are all taken at once when no process holds the flock."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    text = {
        "dead": f" {gone.pid} {host} bale add many\n",
        "live": f" {os.getpid()} {host} bale add many\n",
        "dvc": f" {os.getpid()}\n",
    }[whose]
    lock_path(repo).parent.mkdir(parents=True, exist_ok=True)
    lock_path(repo).write_text(text)
    write_tree(repo, {"x.txt": "x\n"})
    proc = bale("add", "x.txt", cwd=repo, env={**os.environ, "BALE_LOCK_WAIT": "0"})
    assert WAITING not in proc.stderr
    assert lock_path(repo).read_text().startswith(" ")  # bale's own line now


_HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, sys.argv[2].encode())
print("held", flush=True)
sys.stdin.read()
"""


def test_another_hosts_lock_is_never_taken(repo: Path, bale) -> None:
    """A lock on a shared disk held from another host (its flock, its line): refused."""
    lock_path(repo).parent.mkdir(parents=True, exist_ok=True)
    other = subprocess.Popen(
        [sys.executable, "-c", _HOLD, lock_path(repo), " 4242 build-7.example bale push\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other.stdout.readline() == "held\n"
        write_tree(repo, {"x.txt": "x\n"})
        proc = bale("add", "x.txt", cwd=repo, ok=False, env={**os.environ, "BALE_LOCK_WAIT": "0"})
        assert_error(proc, "(pid 4242 on host build-7.example: bale push)",
                     "another host's lock is never taken")  # fmt: skip
    finally:
        other.communicate("")
    bale("add", "x.txt", cwd=repo)


# -- one remote, two clones ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_two_clones_push_to_one_remote_at_once(
    kind: str, repo: Path, bale, git, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store: Remote = (
        folder_remote(tmp_path) if kind == "folder"
        else s3_remote(request.getfixturevalue("s3_server"))
    )  # fmt: skip
    store.configure(bale, repo)
    commit_all(git, repo, "remote")
    other = clone(git, repo, tmp_path / "other")
    shared = {f"shared/{i:03d}.txt": f"shared {i}\n".encode() * 50 for i in range(60)}
    oids: set[str] = set()
    for root, own in ((repo, "mine"), (other, "theirs")):
        own_files = {f"{own}/{i:03d}.txt": f"{own} {i}\n".encode() for i in range(60)}
        write_tree(root, {**shared, **own_files})
        bale("add", "shared", own, cwd=root)
        oids |= {md5(data) for data in {**shared, **own_files}.values()}
    pushes = [start([*bale_argv(), "push", "-j", "4"], root) for root in (repo, other)]
    for proc in pushes:
        out, err = proc.communicate()
        assert proc.returncode == 0, (out, err)
    assert oids <= store.assert_whole()  # every key holds its whole object
    assert set(store.stored_keys()) == {f"files/md5/{o[:2]}/{o[2:]}" for o in store.oids()}
    for root in (repo, other):
        assert "All objects match their names." in bale("fsck", "-c", cwd=root).stdout
