"""Placing cache objects in the workspace: reflink, hardlink, symlink or copy.

Each placement goes to a temporary name beside the destination and is renamed
over it, so a killed checkout leaves either the old file or the new one (a
folder made whole is filled under a temporary name and renamed once). A
link type that fails once (another filesystem, no support) is not tried again
in the same run: DVC's cost of trying a reflink for every file is avoided.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading

from bale.fsutil import copy_file, naming, tmp_name

FICLONE = 0x40049409  # linux/fs.h
_UNSUPPORTED = {
    errno.EXDEV,
    errno.EPERM,
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EINVAL,
    errno.ENOTTY,
    errno.EMLINK,
}


class UntrustedObject(Exception):
    """The object to place is not read-only, so its bytes may have changed
    since they were verified (an edited hardlink, a hand-made copy): the
    caller verifies it before placing it."""


# Each maker creates `tmp` from `src` and returns the stat of what `tmp`
# shows and the mode of `src` (for a hardlink or symlink, the same inode's).


def _reflink(src: str, tmp: str, mode: int) -> tuple[os.stat_result, int]:
    with open(src, "rb") as fin:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            fcntl.ioctl(fd, FICLONE, fin.fileno())
            return os.fstat(fd), os.fstat(fin.fileno()).st_mode
        finally:
            os.close(fd)


def _copy(src: str, tmp: str, mode: int) -> tuple[os.stat_result, int]:
    return copy_file(src, tmp, mode=mode, with_source_mode=True)


def _hardlink(src: str, tmp: str, mode: int) -> tuple[os.stat_result, int]:
    os.link(src, tmp)
    sres = os.stat(tmp)
    return sres, sres.st_mode


def _symlink(src: str, tmp: str, mode: int) -> tuple[os.stat_result, int]:
    os.symlink(os.path.abspath(src), tmp)
    sres = os.stat(tmp)
    return sres, sres.st_mode


_MAKERS = {"reflink": _reflink, "copy": _copy, "hardlink": _hardlink, "symlink": _symlink}


class Linker:
    """Places files with the first link type that works, in preference order."""

    def __init__(self, link_types: tuple[str, ...]) -> None:
        self.link_types = list(link_types)
        self._lock = threading.Lock()

    def place(
        self,
        src: str,
        dest: str,
        *,
        isexec: bool = False,
        fresh: bool = False,
        trusted_mode: int | None = None,
    ) -> os.stat_result:
        """Put the object `src` at `dest` (replacing it); return dest's stat.

        With `fresh`, `dest` does not exist and lies in a folder nobody sees
        until the caller renames it into place: it is made directly, without
        a temporary name (one rename fewer per file). With `trusted_mode`, an
        object whose permission bits differ is not placed (UntrustedObject);
        the mode is read from what the placement opened anyway. Safe to call
        from many threads: when one finds a link type unsupported, the others
        that tried it at the same time fall back too.

        Raises:
            UntrustedObject: see `trusted_mode`; nothing was placed.
        """
        for link_type in list(self.link_types):
            tmp = dest if fresh else tmp_name(dest)
            try:
                sres, src_mode = _MAKERS[link_type](src, tmp, 0o777 if isexec else 0o666)
                if trusted_mode is not None and src_mode & 0o7777 != trusted_mode:
                    os.unlink(tmp)
                    raise UntrustedObject(src)
                if fresh:
                    return sres
                os.replace(tmp, dest)
                if link_type == "hardlink":
                    # rename() of two links to one inode does nothing and
                    # succeeds (POSIX): when dest already was this object's
                    # link, tmp is still there.
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                return sres
            except OSError as exc:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                if exc.errno in _UNSUPPORTED and self._give_up(link_type):
                    continue
                raise naming(exc, tmp, dest) from exc
        raise OSError(errno.ENOTSUP, f"no link type in cache.type works for '{dest}'")

    def _give_up(self, link_type: str) -> bool:
        """Drop `link_type` unless it is the last one; whether to try the next."""
        with self._lock:
            if link_type not in self.link_types:
                return True  # another thread found it unsupported first
            if len(self.link_types) == 1:
                return False
            self.link_types.remove(link_type)
            return True

    @property
    def is_copy(self) -> bool:
        return self.link_types[0] in ("copy", "reflink")
