"""Small and read-only filesystems for one test, seen only by the processes it runs.

`PrivateMounts` starts a process in a new user and mount namespace
(`unshare -rm`) that only sleeps; filesystems mounted in it (a tmpfs of a few
KiB, a read-only bind mount) exist for the commands run inside it
(`nsenter`) and nowhere else on the machine. The test reads what they hold
through `/proc/PID/root`, the namespace's view of the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _unavailable() -> str:
    """Why private mounts cannot be made here ('' when they can)."""
    for tool in ("unshare", "nsenter", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"unshare -rm refused a tmpfs mount: {probe.stderr.strip()}"
    return ""


_WHY: list[str] = []


def require() -> None:
    """Skip the test, saying why, when no user+mount namespace can be made."""
    if not _WHY:
        _WHY.append(_unavailable())
    if _WHY[0]:
        pytest.skip(f"no private mounts: {_WHY[0]}")


class PrivateMounts:
    """A user+mount namespace that lives until `close()`; `run` executes in it."""

    def __init__(self) -> None:
        require()
        self._proc = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c", "echo ready; exec sleep 3600"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline() == "ready\n"

    def _enter(self, script: str, *args: str, **kw) -> subprocess.CompletedProcess:
        argv = ["nsenter", "-t", str(self._proc.pid), "-U", "-m", "--preserve-credentials"]
        return subprocess.run([*argv, "sh", "-c", script, "sh", *args], **kw)

    def _mount(self, *args: str) -> None:
        proc = self._enter('exec mount "$@"', *args, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr

    def tmpfs(self, path: Path, kib: int) -> None:
        """Mount a tmpfs of `kib` KiB over `path` (a folder that exists)."""
        self._mount("-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path))

    def resize(self, path: Path, kib: int) -> None:
        """Grow or shrink the tmpfs at `path`, keeping what it holds."""
        self._mount("-o", f"remount,size={kib}k", str(path))

    def read_only(self, path: Path) -> None:
        """Make `path` a read-only bind mount of itself."""
        self._mount("--bind", str(path), str(path))
        self._mount("-o", "remount,bind,ro", str(path))

    def run(self, argv: list[str], *, cwd: Path, **kw) -> subprocess.CompletedProcess:
        """Run `argv` in `cwd` inside the namespace (output captured as text)."""
        script = 'cd "$1" && shift && exec "$@"'
        return self._enter(script, str(cwd), *argv, capture_output=True, text=True, **kw)

    def view(self, path: Path) -> Path:
        """`path` as the processes inside the namespace see it."""
        return Path(f"/proc/{self._proc.pid}/root{os.path.abspath(path)}")

    def close(self) -> None:
        self._proc.kill()
        self._proc.wait()
        assert self._proc.stdout is not None
        self._proc.stdout.close()
