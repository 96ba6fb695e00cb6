"""Hashing files and folders, reusing the state so unchanged files are not read."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import NamedTuple

from bale.formats.manifest import dump_manifest, manifest_oid
from bale.hashing.md5 import CHUNK, d2u_bytes_update, file_md5, md5_bytes
from bale.hashing.state import StateDB
from bale.hashing.walk import FileEntry
from bale.parallel import map_batched

SMALL = 4 << 20  # files up to this size are read whole, once

# Called with (md5, data) for each small file read, so a caller can store it
# without reading it again.
KeepBytes = Callable[[str, bytes], None]
# Replaces hashing of a large file (e.g. copy into the cache while hashing).
HashLarge = Callable[[str], str]


def bytes_md5(data: bytes, *, legacy: bool = False) -> str:
    if not legacy:
        return md5_bytes(data)
    hasher = hashlib.md5(usedforsecurity=False)
    for start in range(0, max(len(data), 1), CHUNK):
        d2u_bytes_update(hasher, data[start : start + CHUNK])
    return hasher.hexdigest()


def read_small(path: str, size: int) -> bytes:
    """A small file's bytes in one read (open, read, close: no stat, no buffer);
    reads on if it grew since it was listed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, size + 1)
        if len(data) > size:
            parts = [data]
            while chunk := os.read(fd, CHUNK):
                parts.append(chunk)
            data = b"".join(parts)
        return data
    finally:
        os.close(fd)


def hash_files(
    root: str,
    entries: Sequence[FileEntry],
    *,
    legacy: bool = False,
    jobs: int | None = None,
    keep: KeepBytes | None = None,
    hash_large: HashLarge | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """md5 of each entry's file (relpaths under `root`), in parallel, in order."""

    def run(batch: Sequence[FileEntry]) -> list[str]:
        out = []
        for entry in batch:
            path = os.path.join(root, entry.relpath) if entry.relpath else root
            if entry.size <= SMALL:
                data = read_small(path, entry.size)
                md5 = bytes_md5(data, legacy=legacy)
                if keep is not None:
                    keep(md5, data)
            elif hash_large is not None:
                md5 = hash_large(path)
            else:
                md5 = file_md5(path, legacy=legacy)
            out.append(md5)
        return out

    batch = 1 if entries and sum(e.size for e in entries[:64]) > 64 * SMALL // 4 else 32
    return map_batched(run, entries, jobs=jobs, batch=batch, on_batch=on_batch)


def listing_signature(listing: Sequence[FileEntry]) -> str:
    """A digest of what a walk saw (names, inodes, mtimes, sizes, exec bits);
    equal signatures mean no file changed. Walk order is stable for an
    unchanged folder; if it moves, the signature only misses and the files
    are compared one by one."""
    from array import array

    hasher = hashlib.md5(usedforsecurity=False)
    hasher.update("\0".join([e[0] for e in listing]).encode("utf-8", "surrogateescape"))
    numbers = [x for e in listing for x in (e[1], e[2], e[3], e[4])]
    try:
        hasher.update(array("q", numbers).tobytes())
    except OverflowError:  # an inode or time beyond 64 bits: slower, same meaning
        hasher.update(repr(numbers).encode())
    return hasher.hexdigest()


class TreeHash(NamedTuple):
    oid: str
    size: int
    nfiles: int
    # (relpath, md5) sorted; None when the state answered for the whole tree.
    entries: list[tuple[str, str]] | None
    manifest: bytes | None


def _state_key(key: str, legacy: bool) -> str:
    return key + "\0d2u" if legacy else key


def known_md5s(
    state: StateDB, key: str, listing: Sequence[FileEntry], *, legacy: bool
) -> tuple[dict[str, str], list[FileEntry]]:
    """Split a listing into files the state knows (relpath -> md5) and the rest."""
    known = state.files_under(key)
    col = 4 if legacy else 3
    found: dict[str, str] = {}
    todo: list[FileEntry] = []
    for entry in listing:
        row = known.get(f"{key}/{entry.relpath}" if entry.relpath else key)
        if (
            row is not None
            and row[col]
            and row[0] == entry.ino
            and row[1] == entry.mtime_ns
            and row[2] == entry.size
        ):
            found[entry.relpath] = row[col]
        else:
            todo.append(entry)
    return found, todo


def record_hashed(
    state: StateDB, key: str, entries: Sequence[FileEntry], md5s: Sequence[str], *, legacy: bool
) -> None:
    def rows():
        for entry, md5 in zip(entries, md5s, strict=True):
            path = f"{key}/{entry.relpath}" if entry.relpath else key
            yield (path, entry, None, md5) if legacy else (path, entry, md5, None)

    state.record_files(rows())


def hash_tree(
    root: str,
    key: str,
    listing: Sequence[FileEntry],
    state: StateDB,
    *,
    legacy: bool = False,
    jobs: int | None = None,
    need_entries: bool = False,
    keep: KeepBytes | None = None,
    hash_large: HashLarge | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> TreeHash:
    """The `.dir` oid of the folder `root` (state key `key`) from its listing."""
    sig = listing_signature(listing)
    tree_key = _state_key(key, legacy)
    if not need_entries:
        cached = state.tree(tree_key)
        if cached and cached[0] == sig:
            return TreeHash(cached[1], cached[2], cached[3], None, None)
    found, todo = known_md5s(state, key, listing, legacy=legacy)
    if todo:
        md5s = hash_files(
            root, todo, legacy=legacy, jobs=jobs, keep=keep, hash_large=hash_large,
            on_batch=on_batch,
        )  # fmt: skip
        record_hashed(state, key, todo, md5s, legacy=legacy)
        found.update(zip((e.relpath for e in todo), md5s, strict=True))
    entries = sorted(found.items())
    manifest = dump_manifest(entries)
    oid = manifest_oid(manifest)
    size = sum(e.size for e in listing)
    state.record_tree(tree_key, sig, oid, size, len(entries))
    return TreeHash(oid, size, len(entries), entries, manifest)
