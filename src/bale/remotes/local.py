"""A folder remote (a mounted share, another disk), natively with `os`."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Mapping, Sequence

from bale.errors import RemoteAccessError, RemoteAuthError, RemoteConfigError, RemoteNotFoundError
from bale.fsutil import atomic_copy, copy_file, remove_dead_leftovers, remove_file
from bale.odb.store import OBJECT_MODE  # dvc's folder remotes keep objects read-only too
from bale.remotes.base import READ_CHUNK, FileStat, check_options, cpu_jobs, no_versions


class LocalBackend:
    """Objects under a local folder, in the cache's layout."""

    list_cost = 1.0  # opening a folder to scan costs about one stat
    name_cost = 0.1  # each scanned name costs far less than a stat
    page_size = 1000
    local = True
    checksum_name = "md5"  # dvc hashes a local file's content
    versioned_reads = False

    def __init__(self, root: str, options: Mapping[str, object] | None = None) -> None:
        self.url = root
        check_options(root, "folder", options or {}, set())
        self.root = os.path.abspath(root)
        # One thread per core. Small objects are short system calls between
        # GIL hand-offs, so more threads only contend (measured: four were
        # slower than two on 2 cores); fetching verifies md5s, which needs
        # the cores for large files (one thread: 0.8x dvc on 4 x 256 MiB).
        self.default_jobs = cpu_jobs(1, low=1, high=16)
        self._made_dirs: set[str] = set()

    def _path(self, relpath: str) -> str:
        return os.path.join(self.root, *relpath.split("/"))

    def _error(self, err: OSError, action: str) -> RemoteAccessError:
        where = err.filename or self.root
        if isinstance(err, PermissionError):
            return RemoteAuthError(
                self.url, f"permission denied to {action} '{where}'; check the folder's owner/mode"
            )
        if err.errno == errno.ENOSPC:
            return RemoteAccessError(self.url, f"no space left to {action} '{where}'")
        if err.errno in (errno.EROFS,):
            return RemoteAuthError(self.url, f"'{where}' is on a read-only filesystem")
        return RemoteAccessError(self.url, f"cannot {action} '{where}': {err.strerror or err}")

    def local_path(self, relpath: str) -> str | None:
        return self._path(relpath)

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for rel in relpaths:
            try:
                os.stat(self._path(rel))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as err:
                raise self._error(err, "check") from err
            found.add(rel)
        return found

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix) if prefix else self.root
        try:
            with os.scandir(base) as entries:
                names = [e.name for e in entries if e.is_file()]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as err:
            raise self._error(err, "list") from err
        for name in names:
            yield f"{prefix}/{name}" if prefix else name

    def iter_prefix_times(self, prefix: str) -> Iterator[tuple[str, float | None]]:
        base = self._path(prefix) if prefix else self.root
        try:
            with os.scandir(base) as entries:
                # mtime, as an SFTP listing of the same folder gives: bale's and
                # dvc's pushes write the file, so it is when the object arrived.
                found = [(e.name, e.stat().st_mtime) for e in entries if e.is_file()]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as err:
            raise self._error(err, "list") from err
        for name, changed in found:
            yield (f"{prefix}/{name}" if prefix else name), changed

    def stat(self, relpath: str) -> FileStat:
        try:
            sres = os.stat(self._path(relpath))
        except (FileNotFoundError, NotADirectoryError) as err:
            raise FileNotFoundError(relpath) from err
        except OSError as err:
            raise self._error(err, "read") from err
        if not stat.S_ISREG(sres.st_mode):
            raise FileNotFoundError(relpath)
        return FileStat(relpath, sres.st_size)

    def walk(self, prefix: str, *, versions: bool = False) -> Iterator[FileStat]:
        if versions:
            raise no_versions(self.url, "file")
        stack = [""]
        while stack:
            folder = stack.pop()
            base = self._path(f"{prefix}/{folder}" if folder else prefix)
            try:
                with os.scandir(base) as entries:
                    found = [(e, e.is_dir(follow_symlinks=False)) for e in entries]
                files = [(e.name, e.stat()) for e, is_dir in found if not is_dir and e.is_file()]
            except (FileNotFoundError, NotADirectoryError) as err:
                if not folder:
                    return  # no such folder: nothing under it
                raise self._error(err, "list") from err  # it went away mid-walk
            except OSError as err:
                raise self._error(err, "list") from err
            stack += [f"{folder}/{e.name}" if folder else e.name for e, is_dir in found if is_dir]
            for name, sres in files:
                rel = f"{folder}/{name}" if folder else name
                yield FileStat(rel, sres.st_size)

    def put_file(self, local_path: str, relpath: str) -> None:
        dest = self._path(relpath)
        parent = os.path.dirname(dest)
        try:
            if parent not in self._made_dirs:
                os.makedirs(parent, exist_ok=True)
                remove_dead_leftovers(parent)
                self._made_dirs.add(parent)
            # The object appears under its name only once complete; a killed
            # copy leaves at most a temporary file beside it, never a short
            # object, and the next upload into that folder removes it.
            atomic_copy(local_path, dest, mode=OBJECT_MODE)
        except OSError as err:
            if err.filename != local_path:
                raise self._error(err, "write") from err
            raise

    def get_file(self, relpath: str, local_path: str, *, version_id: str | None = None) -> None:
        if version_id is not None:
            raise no_versions(self.url, "file")
        try:
            copy_file(self._path(relpath), local_path, exclusive=False)
        except FileNotFoundError:
            raise
        except OSError as err:
            if err.filename == local_path:
                raise
            raise self._error(err, "read") from err

    def read_chunks(
        self, relpath: str, *, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        try:
            fobj = open(self._path(relpath), "rb")  # noqa: SIM115 (closed by the `with` below)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as err:
            raise FileNotFoundError(relpath) from err  # a folder is not a file either
        except OSError as err:
            raise self._error(err, "read") from err
        with fobj:
            try:
                fobj.seek(start)
                while end is None or fobj.tell() < end:
                    size = READ_CHUNK if end is None else min(READ_CHUNK, end - fobj.tell())
                    data = fobj.read(size)
                    if not data:
                        return
                    yield data
            except OSError as err:
                raise self._error(err, "read") from err

    def remove_many(self, relpaths: Sequence[str]) -> None:
        for rel in relpaths:
            try:
                remove_file(self._path(rel))
            except OSError as err:
                raise self._error(err, "delete") from err

    def close(self) -> None:
        pass


def open_local(path: str, options: Mapping[str, object]) -> LocalBackend:
    if not path:
        raise RemoteConfigError(path or "''", "the remote URL is empty; set url to a folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise RemoteNotFoundError(path, "is not a folder; set the remote's url to a folder")
    return LocalBackend(path, options)
