"""Small filesystem helpers every layer uses: atomic writes and temp names."""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
from collections.abc import Iterable
from typing import Any

_COUNTER = itertools.count()
_TOKEN: list[str] = []


def check_utf8_names(paths: Iterable[str], root: str = "") -> None:
    """Refuse a file name that is not UTF-8. `.dvc` files, manifests and git
    hold names as UTF-8 text; the OS hands such a name over with lone
    surrogates, which no file that records it could store or share.

    Raises:
        TargetError: naming the first such path (under `root`), its bytes escaped.
    """
    names = "\0".join(paths)
    if names.isascii():  # the common case: one pass in C
        return
    try:
        names.encode()
    except UnicodeEncodeError as exc:
        from bale.errors import TargetError

        start = names.rfind("\0", 0, exc.start) + 1
        end = names.find("\0", exc.start)
        path = os.path.join(root, names[start : end if end >= 0 else len(names)])
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise TargetError(
            f"'{shown}' has a name that is not UTF-8, which .dvc files, manifests and "
            "git cannot record; rename it"
        ) from None


def tmp_name(path: str) -> str:
    """A unique temporary name beside `path`; never a valid object name.

    The token says which process made it (`left_by_dead_process`): a tag of
    this host and pid namespace, the pid, and random bits drawn once per
    process, plus a counter; unique even beside leftovers of a killed run
    whose pid came back, without a random-number system call per file
    (checkout and add name tens of thousands of them).
    """
    if not _TOKEN:
        _TOKEN.append(f"{_owner_tag()}{os.getpid():08x}{os.urandom(4).hex()}")
    return f"{path}.{_TOKEN[0]}-{next(_COUNTER)}.tmp"


# A forked worker names its own files: its pid, its own random bits.
os.register_at_fork(after_in_child=_TOKEN.clear)

# 12 hex digits: the tokens of earlier versions, which said nothing of their owner.
_TEMPORARY = re.compile(r"\.([0-9a-f]{20}|[0-9a-f]{12})-[0-9]+\.tmp$")


def is_temporary(name: str) -> bool:
    """Whether `name` is one `tmp_name` made: what a killed command leaves
    beside a file it was writing. Never data, never an object."""
    return _TEMPORARY.search(name) is not None


@functools.cache
def _owner_tag() -> str:
    """4 hex digits for this host and pid namespace: a pid means the same
    process only where both are the same (containers share hosts, hosts
    share folders)."""
    import hashlib
    import socket

    where = socket.gethostname()
    with contextlib.suppress(OSError):
        where += f"/{os.stat('/proc/self/ns/pid').st_ino}"
    return hashlib.md5(where.encode(), usedforsecurity=False).hexdigest()[:4]


def left_by_dead_process(name: str) -> bool:
    """Whether `name` is a temporary file (or folder) that a process of this
    host made and that process is gone: a killed command's leftover, which
    no running command will rename."""
    match = _TEMPORARY.search(name)
    if match is None or len(token := match.group(1)) != 20 or token[:4] != _owner_tag():
        return False
    pid = int(token[4:12], 16)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def remove_dead_leftovers(folder: str) -> None:
    """Remove the temporary files and folders in `folder` (not below it)
    whose process is gone (`left_by_dead_process`): a command rerun after a
    kill leaves none behind, and a running one's are never touched."""
    try:
        names = os.listdir(folder)  # names only: a folder of a large cache holds thousands
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in [n for n in names if n[-4:] == ".tmp"]:
        if not left_by_dead_process(name):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            remove_file(path)


def atomic_write(
    path: str, data: bytes, *, mode: int | None = None, fsync: bool = True, tmp: str = ""
) -> None:
    """Replace `path` with `data` so readers see the old or the new file, never half.

    The file is created under `tmp_name(path)` (with `mode`, less the umask)
    and renamed over `path`; with `fsync`, its bytes and then its folder's
    entry are flushed to disk, so after a power cut `path` is old or new,
    never empty. An error names `path`, never the temporary name, and leaves
    no temporary file. `tmp` names the temporary file elsewhere on the same
    filesystem (a cache keeps them in one folder, for the rerun to find).
    """
    tmp = tmp or tmp_name(path)
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
        os.replace(tmp, path)
        if fsync:
            sync_folder(os.path.dirname(path) or ".")
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise naming(exc, tmp, path) from exc
        raise


