"""Saving what is on disk into the cache: the shared half of add and commit."""

from __future__ import annotations

import os
import posixpath
from typing import NamedTuple

from bale.errors import ObjectCorruptError
from bale.formats.dvcfile import Out
from bale.formats.manifest import dump_manifest, manifest_oid
from bale.hashing.tree import TreeHash, hash_tree, record_hashed, sign_listing
from bale.hashing.walk import FileEntry, stat_file
from bale.parallel import map_batched
from bale.workspace.context import Presence, Workspace


class Saved(NamedTuple):
    oid: str
    size: int
    nfiles: int | None
    isexec: bool


def is_unchanged(
    ws: Workspace, rel: str, out: Out, *, listing: list[FileEntry] | None = None
) -> bool:
    """Whether `out` already records what is at `rel` (hashed its own way, so a
    DVC 2 entry stays as it is) and the cache holds it."""
    if out.oid is None:
        return False
    current = ws.current(rel, legacy=out.legacy, listing=listing)
    return (
        current is not None
        and current.oid == out.oid
        and (current.tree is not None or current.isexec == out.isexec)
        and ws.in_cache(out)
    )


def record(
    ws: Workspace,
    rel: str,
    base: Out | None,
    *,
    commit: bool = True,
    listing: list[FileEntry] | None = None,
) -> Out:
    """The output recording what is at `rel` now, stored in the cache with `commit`.

    `base` is the output as recorded (None for a new one); it comes back as
    it is when the content did not change, so a DVC 2 entry stays DVC 2 and
    keys DVC did not write are not added. Changed content is recorded the
    DVC 3 way.
    """
    if base is not None and base.legacy and is_unchanged(ws, rel, base, listing=listing):
        return base
    current = base if base is not None and not base.legacy else None
    saved = save_path(ws, rel, commit=commit, listing=listing, base=current)
    if (
        base is not None
        and not base.legacy  # a DVC 2 entry whose object was missing: stored the DVC 3 way
        and saved.oid == base.oid
        and (saved.nfiles is not None or saved.isexec == base.isexec)
    ):
        return base
    start = base if base is not None else Out(path=posixpath.basename(rel))
    return start.with_hash(saved.oid, size=saved.size, nfiles=saved.nfiles, isexec=saved.isexec)


def save_path(
    ws: Workspace,
    rel: str,
    *,
    commit: bool = True,
    listing: list[FileEntry] | None = None,
    base: Out | None = None,
) -> Saved:
    """Hash the file or folder at `rel`; with `commit`, store it in the cache.

    Every object is stored under a name computed from the bytes written, so a
    stale state entry can never put a wrong object in the cache. `listing` is
    the folder's walk when the caller already made it; `base` is what the
    folder recorded before (hashed the DVC 3 way): when the cache holds all of
    it, only files that differ from it are looked up in the cache.
    """
    path = ws.repo.abs(rel)
    store = ws.store
    if not os.path.isdir(path):
        entry = stat_file(path)
        assert entry is not None
        if not commit:
            return Saved(ws.file_md5(rel, entry, legacy=False), entry.size, None, entry.isexec)
        md5 = ws.known_md5(rel, entry, legacy=False)
        if md5 is None or not store.exists(md5):
            md5 = store.add_file(path)  # hashes what it copies: one read
            ws.remember(rel, entry, md5)
        return Saved(md5, entry.size, None, entry.isexec)

    if listing is None:
        listing = ws.listing(rel)
    # Asked before anything is written: writing changes the cache's stamp.
    base_held = base is not None and base.is_dir and commit and ws.in_cache(base)
    ws.progress.start(f"Adding {rel}", len(listing))
    present = Presence(store, legacy=False)

    def keep(md5: str, data: bytes) -> None:
        if md5 not in present:
            store.add_bytes(md5, data)
            present.add(md5)

    def hash_large(file_path: str) -> str:
        oid = store.add_file(file_path)
        present.add(oid)
        return oid

    signed = sign_listing(listing)

    def hash_now(need_entries: bool) -> TreeHash:
        return hash_tree(
            path, rel, listing, ws.state, jobs=ws.jobs, need_entries=need_entries,
            held_by=base.oid if base_held and base is not None else None, signed=signed,
            keep=keep if commit else None, hash_large=hash_large if commit else None,
            on_batch=ws.progress.advance,
        )  # fmt: skip

    tree = hash_now(need_entries=False)
    if tree.entries is None:  # the state answered for the whole folder
        if not commit or (base_held and base is not None and tree.oid == base.oid):
            ws.progress.done()
            return Saved(tree.oid, tree.size, tree.nfiles, False)
        tree = hash_now(need_entries=True)
    assert tree.entries is not None and tree.manifest is not None
    entries, manifest, oid = tree.entries, tree.manifest, tree.oid
    if commit:
        for md5 in tree.read or ():  # stored by `keep` or `hash_large`, maybe in a worker
            present.add(md5)
        # Parts of the base the cache holds need no lookup.
        to_check = tree.unsure if tree.unsure is not None else entries
        missing = [(relpath, md5) for relpath, md5 in to_check if md5 not in present]
        fixed = _store_missing(ws, rel, missing) if missing else {}
        if fixed:
            merged = dict(entries)
            merged.update(fixed)
            entries = sorted(merged.items())
            manifest = dump_manifest(entries)
            oid = manifest_oid(manifest)
        if not store.exists(oid):
            store.add_bytes(oid, manifest)
        # The next add or status finds the folder whole without a lookup.
        ws.state.mark_complete(oid, store.stamp())
        if not fixed:
            ws.state.mark_parts_held(rel, oid)
    ws.progress.done()
    return Saved(oid, tree.size, len(entries), False)


def _store_missing(ws: Workspace, rel: str, missing: list[tuple[str, str]]) -> dict[str, str]:
    """Store files the state knew but the cache lacks; return any whose hash moved."""
    root = ws.repo.abs(rel)

    def run(batch: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        out = []
        for relpath, md5 in batch:
            try:
                ws.store.add_file(os.path.join(root, relpath), expected=md5)
                out.append((relpath, md5, md5))
            except ObjectCorruptError as exc:
                ws.store.add_file(os.path.join(root, relpath))
                out.append((relpath, md5, exc.actual))
        return out

    moved = {}
    for relpath, old, new in map_batched(run, missing, jobs=ws.jobs, forked=True):
        if old != new:
            moved[relpath] = new
    if moved:
        entries = [stat_file(os.path.join(root, p)) for p in moved]
        record_hashed(
            ws.state, rel,
            [e._replace(relpath=p) for e, p in zip(entries, moved, strict=True) if e],
            [moved[p] for p, e in zip(moved, entries, strict=True) if e],
            legacy=False,
        )  # fmt: skip
    return moved
