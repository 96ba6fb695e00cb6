"""The repository lock, the same file and kind of lock DVC takes.

`.dvc/tmp/lock` is held with flock, as dvc's zc.lockfile holds it, so a dvc
and a bale command exclude each other. The kernel drops a flock when its
process ends, however it ends: a lock left by a killed command is free at
once, and a lock still held belongs to a live process (pid reuse cannot fool
it). The file's text only names the holder for the messages: dvc writes
` PID`, bale ` PID HOST COMMAND`.

Which commands hold it, and why (as dvc's `@locked` commands do):
- every command that writes the cache, the workspace's tracked files, `.dvc`
  files or `dvc.lock`: add, commit, checkout, remove, move, import,
  import-url, update, stage add, run, freeze, unfreeze, sync push/pull,
  fsck --repair, and
- `repro`, for its whole run, its stages' commands included (dvc lets go
  around a command and guards the outputs with a second lock file): two
  repros, or a repro and an add, never write dvc.lock or the cache at once;
- `push` (what it sends is the state of one moment, never an add's half),
  `fetch` and `pull` (they write the cache; a gc between a fetch and its
  checkout would delete what was fetched) and `gc` (between its plan and
  its deletes nothing may start to use an object), each for its whole run.

Commands that only read (status, status -c, diff, list, dag, params,
metrics, plots, fsck without --repair, catalog, stage list) take no lock:
every file they read is replaced atomically, so they run beside any of the
above. The state database they may update is SQLite's, safe for that.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bale.errors import LockError

WAIT_VARIABLE = "BALE_LOCK_WAIT"
DEFAULT_WAIT = 5.0  # seconds; dvc gives up after 3
# Lock files this process holds: a command that calls another in the same
# process (push --all's areas, a git hook) must not wait for itself, since
# a second flock of the same file in one process blocks like another's.
_held: set[str] = set()


def wait_bound() -> float:
    """Seconds to wait for the lock: $BALE_LOCK_WAIT, else 5 (dvc has no setting)."""
    value = os.environ.get(WAIT_VARIABLE, "")
    try:
        return max(0.0, float(value)) if value else DEFAULT_WAIT
    except ValueError:
        raise LockError(f"{WAIT_VARIABLE}={value!r} is not a number of seconds") from None


def _say(line: str) -> None:
    """One line on stderr: every command waits for the lock the same way."""
    print(line, file=sys.stderr, flush=True)


def holder(path: str) -> str:
    """Who holds the lock, as the lock file and /proc tell: `pid N: COMMAND`,
    `pid N on host H: COMMAND`, or `pid unknown`."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            fields = f.readline().split(None, 2)
    except OSError:
        fields = []
    if not fields or not fields[0].isdigit():
        return "pid unknown"
    pid = fields[0]
    host = fields[1] if len(fields) > 1 else None
    command = fields[2].strip() if len(fields) > 2 else ""
    if host is not None and host != socket.gethostname():
        return f"pid {pid} on host {host}: {command or 'unknown command'}"
    if not command:  # dvc records only its pid: ask the system
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
            argv = [a for a in argv if a]
            # `/venv/bin/python /venv/bin/dvc add x` reads better as `python dvc add x`
            command = shlex.join([os.path.basename(a) for a in argv[:2]] + argv[2:])
        except OSError:
            command = ""
    return f"pid {pid}: {command}" if command else f"pid {pid}"


@contextmanager
def repo_lock(
    tmp_dir: str, *, wait: float | None = None, say: Callable[[str], None] = _say
) -> Iterator[None]:
    """Hold `.dvc/tmp/lock` (flock, as zc.lockfile does) for the block.

    A busy lock is waited for up to `wait` seconds ($BALE_LOCK_WAIT, else 5),
    with one line through `say`, then refused with one LockError line. A
    block inside another of this process's holds the lock already and waits
    for nothing.
    """
    bound = wait_bound() if wait is None else wait
    os.makedirs(tmp_dir, exist_ok=True)
    path = os.path.realpath(os.path.join(tmp_dir, "lock"))
    if path in _held:  # this process holds it already, further up the call
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + bound
    told = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    who = holder(path)
                    where = " (another host's lock is never taken)" if " on host " in who else ""
                    raise LockError(
                        f"the repository is busy ({who}){where}; try again when it ends "
                        f"(waited {bound:g} s; {WAIT_VARIABLE} sets how long)"
                    ) from exc
                if not told:
                    say(f"Waiting for another bale/dvc process ({holder(path)}) "
                        f"to release the repository lock, up to {bound:g} s")  # fmt: skip
                    told = True
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        command = shlex.join(["bale", *sys.argv[1:]]).replace("\n", " ")
        os.write(
            fd,
            f" {os.getpid()} {socket.gethostname()} {command}\n".encode(errors="backslashreplace"),
        )
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
    finally:
        os.close(fd)
