"""Hashing files and folders, reusing the state so unchanged files are not read."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from bale.formats.manifest import dump_manifest, manifest_oid
from bale.hashing.md5 import CHUNK, d2u_bytes_update, file_md5, md5_bytes
from bale.hashing.state import StateDB, row_md5
from bale.hashing.walk import FileEntry, Listing
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
    on_hashed: Callable[[Sequence[FileEntry], list[str]], None] | None = None,
) -> list[str]:
    """md5 of each entry's file (relpaths under `root`), in parallel, in order.

    `keep` and `hash_large` may run in forked processes (`bale.forks`): what
    they do must show on the filesystem, not only in this process's memory.
    `on_hashed(entries, md5s)` runs here as each batch is done, in any order.
    """

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
    return map_batched(
        run, entries, jobs=jobs, batch=batch, on_batch=on_batch, forked=True,
        read_ahead=lambda entry: os.path.join(root, entry.relpath) if entry.relpath else root,
        on_results=on_hashed,
    )  # fmt: skip


PART = 256  # files per part at most: one changed file re-reads only its part


def listing_parts(listing: Sequence[FileEntry]) -> list[tuple[str, int, int]]:
    """Split a walk's listing into parts: (id, start, end) runs of at most PART
    files of one folder. A part whose signature did not change is taken whole
    from the state, so after one change only that file's part is looked at."""
    folders = listing.folders if isinstance(listing, Listing) else _folders(listing)
    return [
        (f"{prefix}#{(at - start) // PART}", at, min(at + PART, end))
        for prefix, start, end in folders
        for at in range(start, end, PART)
    ]


def _folders(listing: Sequence[FileEntry]) -> list[tuple[str, int, int]]:
    """(prefix, start, end) of each run of files in one folder."""
    runs: list[tuple[str, int, int]] = []
    folder = None
    start = 0
    for i, entry in enumerate(listing):
        relpath = entry[0]
        here = relpath[: relpath.rfind("/") + 1]
        if here != folder:
            if i:
                runs.append((folder or "", start, i))
            folder, start = here, i
    if listing:
        runs.append((folder or "", start, len(listing)))
    return runs


def part_signature(entries: Sequence[FileEntry]) -> str:
    """A digest of what a walk saw (names, inodes, mtimes, sizes, exec bits);
    equal signatures mean no file changed. Walk order is stable for an
    unchanged folder; if it moves, the signature only misses and the files
    are compared one by one. Its first half digests the names alone: equal
    first halves mean the same files in the same order (`certainly_differs`)."""
    from array import array

    names = "\0".join([e[0] for e in entries]).encode("utf-8", "surrogateescape")
    numbers = [x for e in entries for x in (e[1], e[2], e[3], e[4])]
    try:
        packed = array("q", numbers).tobytes()
    except OverflowError:  # an inode or time beyond 64 bits: slower, same meaning
        packed = repr(numbers).encode()
    return (
        hashlib.md5(names, usedforsecurity=False).hexdigest()
        + hashlib.md5(packed, usedforsecurity=False).hexdigest()
    )


class Signed(NamedTuple):
    parts: list[tuple[str, int, int]]
    sigs: list[str]  # each part's signature
    sig: str  # the whole listing's


def part_signatures(listing: Sequence[FileEntry]) -> list[str]:
    """The signature of each of `listing_parts(listing)`."""
    return [part_signature(listing[start:end]) for _, start, end in listing_parts(listing)]


def sign_listing(listing: Sequence[FileEntry]) -> Signed:
    parts = listing_parts(listing)
    sigs = listing.sigs if isinstance(listing, Listing) else None
    if sigs is None or len(sigs) != len(parts):
        sigs = [part_signature(listing[start:end]) for _, start, end in parts]
    whole = hashlib.md5("".join(sigs).encode(), usedforsecurity=False).hexdigest()
    return Signed(parts, sigs, whole)


class TreeHash(NamedTuple):
    oid: str
    size: int
    nfiles: int
    # (relpath, md5) sorted; None when the state answered for the whole tree.
    entries: list[tuple[str, str]] | None
    manifest: bytes | None
    # With `held_by` (a committed folder's oid), the entries not known to be
    # in it; else None.
    unsure: list[tuple[str, str]] | None = None
    # The md5s of the files read this time: each went through `keep` or
    # `hash_large`, even when that ran in a forked worker.
    read: list[str] | None = None


def _state_key(key: str, legacy: bool) -> str:
    return key + "\0d2u" if legacy else key


def known_md5s(
    state: StateDB,
    key: str,
    listing: Sequence[FileEntry],
    *,
    legacy: bool,
    folders: Iterable[str] | None = None,
) -> tuple[dict[str, str], list[FileEntry]]:
    """Split a listing into files the state knows (relpath -> md5) and the rest.
    With `folders` (relpaths ending in "/"), only their rows are read."""
    if folders is None or "" in folders:
        known = state.files_under(key)
    else:
        known = {}
        for folder in folders:
            known.update(state.files_under(f"{key}/{folder[:-1]}"))
    found: dict[str, str] = {}
    todo: list[FileEntry] = []
    for entry in listing:
        md5 = row_md5(known.get(f"{key}/{entry.relpath}" if entry.relpath else key), entry,
                      legacy=legacy)  # fmt: skip
        if md5:
            found[entry.relpath] = md5
        else:
            todo.append(entry)
    return found, todo


def record_hashed(
    state: StateDB, key: str, entries: Sequence[FileEntry], md5s: Sequence[str], *, legacy: bool
) -> None:
    state.record_files(
        (
            (f"{key}/{entry.relpath}" if entry.relpath else key, entry, md5)
            for entry, md5 in zip(entries, md5s, strict=True)
        ),
        legacy=legacy,
    )


