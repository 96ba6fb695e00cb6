"""Reading one file of a view without placing it anywhere.

A git file is its blob; a tracked file is its object, read in place from a
cache of this machine (objects enter a cache verified), else streamed from
the output's remote and hashed as it arrives. A stream holds back each block
until the next one has arrived, and the last until the whole has been
checked against the object's name: a tampered object raises before the
caller sees its last block, so no partial data passes as good.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from bale.errors import RemoteObjectCorruptError, RemoteObjectMissingError
from bale.odb.layout import oid_relpath
from bale.odb.store import uses_dos2unix
from bale.view.repoview import Leaf, RepoView

BUFFER = 1 << 20  # what a buffered reader asks at once: a remote's chunk (READ_CHUNK)


class VerifiedStream(io.RawIOBase):
    """The bytes of `chunks` (one object's, in order), released only once the
    next chunk has arrived, the last only once the whole matches `oid`.

    Raises (from a read):
        RemoteObjectCorruptError: the bytes do not hash to `oid`.
    """

    def __init__(
        self, chunks: Iterator[bytes], oid: str, *, legacy: bool, where: str,
        on_close: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        from bale.hashing.md5 import Md5Stream  # hashlib: only for a stream from a remote

        self._chunks = chunks
        self._oid = oid
        self._where = where
        self._hasher = Md5Stream(legacy=uses_dos2unix(oid, legacy=legacy))
        self._on_close = on_close
        self._ready = memoryview(b"")  # verified far enough to hand out
        self._ahead: bytes | None = None  # arrived, not yet released
        self._done = False
        self._error: RemoteObjectCorruptError | None = None
        self._ahead = self._pull()  # a missing object fails the open, not a later read
        if self._ahead is None:
            self._finish()

    def readable(self) -> bool:
        return True

    def _pull(self) -> bytes | None:
        """The next chunk from the remote, hashed; None at the end."""
        try:
            for chunk in self._chunks:
                if chunk:
                    self._hasher.update(chunk)
                    return chunk
        except FileNotFoundError as err:
            raise RemoteObjectMissingError(self._where, self._oid) from err
        return None

    def _advance(self) -> None:
        nxt = self._pull()
        if nxt is None:
            self._finish()  # raises before the held block is released
        self._ready = memoryview(self._ahead or b"")
        self._ahead = nxt

    def _finish(self) -> None:
        self._done = True
        actual = self._hasher.hexdigest()
        if actual != self._oid:
            self._ahead = None
            self._error = RemoteObjectCorruptError(self._where, self._oid, actual)
            raise self._error

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._error is not None:
            raise self._error  # read again after the failure: still corrupt, not at its end
        while not self._ready:
            if self._done and self._ahead is None:
                return 0
            self._advance()
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
            if self._on_close is not None:
                self._on_close()
        super().close()


def open_leaf(view: RepoView, leaf: Leaf) -> BinaryIO:
    """A binary file object of `leaf`: a git blob, a cached object in place,
    or a verified stream from the remote.

    Raises:
        SourceError: the source names no usable remote.
        RemoteAccessError: the remote cannot be read (FileNotFoundError
            among them when the object is not there).
    """
    vo = leaf.out
    if vo is None:
        return io.BytesIO(view.tree.read(leaf.path))
    assert leaf.md5 is not None
    legacy = vo.out.legacy
    path = view.cached_path(leaf.md5, legacy)
    if path is not None:
        return open(path, "rb")
    backend = view.open_backend(vo)
    relpath = oid_relpath(leaf.md5, legacy=legacy)
    try:
        chunks = backend.read_chunks(relpath)
        raw = VerifiedStream(chunks, leaf.md5, legacy=legacy, where=backend.url,
                             on_close=backend.close)  # fmt: skip
    except BaseException:
        backend.close()
        raise
    return io.BufferedReader(raw, buffer_size=BUFFER)
