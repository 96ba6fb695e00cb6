"""Small filesystem helpers every layer uses: atomic writes and temp names."""

from __future__ import annotations

import contextlib
import itertools
import os
import re

_COUNTER = itertools.count()
_TOKEN: list[str] = []


def tmp_name(path: str) -> str:
    """A unique temporary name beside `path`; never a valid object name.

    A random token drawn once per process plus a counter: unique even beside
    leftovers of a killed run, without a random-number system call per file
    (checkout and add name tens of thousands of them).
    """
    if not _TOKEN:
        _TOKEN.append(os.urandom(6).hex())
    return f"{path}.{_TOKEN[0]}-{next(_COUNTER)}.tmp"


_TEMPORARY = re.compile(r"\.[0-9a-f]{12}-[0-9]+\.tmp$")


def is_temporary(name: str) -> bool:
    """Whether `name` is one `tmp_name` made: what a killed command leaves
    beside a file it was writing. Never data, never an object."""
    return _TEMPORARY.search(name) is not None


def atomic_write(path: str, data: bytes, *, mode: int | None = None, fsync: bool = True) -> None:
    """Replace `path` with `data` so readers see the old or the new file, never half."""
    tmp = tmp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_file(path: str) -> None:
    """Remove a file even if it is read-only; a missing file is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except PermissionError:
        os.chmod(path, 0o644)
        os.unlink(path)


def copy_file(src: str, dest: str, *, mode: int = 0o666, exclusive: bool = True) -> os.stat_result:
    """Copy `src` to `dest` with as few system calls as the size allows
    (small files: one read, one write; large ones: sendfile in the kernel).

    `dest` is created with `mode` (O_EXCL unless `exclusive` is False), so a
    read-only object needs no chmod. Returns the stat of `dest` as written.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fin = os.open(src, os.O_RDONLY)
    try:
        fd = os.open(dest, flags, mode)
        try:
            # A 64 KiB first read: small files need one read, and no 1 MiB
            # buffer is allocated for each of thousands of them.
            data = os.read(fin, 1 << 16)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if len(data) == 1 << 16:
                offset = len(data)
                while sent := os.sendfile(fd, fin, offset, 1 << 30):
                    offset += sent
            return os.fstat(fd)
        finally:
            os.close(fd)
    finally:
        os.close(fin)