def hash_tree(
    root: str,
    key: str,
    listing: Sequence[FileEntry],
    state: StateDB,
    *,
    legacy: bool = False,
    jobs: int | None = None,
    need_entries: bool = False,
    held_by: str | None = None,
    signed: Signed | None = None,
    keep: KeepBytes | None = None,
    hash_large: HashLarge | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> TreeHash:
    """The `.dir` oid of the folder `root` (state key `key`) from its listing.

    Unchanged parts of the listing take their md5s from the state; the rest
    is looked up file by file, and hashed where the state does not know it.
    `signed` is the listing's `sign_listing`, when the caller already made it.
    """
    parts, sigs, sig = signed or sign_listing(listing)
    tree_key = _state_key(key, legacy)
    if not need_entries:
        cached = state.tree(tree_key)
        if cached and cached[0] == sig:
            return TreeHash(cached[1], cached[2], cached[3], None, None)
    stored = state.parts(tree_key)
    md5s: list[str] = [""] * len(listing)
    unsure: list[tuple[int, int]] = []
    stale: list[tuple[str, int, int, str]] = []
    for (part, start, end), part_sig in zip(parts, sigs, strict=True):
        row = stored.get(part)
        if row is not None and row[0] == part_sig and len(row[1]) == 32 * (end - start):
            joined = row[1]
            md5s[start:end] = [joined[i : i + 32] for i in range(0, len(joined), 32)]
            if held_by is None or row[2] != held_by:
                unsure.append((start, end))
        else:
            stale.append((part, start, end, part_sig))
            unsure.append((start, end))
    read: list[str] = []
    if stale:
        read = _hash_stale(
            root, key, listing, state, stale, md5s, legacy=legacy, jobs=jobs, keep=keep,
            hash_large=hash_large, on_batch=on_batch, whole=len(stale) == len(parts),
        )  # fmt: skip
        current = {part for part, _, _ in parts}
        state.record_parts(
            tree_key,
            ((part, part_sig, "".join(md5s[start:end])) for part, start, end, part_sig in stale),
            drop=[part for part in stored if part not in current],
        )
    relpaths = [e[0] for e in listing]
    entries = sorted(zip(relpaths, md5s, strict=True))
    manifest = dump_manifest(entries)
    oid = manifest_oid(manifest)
    size = sum(e.size for e in listing)
    state.record_tree(tree_key, sig, oid, size, len(entries))
    doubt = None
    if held_by is not None:
        doubt = [(relpaths[i], md5s[i]) for start, end in unsure for i in range(start, end)]
    return TreeHash(oid, size, len(entries), entries, manifest, doubt, read)


def certainly_differs(
    root: str,
    key: str,
    listing: Sequence[FileEntry],
    state: StateDB,
    oid: str,
    *,
    legacy: bool = False,
    jobs: int | None = None,
) -> bool:
    """Whether the folder `root` is certainly no longer the committed folder
    `oid`, told without hashing the whole tree: a part the state holds for
    `oid` lists the same names in the same order now, and one of its files
    has another md5. False means "not told": `hash_tree` answers.

    `status` after a few changes needs only this, not the new manifest.
    """
    parts, sigs, sig = sign_listing(listing)
    tree_key = _state_key(key, legacy)
    cached = state.tree(tree_key)
    if cached and cached[0] == sig:
        return False  # the state knows the oid: no shortcut needed
    stored = state.parts(tree_key)
    for (part, start, end), part_sig in zip(parts, sigs, strict=True):
        row = stored.get(part)
        if (
            row is None
            or row[2] != oid
            or row[0] == part_sig
            or row[0][:32] != part_sig[:32]
            or len(row[1]) != 32 * (end - start)
        ):
            continue
        entries = listing[start:end]
        found, todo = known_md5s(
            state, key, entries, legacy=legacy, folders=[part[: part.rfind("#")]]
        )
        if todo:
            hashed = hash_files(root, todo, legacy=legacy, jobs=jobs)
            record_hashed(state, key, todo, hashed, legacy=legacy)
            found.update(zip((e.relpath for e in todo), hashed, strict=True))
        committed = row[1]
        for i, entry in enumerate(entries):
            if found[entry.relpath] != committed[32 * i : 32 * i + 32]:
                return True
    return False


def _hash_stale(
    root: str,
    key: str,
    listing: Sequence[FileEntry],
    state: StateDB,
    stale: list[tuple[str, int, int, str]],
    md5s: list[str],
    *,
    legacy: bool,
    jobs: int | None,
    keep: KeepBytes | None,
    hash_large: HashLarge | None,
    on_batch: Callable[[int], None] | None,
    whole: bool,
) -> list[str]:
    """Fill `md5s` for the stale parts: from the state's file rows, else by
    hashing; the md5s of the files hashed."""
    index = {}
    for _, start, end, _ in stale:
        for i in range(start, end):
            index[listing[i][0]] = i
    entries = [listing[i] for i in index.values()]
    folders = None if whole else {part[: part.rfind("#")] for part, _, _, _ in stale}
    found, todo = known_md5s(state, key, entries, legacy=legacy, folders=folders)
    hashed: list[str] = []
    if todo:

        def record(entries: Sequence[FileEntry], md5s: list[str]) -> None:
            # While the other processes still hash: this one would wait anyway.
            record_hashed(state, key, entries, md5s, legacy=legacy)

        hashed = hash_files(
            root, todo, legacy=legacy, jobs=jobs, keep=keep, hash_large=hash_large,
            on_batch=on_batch, on_hashed=record,
        )  # fmt: skip
        found.update(zip((e.relpath for e in todo), hashed, strict=True))
    for relpath, md5 in found.items():
        md5s[index[relpath]] = md5
    return hashed