def atomic_copy(src: str, dest: str, *, mode: int = 0o666) -> None:
    """Copy `src` to `dest` under a temporary name and rename it, so `dest`
    appears only once complete (a killed copy leaves at most a temporary file)."""
    tmp = tmp_name(dest)
    try:
        copy_file(src, tmp, mode=mode)
        os.replace(tmp, dest)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            remove_file(tmp)
        if isinstance(exc, OSError):
            raise naming(exc, tmp, dest) from exc
        raise


def naming(exc: OSError, tmp: str, path: str) -> OSError:
    """`exc` as an error of `path`, the file a person knows: a system error
    that named the temporary file or folder `tmp` (or a file in it), or no
    file at all (a write that found the disk full), names `path` (or that
    file in it); one naming another file is kept."""
    name = exc.filename
    if name is None or name == tmp:
        return OSError(exc.errno, exc.strerror, path)  # the subclass for errno
    if isinstance(name, str) and name.startswith(tmp + os.sep):
        return OSError(exc.errno, exc.strerror, path + name[len(tmp) :])
    return exc


def sync_folder(path: str) -> None:
    """Flush a folder's entries (a rename into it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_wanted() -> bool:
    """Whether objects are flushed to disk before anything names them
    (`BALE_FSYNC=0` turns it off, for throwaway data; see the README)."""
    return os.environ.get("BALE_FSYNC", "1").strip().lower() not in ("0", "false", "no", "off")


def sync_filesystem(path: str) -> None:
    """Flush every written file of the filesystem holding `path` to disk, in
    one call: the objects a command wrote become durable before the `.dvc`
    file, manifest or lock naming them is written. One flush for a whole
    batch, as git's `core.fsyncMethod=batch` does: an fsync per object took
    10.9 s for 20,000 small files here, against 0.3-0.7 s for this
    (README, "Durability")."""
    if not fsync_wanted():
        return
    if not hasattr(os, "sched_getaffinity"):  # not Linux: no syncfs
        os.sync()
        return
    import ctypes

    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return  # nothing was written there
    try:
        if ctypes.CDLL(None, use_errno=True).syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
    finally:
        os.close(fd)


def remove_leftovers(folder: str, names: list[str]) -> None:
    """Remove what a killed command left beside these entries of `folder`:
    their temporary files and half-filled folders (`NAME.<hex>-N.tmp`)."""
    wanted = tuple(f"{name}." for name in names)
    try:
        it = os.scandir(folder)
    except FileNotFoundError:
        return
    with it:
        for entry in it:
            if entry.name.startswith(wanted) and is_temporary(entry.name):
                if entry.is_dir(follow_symlinks=False):
                    import shutil

                    shutil.rmtree(entry.path)
                else:
                    remove_file(entry.path)


def remove_file(path: str) -> None:
    """Remove a file even if it is read-only; a missing file is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except PermissionError:
        os.chmod(path, 0o644)
        os.unlink(path)


def copy_file(
    src: str,
    dest: str,
    *,
    mode: int = 0o666,
    exclusive: bool = True,
    with_source_mode: bool = False,
) -> Any:
    """Copy `src` to `dest` with as few system calls as the size allows
    (small files: one read, one write; large ones: sendfile in the kernel).

    `dest` is created with `mode` (O_EXCL unless `exclusive` is False), so a
    read-only object needs no chmod. Returns the stat of `dest` as written,
    and with `with_source_mode` also `src`'s mode, from the open descriptor.
    A write that fails (the disk full) names `dest`.
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
            if with_source_mode:
                return os.fstat(fd), os.fstat(fin).st_mode
            return os.fstat(fd)
        except OSError as exc:
            raise naming(exc, dest, dest) from exc
        finally:
            os.close(fd)
    finally:
        os.close(fin)
