"""Helpers for end-to-end tests of the `bale` command."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def bale_argv() -> list[str]:
    """The installed `bale` command (as the `bale` fixture runs it)."""
    exe = shutil.which("bale", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "bale"]


def _volatile(rel: str) -> bool:
    # What a command may change even when it refuses: its lock and bale's state.
    return rel == ".dvc/tmp" or rel.endswith("/.dvc/tmp")


def snapshot(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every entry under `root`: kind, mode and content digest (links not followed).

    `.dvc/tmp` folders (lock, bale's state) and the relpaths in `skip` are left out.
    """
    found: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [
            d
            for d in dirnames
            if (rel := os.path.normpath(os.path.join(rel_dir, d))) not in skip
            and not _volatile(rel)
        ]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            sres = os.lstat(path)
            if stat.S_ISLNK(sres.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(sres.st_mode):
                found[rel] = ("dir", stat.S_IMODE(sres.st_mode))
            else:
                try:
                    digest = hashlib.md5(Path(path).read_bytes()).hexdigest()
                except PermissionError:
                    digest = "unreadable"
                found[rel] = ("file", stat.S_IMODE(sres.st_mode), digest)
    return found


def assert_error(proc: subprocess.CompletedProcess, *needles: str, code: int = 1) -> str:
    """One line on stderr, `ERROR: ` first, naming each needle; exit `code`; no traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("ERROR: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


class Unchanged:
    """Remember a tree now; `check()` asserts it is still the same."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.before = snapshot(root)

    def check(self) -> None:
        after = snapshot(self.root)
        changed = sorted(
            k for k in self.before.keys() | after.keys() if self.before.get(k) != after.get(k)
        )
        assert not changed, f"changed under {self.root}: {changed}"


def cache_objects(repo: Path) -> dict[str, bytes]:
    """oid -> content of every object in the DVC 3 cache (temporary files left out)."""
    base = repo / ".dvc" / "cache" / "files" / "md5"
    found = {}
    if base.is_dir():
        for path in base.glob("??/*"):
            if not path.name.endswith(".tmp"):
                found[path.parent.name + path.name] = path.read_bytes()
    return found


def assert_cache_valid(repo: Path) -> None:
    """Every object hashes to its name; nothing but objects and `.tmp` files is there."""
    base = repo / ".dvc" / "cache" / "files" / "md5"
    for path in base.rglob("*") if base.is_dir() else ():
        if path.is_dir():
            assert len(path.name) == 2, path
            continue
        if path.name.endswith(".tmp"):
            continue
        oid = path.parent.name + path.name
        digest = hashlib.md5(path.read_bytes()).hexdigest()
        assert oid == digest + (".dir" if oid.endswith(".dir") else ""), f"corrupt {path}"


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)


def read_tree(root: Path) -> dict[str, bytes]:
    """relpath -> bytes of every file under `root` (following links to the cache)."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def status_json(bale: Callable, cwd: Path, *targets: str) -> dict:
    return json.loads(bale("status", "--json", *targets, cwd=cwd).stdout)


def dvcfile(path: Path) -> str:
    return path.read_text("utf-8")


_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_dac() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def unprivileged() -> dict:
    """subprocess options under which file modes bind even for root.

    root reads a 0000 file through CAP_DAC_OVERRIDE; dropping that capability
    (and CAP_DAC_READ_SEARCH) from the bounding set before exec keeps uid 0
    but makes permission bits apply, so 'unreadable' means unreadable.
    """
    if os.geteuid() != 0:
        return {}
    return {"preexec_fn": _drop_dac}


def can_drop_privileges() -> bool:
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(
        ["sh", "-c", "exit 0"], preexec_fn=_drop_dac, capture_output=True, check=False
    )
    return probe.returncode == 0
