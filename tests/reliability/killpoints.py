"""Kill points: SIGKILL a bale process at its n-th crash-relevant call.

Copied as `sitecustomize.py` into a folder on the PYTHONPATH of one bale
process (`kill_env` makes that environment), this module wraps, inside that
process, the calls where a crash leaves something behind. Each call is an
event, numbered from 1:

- `os.replace` / `os.rename`: an event just before ("rename") and one just
  after ("renamed"): killed between writing a file and naming it, or just
  after naming it;
- `os.link`, `os.symlink`, `os.unlink`, `os.ftruncate`, `os.fsync`: just before;
- `os.write`: the kill lands after half the buffer is written ("write"), so
  a file written in place would be left half-written;
- commits of the state database (sqlite): just before ("commit") and just
  after ("committed").

Every event is also classed by the path it touches (`kind_of_path`: a `.dir`
manifest, a `.dvc` file, `dvc.lock`, the repository lock, a cache object,
the state, a sync index, other data); a temporary name counts as the file it
stands for. Writes through Python file objects (`open(...).write`) and
`os.sendfile` are not events: bale writes what matters through `os.write`.

The counter is shared: every event appends one fixed-size record (`RECORD`
bytes: kind, class, pid, the path's tail) to the log `$BALE_KILL_LOG`, opened
O_APPEND by each process (forked workers reopen it), under a thread lock; an
event's number is the log's length just after its record was appended. So
the numbering is one sequence across the process, its threads and its forked
workers, and the log of a run that was not killed is its count by kind.
Which thread or worker reaches the n-th event first can differ from run to
run; the kind at a number mostly does not.

With `$BALE_KILL_AT=n`, the n-th event kills the whole process group
(`os.killpg(0, SIGKILL)`: workers, stage commands and git with it), so the
bale process must lead its own group (`start_new_session=True`).

Only the bale process and its forks are instrumented: on loading, the module
takes its folder off PYTHONPATH and its variables out of the environment, so
the commands bale starts (git, a stage's `python -c`) run as they are.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

LOG_VAR = "BALE_KILL_LOG"
AT_VAR = "BALE_KILL_AT"
RECORD = 128  # bytes per event in the log
_TMP = re.compile(r"\.[0-9a-f]{12}-[0-9]+\.tmp$")  # fsutil.tmp_name's suffix


class Event(NamedTuple):
    number: int
    kind: str  # rename, renamed, link, symlink, unlink, ftruncate, fsync, write, commit...
    what: str  # kind_of_path
    pid: int
    path: str  # the path's last RECORD-40 bytes


def kind_of_path(path: str) -> str:
    """What a path is to a crash: manifest, dvcfile, dvclock, lock, object,
    state, index or data (a temporary name counts as the file it stands for)."""
    path = _TMP.sub("", "/" + path.replace(os.sep, "/"))
    name = path.rsplit("/", 1)[-1]
    if name == "dvc.lock":
        return "dvclock"
    if name.endswith(".dvc"):
        return "dvcfile"
    if path.endswith("/.dvc/tmp/lock"):
        return "lock"
    if name.endswith(".dir"):
        return "manifest"
    if name == ".bale-sync.json":
        return "index"
    if "/.dvc/cache/" in path:
        return "object"
    if "/.dvc/tmp/" in path:
        return "state"
    return "data"


def kill_env(site_dir: Path, log: Path, at: int | None) -> dict[str, str]:
    """The variables that load this module (from `site_dir`, where
    `install_site` put it) in a bale process, logging to `log` and, with
    `at`, killing it at event `at`."""
    env = {"PYTHONPATH": str(site_dir), LOG_VAR: str(log)}
    if at is not None:
        env[AT_VAR] = str(at)
    return env


def install_site(site_dir: Path) -> Path:
    """Write this module as `sitecustomize.py` into `site_dir`."""
    site_dir.mkdir(parents=True, exist_ok=True)
    dest = site_dir / "sitecustomize.py"
    dest.write_bytes(Path(__file__).read_bytes())
    return site_dir


def read_log(log: Path) -> list[Event]:
    """The events a run logged, in number order."""
    try:
        data = log.read_bytes()
    except FileNotFoundError:
        return []
    events = []
    for i in range(len(data) // RECORD):
        kind, what, pid, path = data[i * RECORD : (i + 1) * RECORD].decode().split(" ", 3)
        events.append(Event(i + 1, kind, what, int(pid), path.strip()))
    return events


# -- inside the bale process -----------------------------------------------------------------

_state: dict[str, Any] = {}


def _reopen() -> None:
    """A forked worker gets its own O_APPEND description of the log (a
    shared one would share its offset, which numbers the events)."""
    _state["lock"] = threading.Lock()
    _state["fd"] = _state["open"](_state["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def _event(kind: str, path: Any) -> bool:
    """Log one event; whether it is the one to kill at (the caller then
    does its partial work and calls `_kill`)."""
    try:
        text = os.fsdecode(path) if not isinstance(path, int) else _state["fds"].get(path, "")
    except TypeError:
        text = ""
    head = f"{kind} {kind_of_path(text)} {os.getpid()} ".encode()
    tail = text.encode(errors="replace")[-(RECORD - 1 - len(head)) :]
    record = (head + tail).ljust(RECORD - 1)[: RECORD - 1] + b"\n"
    with _state["lock"]:
        _state["write"](_state["fd"], record)
        number = os.lseek(_state["fd"], 0, os.SEEK_CUR) // RECORD
    return number == _state["at"]


def _kill() -> None:
    os.killpg(0, signal.SIGKILL)


def _before(kind: str, real: Any, path_arg: int = 0) -> Any:
    def wrapped(*args: Any, **kw: Any) -> Any:
        if _event(kind, args[path_arg] if len(args) > path_arg else ""):
            _kill()
        return real(*args, **kw)

    return wrapped


def _around(kind: str, real: Any) -> Any:
    def wrapped(src: Any, dst: Any, *args: Any, **kw: Any) -> Any:
        if _event(kind, dst):
            _kill()
        result = real(src, dst, *args, **kw)
        if _event(kind + "d", dst):
            _kill()
        return result

    return wrapped


def _patch_os() -> None:
    fds: dict[int, str] = {}
    _state["fds"] = fds
    real_open, real_close, real_write = os.open, os.close, os.write

    def open_(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        fd = real_open(path, flags, *args, **kw)
        if flags & (os.O_WRONLY | os.O_RDWR) or flags & os.O_DIRECTORY:
            with contextlib.suppress(TypeError):  # a dir_fd-relative or odd path: unnamed
                fds[fd] = os.fsdecode(path)
        return fd

    def close(fd: int) -> None:
        fds.pop(fd, None)
        real_close(fd)

    def write(fd: int, data: Any) -> int:
        if fd in fds and _event("write", fd):
            view = memoryview(data)
            real_write(fd, view[: len(view) // 2])
            _kill()
        return real_write(fd, data)

    os.open, os.close, os.write = open_, close, write
    os.replace = _around("rename", os.replace)
    os.rename = _around("rename", os.rename)
    os.link = _before("link", os.link, 1)
    os.symlink = _before("symlink", os.symlink, 1)
    os.unlink = _before("unlink", os.unlink)
    os.remove = _before("unlink", os.remove)
    os.ftruncate = _before("ftruncate", os.ftruncate)
    os.fsync = _before("fsync", os.fsync)


def _patch_sqlite() -> None:
    import sqlite3

    class Counted(sqlite3.Connection):
        """A connection whose `with` block (a transaction) is two events."""

        def __exit__(self, *exc: Any) -> Any:
            if exc[0] is None and _event("commit", self.path):
                _kill()
            result = super().__exit__(*exc)
            if exc[0] is None and _event("committed", self.path):
                _kill()
            return result

    real_connect = sqlite3.connect

    def connect(database: Any, *args: Any, **kw: Any) -> sqlite3.Connection:
        kw.setdefault("factory", Counted)
        conn = real_connect(database, *args, **kw)
        if isinstance(conn, Counted):
            conn.path = os.fsdecode(database)
        return conn

    Counted.path = ""  # type: ignore[attr-defined]
    sqlite3.connect = connect


def _strip_env(site_dir: str) -> None:
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != site_dir]
    if parts:
        os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        os.environ.pop("PYTHONPATH", None)
    os.environ.pop(LOG_VAR, None)
    os.environ.pop(AT_VAR, None)


def _install() -> None:
    log = os.environ.get(LOG_VAR)
    if not log:
        return
    at = int(os.environ.get(AT_VAR) or 0)
    if at and os.getpgrp() != os.getpid():  # killpg(0) would kill whoever started it
        sys.stderr.write(f"{AT_VAR} set but pid {os.getpid()} does not lead its group\n")
        os._exit(3)
    _state.update(log=log, at=at, open=os.open, write=os.write)
    _strip_env(os.path.dirname(os.path.abspath(__file__)))
    _reopen()
    _patch_os()
    _patch_sqlite()
    os.register_at_fork(after_in_child=_reopen)


def by_kind(events: list[Event]) -> Iterator[tuple[str, int]]:
    """(kind/what, count) of a run's events, most frequent first."""
    counts: dict[str, int] = {}
    for e in events:
        key = f"{e.kind}/{e.what}"
        counts[key] = counts.get(key, 0) + 1
    yield from sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


if __name__ == "sitecustomize":
    _install()
