"""The local object store (the cache): verified, atomic, read-only objects."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from bale.errors import ObjectCorruptError
from bale.formats.manifest import DIR_SUFFIX
from bale.fsutil import (
    atomic_write,
    is_temporary,
    naming,
    remove_dead_leftovers,
    remove_file,
    sync_filesystem,
    tmp_name,
)
from bale.hashing.md5 import CHUNK, d2u_bytes_update, file_md5
from bale.odb.layout import FILES_DIR, oid_from_parts, oid_relpath, prefix_folders

OBJECT_MODE = 0o444  # DVC's CACHE_MODE; a 0444 object is trusted without re-hashing
SHARED_DIR_MODE = 0o2775  # cache.shared = group, as dvc makes its folders


def uses_dos2unix(oid: str, *, legacy: bool) -> bool:
    """DVC 2 hashed file objects with its dos2unix rule; `.dir` manifests are
    hashed as written in both layouts."""
    return legacy and not oid.endswith(DIR_SUFFIX)


def object_digest(path: str, oid: str, *, legacy: bool) -> str:
    """The name the object file at `path` has by its content: its md5 (by
    `uses_dos2unix`), with `.dir` when `oid` is a manifest's."""
    digest = file_md5(path, legacy=uses_dos2unix(oid, legacy=legacy))
    return digest + DIR_SUFFIX if oid.endswith(DIR_SUFFIX) else digest


SMALL = 4 << 20  # files up to this size are read whole


