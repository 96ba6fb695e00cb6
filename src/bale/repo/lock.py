"""The repository lock, the same file and kind of lock DVC takes."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bale.errors import LockError


@contextmanager
def repo_lock(tmp_dir: str, *, wait: float = 5.0) -> Iterator[None]:
    """Hold `.dvc/tmp/lock` (flock, as zc.lockfile does) for the block.

    The lock dies with the process, so a killed command never leaves the
    repository locked.
    """
    os.makedirs(tmp_dir, exist_ok=True)
    path = os.path.join(tmp_dir, "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise LockError(
                        "another bale or dvc command is running in this repository; "
                        "wait for it to finish and retry"
                    ) from exc
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f" {os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
