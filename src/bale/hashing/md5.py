"""md5 of bytes and files, DVC 3's plain rule and DVC 2's dos2unix rule."""

from __future__ import annotations

import hashlib

CHUNK = 1 << 20  # DVC reads 1 MiB at a time; dos2unix decides per chunk
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"


def _is_text(block: bytes) -> bool:
    # DVC's istextblock on the first 512 bytes of each chunk.
    block = block[:512]
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, _TEXT_CHARS)) / len(block) <= 0.30


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def d2u_bytes_update(hasher: hashlib._Hash, chunk: bytes) -> None:
    """Feed one chunk the way DVC 2 did: CRLF -> LF if the chunk looks like text."""
    hasher.update(chunk.replace(b"\r\n", b"\n") if _is_text(chunk) else chunk)


def file_md5(path: str, *, legacy: bool = False) -> str:
    """md5 of a file; `legacy` applies DVC 2's dos2unix rule."""
    hasher = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fobj:
        while chunk := fobj.read(CHUNK):
            if legacy:
                d2u_bytes_update(hasher, chunk)
            else:
                hasher.update(chunk)
    return hasher.hexdigest()


class Md5Stream:
    """md5 of bytes that arrive in pieces of any size. With `legacy`, DVC 2's
    dos2unix rule is applied per `CHUNK` of the whole, as `file_md5` reads
    them, so a stream hashes as the same file on disk would."""

    def __init__(self, *, legacy: bool = False) -> None:
        self._hasher = hashlib.md5(usedforsecurity=False)
        self._legacy = legacy
        self._pending = bytearray()

    def update(self, data: bytes) -> None:
        if not self._legacy:
            self._hasher.update(data)
            return
        self._pending += data
        if len(self._pending) >= CHUNK:
            whole = len(self._pending) // CHUNK * CHUNK
            view = memoryview(self._pending)
            for start in range(0, whole, CHUNK):
                d2u_bytes_update(self._hasher, bytes(view[start : start + CHUNK]))
            view.release()
            del self._pending[:whole]

    def hexdigest(self) -> str:
        if self._pending:
            d2u_bytes_update(self._hasher, bytes(self._pending))
            self._pending.clear()
        return self._hasher.hexdigest()