class ObjectStore:
    """Objects under `root` in DVC's cache layout (3.x, legacy 2.x readable)."""

    def __init__(self, root: str, *, shared: bool = False) -> None:
        """`shared` (`cache.shared = group`): folders are made group-writable
        and setgid (2775), as dvc makes them, so a team can share one cache."""
        self.root = root
        self.shared = shared
        self._made_dirs: set[str] = set()
        self._swept = False

    def tmp_path(self, stem: str) -> str:
        """A temporary name in the root, where large objects and downloads
        are written before they are renamed into place. The first ask removes
        what killed processes left there, so a rerun leaves no temporary file
        behind (and a running process's are never touched)."""
        if not self._swept:
            self._swept = True
            remove_dead_leftovers(self.root)
        return tmp_name(os.path.join(self.root, stem))

    @contextlib.contextmanager
    def scratch(self) -> Iterator[str]:
        """A private folder in the root (on the cache's filesystem, and
        removed by a later command if this one is killed). A cache that did
        not exist is not left behind (a failed `import` changes nothing)."""
        missing = []
        folder = self.root
        while not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        folder = self.tmp_path("scratch")
        os.makedirs(folder)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            for made in missing:  # deepest first; kept if something went in
                try:
                    os.rmdir(made)
                except OSError:
                    break

    def path(self, oid: str, *, legacy: bool = False) -> str:
        return os.path.join(self.root, oid_relpath(oid, legacy=legacy))

    def exists(self, oid: str, *, legacy: bool = False) -> bool:
        return os.path.exists(self.path(oid, legacy=legacy))

    def oids(self, *, legacy: bool = False) -> set[str]:
        """Every object present, by listing the 256 prefix folders (no stat)."""
        found: set[str] = set()
        for folder in prefix_folders(legacy=legacy):
            try:
                it = os.scandir(os.path.join(self.root, folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            prefix = folder[-2:]
            with it:
                for entry in it:
                    oid = oid_from_parts(prefix, entry.name)
                    if oid:
                        found.add(oid)
        return found

    def stamp(self, *, legacy: bool = False) -> str:
        """A digest of the prefix folders' mtimes: it changes whenever an
        object is added or removed, so a check made under the same stamp
        still holds."""
        base = self.root if legacy else os.path.join(self.root, FILES_DIR)
        try:
            parts = sorted(
                f"{e.name}:{e.stat().st_mtime_ns}"
                for e in os.scandir(base)
                if len(e.name) == 2 and e.is_dir()
            )
        except FileNotFoundError:
            return "empty"
        return hashlib.md5(" ".join(parts).encode(), usedforsecurity=False).hexdigest()

    def _dir_for(self, dest: str) -> None:
        """Make `dest`'s folder; the first time, remove what killed processes
        left in it (a small object is written beside its name: a rename in
        one folder is cheaper than one between two)."""
        parent = os.path.dirname(dest)
        if parent not in self._made_dirs:
            if self.shared:
                self._make_shared(parent)
            else:
                os.makedirs(parent, exist_ok=True)
            remove_dead_leftovers(parent)
            self._made_dirs.add(parent)

    def _make_shared(self, folder: str) -> None:
        """Make `folder` and its missing parents 2775 (the umask would take
        the group's write bit)."""
        missing = []
        while not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for made in reversed(missing):
            with contextlib.suppress(FileExistsError):
                os.mkdir(made)
            os.chmod(made, SHARED_DIR_MODE)

    def _finish(self, tmp: str, dest: str) -> None:
        os.chmod(tmp, OBJECT_MODE)
        os.replace(tmp, dest)

    def add_bytes(self, oid: str, data: bytes, *, legacy: bool = False) -> None:
        """Store `data`, already hashed by the caller to `oid`."""
        dest = self.path(oid, legacy=legacy)
        self._dir_for(dest)
        # Created read-only: the open descriptor may still write, and no
        # chmod is needed. Flushed to disk in one batch, before anything
        # names it (`fsutil.sync_filesystem`).
        atomic_write(dest, data, mode=OBJECT_MODE, fsync=False)

    def move_in(
        self, tmp: str, expected: str, *, legacy: bool = False, md5: str | None = None
    ) -> None:
        """Rename the file `tmp` (in this cache's filesystem, the caller's to
        lose) into the cache as `expected`, once it hashes to that; `md5`, the
        plain md5 of its bytes taken as they were written, spares reading it
        again (a legacy object's hash is not that).

        Raises:
            ObjectCorruptError: the content does not hash to `expected`;
                `tmp` is left for the caller to remove.
        """
        actual = md5 if md5 is not None and not legacy else file_md5(tmp, legacy=legacy)
        if actual != expected:
            raise ObjectCorruptError(expected, actual, tmp)
        dest = self.path(expected, legacy=legacy)
        self._dir_for(dest)
        self._finish(tmp, dest)

    def add_file(self, src: str, *, legacy: bool = False, expected: str | None = None) -> str:
        """Copy `src` in, hashing what is written; return its oid.

        The copy is renamed under its name only once its hash is known, so a
        crash leaves at most a temporary file. With `expected`, a mismatch
        raises and stores nothing.

        Raises:
            ObjectCorruptError: the content does not hash to `expected`.
        """
        fd = os.open(src, os.O_RDONLY)
        try:
            head = os.read(fd, CHUNK)
        finally:
            os.close(fd)
        if len(head) < CHUNK:  # small: hash in memory, write once where it belongs
            hasher = hashlib.md5(usedforsecurity=False)
            if legacy:
                d2u_bytes_update(hasher, head)
            else:
                hasher.update(head)
            oid = hasher.hexdigest()
            if expected is not None and oid != expected:
                raise ObjectCorruptError(expected, oid, src)
            self.add_bytes(oid, head, legacy=legacy)
            return oid
        os.makedirs(self.root, exist_ok=True)
        tmp = self.tmp_path("tmp-object")
        hasher = hashlib.md5(usedforsecurity=False)
        try:
            with open(src, "rb") as fin, open(tmp, "xb") as fout:
                if legacy:
                    _copy_hashing(fin, fout.write, lambda chunk: d2u_bytes_update(hasher, chunk))
                else:
                    _copy_hashing(fin, fout.write, hasher.update)
            oid = hasher.hexdigest()
            if expected is not None and oid != expected:
                raise ObjectCorruptError(expected, oid, src)
            dest = self.path(oid, legacy=legacy)
            self._dir_for(dest)
            self._finish(tmp, dest)
            return oid
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):  # a full disk names the cache, not the temporary file
                raise naming(exc, tmp, self.root) from exc
            raise

    def protect(self, oid: str, *, legacy: bool = False) -> None:
        """Make a verified object read-only again, so it is trusted without re-hashing."""
        os.chmod(self.path(oid, legacy=legacy), OBJECT_MODE)

    def read_bytes(self, oid: str, *, legacy: bool = False) -> bytes:
        with open(self.path(oid, legacy=legacy), "rb") as fobj:
            return fobj.read()

    def verify(self, oid: str, *, legacy: bool = False) -> str:
        """Re-hash an object; return the name its content has."""
        return object_digest(self.path(oid, legacy=legacy), oid, legacy=legacy)

    def remove(self, oids: Iterable[str], *, legacy: bool = False) -> None:
        for oid in oids:
            remove_file(self.path(oid, legacy=legacy))

    def clean_tmp(self, *, changed_before: float | None = None) -> None:
        """Drop the temporary files and scratch folders killed processes left
        (never an object); with `changed_before` (seconds since the epoch),
        only those older, so a running process's in a shared cache are left
        alone."""
        for dirpath, dirs, files in os.walk(self.root):
            for name in [*files, *dirs]:
                if not is_temporary(name):
                    continue
                path = os.path.join(dirpath, name)
                if changed_before is not None and _changed(path) >= changed_before:
                    continue
                if name in files:
                    remove_file(path)
                else:
                    shutil.rmtree(path, ignore_errors=True)
            dirs[:] = [d for d in dirs if not is_temporary(d)]

    def changed(self, oid: str, *, legacy: bool = False) -> float:
        """When the object last changed here (ctime: linking or copying it into
        the cache set that, whatever mtime the file kept); inf if it is gone."""
        return _changed(self.path(oid, legacy=legacy))

    def sync(self) -> None:
        """Flush the objects written so far to disk (`fsutil.sync_filesystem`)."""
        sync_filesystem(self.root)


def _changed(path: str) -> float:
    try:
        return os.stat(path).st_ctime
    except FileNotFoundError:
        return math.inf  # gone already: nothing to delete


def _copy_hashing(
    fin: BinaryIO, write: Callable[[bytes], object], update: Callable[[bytes], None]
) -> None:
    """Copy `fin` through `write`, hashing each chunk with `update` while the
    one before is written. Both release the GIL, so a large file costs about
    the longer of the two instead of their sum; the bytes hashed are the
    bytes written."""
    import queue

    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer() -> None:
        try:
            while (chunk := chunks.get()) is not None:
                write(chunk)
        except BaseException as exc:
            failed.append(exc)
            while chunks.get() is not None:  # keep taking, so the reader never blocks
                pass

    thread = threading.Thread(target=writer, name="bale-write", daemon=True)
    thread.start()
    try:
        while not failed and (chunk := fin.read(CHUNK)):
            chunks.put(chunk)
            update(chunk)
    finally:
        chunks.put(None)
        thread.join()
    if failed:
        raise failed[0]
