"""Small filesystem helpers every layer uses: atomic writes and temp names."""

from __future__ import annotations

import contextlib
import os


def tmp_name(path: str) -> str:
    """A unique temporary name beside `path`; never a valid object name."""
    return f"{path}.{os.urandom(6).hex()}.tmp"


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
            data = os.read(fin, 1 << 20)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if len(data) == 1 << 20:
                offset = len(data)
                while sent := os.sendfile(fd, fin, offset, 1 << 30):
                    offset += sent
            return os.fstat(fd)
        finally:
            os.close(fd)
    finally:
        os.close(fin)
