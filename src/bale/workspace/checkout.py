"""`checkout`: make the workspace match the outputs recorded in `.dvc` files."""

from __future__ import annotations

import os
import shutil

from bale.errors import CheckoutError, ObjectMissingError
from bale.fsutil import is_temporary, remove_file, tmp_name
from bale.hashing.state import FileRow
from bale.hashing.tree import known_md5s
from bale.hashing.walk import FileEntry
from bale.parallel import map_batched
from bale.workspace.context import Presence, Workspace
from bale.workspace.index import Tracked, collect

LARGE_FILE = 1 << 20  # mean size from which a folder's files are placed one per task


class Changes:
    """The outputs a checkout added, modified, deleted, or could not place."""

    __slots__ = ("added", "deleted", "failed", "modified")

    def __init__(self) -> None:
        self.added: list[str] = []
        self.modified: list[str] = []
        self.deleted: list[str] = []
        self.failed: list[str] = []


def _entry(relpath: str, sres: os.stat_result) -> FileEntry:
    return FileEntry(relpath, sres.st_ino, sres.st_mtime_ns, sres.st_size, False)


def place_output(
    ws: Workspace,
    tracked: Tracked,
    *,
    sub: str | None = None,
    force: bool = False,
    relink: bool = False,
) -> str | None:
    """Place one output (or the part `sub` of a folder); 'added'/'modified'/None.

    Raises:
        ObjectMissingError: the cache lacks what the output needs.
        CheckoutError: a workspace change not saved in the cache would be lost.
    """
    out = tracked.out
    rel = tracked.rel
    path = ws.repo.abs(rel)
    if out.oid is None or not out.cache:
        return None
    ws.check_inside(rel, follow=out.is_dir)
    if not out.is_dir:
        return _place_file(ws, tracked, force=force, relink=relink)

    entries = ws.manifest(out)
    if sub is not None:
        entries = [(p, m) for p, m in entries if p == sub or p.startswith(sub + "/")]
    existed = os.path.lexists(path)
    if existed and not os.path.isdir(path):
        _guard(ws, rel, force, out.legacy, "replace it with a folder")
        remove_file(path)
        existed = False
    listing = ws.listing(rel, temporary=True) if existed else []
    if sub is not None:
        listing = [e for e in listing if e.relpath == sub or e.relpath.startswith(sub + "/")]
    wanted = dict(entries)
    # A killed checkout leaves its temporary files (fsutil.tmp_name: NAME.<12
    # hex>.tmp, possibly empty); they are bale's, never data: removed unasked.
    leftovers = [e.relpath for e in listing if e.relpath not in wanted and is_temporary(e.relpath)]
    if leftovers:
        drop = set(leftovers)
        listing = [e for e in listing if e.relpath not in drop]
    known, unknown = known_md5s(ws.state, rel, listing, legacy=out.legacy) if listing else ({}, [])
    # Files whose content we must know: those that would be replaced or deleted.
    if unknown:
        from bale.hashing.tree import hash_files, record_hashed

        md5s = hash_files(path, unknown, legacy=out.legacy, jobs=ws.jobs)
        record_hashed(ws.state, rel, unknown, md5s, legacy=out.legacy)
        known.update(zip((e.relpath for e in unknown), md5s, strict=True))
    to_place = [(p, m) for p, m in entries if relink or known.get(p) != m]
    extra = [p for p in known if p not in wanted]
    at_risk = [p for p, _ in to_place if p in known] + extra
    # The cache held all of the folder when it last looked this way: no listing.
    complete = ws.known_whole(out)
    expect = len(at_risk) + (0 if complete else len(to_place))
    present = Presence(ws.store, legacy=out.legacy, expect=expect)
    lost = [p for p in at_risk if known[p] not in present and known[p] != wanted.get(p)]
    if lost and not force:
        raise CheckoutError(
            f"checkout would lose changes to '{rel}/{lost[0]}' (and {len(lost) - 1} more) "
            "not saved in the cache; run: bale commit, or checkout -f to discard them"
            if len(lost) > 1
            else f"checkout would lose changes to '{rel}/{lost[0]}', not saved in the cache; "
            "run: bale commit, or checkout -f to discard them"
        )
    missing = [] if complete else [m for _, m in to_place if m not in present]
    if missing:
        raise ObjectMissingError(missing[0], rel)
    # A folder not there yet is filled under a temporary name and renamed
    # into place once: no temporary name and rename per file, and a killed
    # checkout leaves no half folder (the next one removes what it left).
    fresh = not existed
    root = _staging_folder(path) if fresh else path
    for p in extra + leftovers:
        remove_file(os.path.join(root, p))
    ws.progress.start(f"Checkout {rel}", len(to_place))
    made: set[str] = set()
    for p, _ in to_place:
        parent = os.path.dirname(os.path.join(root, p))
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
    linker = ws.linker
    store = ws.store

    def run(batch: list[tuple[str, str]]) -> list[FileRow]:
        rows = []  # state rows: plain tuples cross from a forked worker fastest
        for p, m in batch:
            src, dest = store.path(m, legacy=out.legacy), os.path.join(root, p)
            try:
                sres = linker.place(src, dest, fresh=fresh)
            except IsADirectoryError:
                # A folder where the file goes: its files were checked (and
                # removed) above with the others; what is left is folders.
                _remove_empty_folders(dest, f"{rel}/{p}")
                sres = linker.place(src, dest)
            md5, d2u = (None, m) if out.legacy else (m, None)
            rows.append((f"{rel}/{p}", sres.st_ino, sres.st_mtime_ns, sres.st_size, md5, d2u))
        return rows

    # Files of megabytes each go one per task, so the threads copy them side by
    # side: four of 256 MiB took 0.16 s this way and 0.29 s in one batch.
    large = out.size is not None and out.size > (out.nfiles or 1) * LARGE_FILE
    try:
        # Each batch's rows go to the state as it is done, while others are placed.
        map_batched(
            run, to_place, jobs=ws.jobs, batch=1 if large else 64,
            on_batch=ws.progress.advance, forked=True,
            read_ahead=lambda item: store.path(item[1], legacy=out.legacy),
            on_results=lambda _batch, rows: ws.state.record_rows(rows),
        )  # fmt: skip
        if fresh:
            os.rename(root, path)
    except BaseException:
        if fresh:
            shutil.rmtree(root, ignore_errors=True)
        raise
    ws.progress.done()
    if existed and not to_place and not extra and not leftovers:
        return None
    return "modified" if existed else "added"


def _staging_folder(path: str) -> str:
    """A new empty folder beside `path` to fill before renaming it to `path`;
    the ones a killed checkout left there are removed first."""
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    with os.scandir(parent) as it:
        for entry in it:
            if (
                entry.name.startswith(name + ".")
                and is_temporary(entry.name)
                and entry.is_dir(follow_symlinks=False)
            ):
                shutil.rmtree(entry.path)
    staging = tmp_name(path)
    os.makedirs(staging)
    return staging


def _remove_empty_folders(path: str, rel: str) -> None:
    """Remove the folder `path` if it holds only folders; else refuse.

    Raises:
        CheckoutError: something is left in it (a file .dvcignore hides, a
            socket): bale does not delete what it did not check.
    """
    for dirpath, dirnames, filenames in os.walk(path, topdown=False):
        if filenames:
            first = os.path.relpath(os.path.join(dirpath, filenames[0]), path)
            raise CheckoutError(
                f"'{rel}' must become a file, but it is a folder holding '{first}'; "
                "move that away and run checkout again"
            )
        for name in dirnames:
            os.rmdir(os.path.join(dirpath, name))
    os.rmdir(path)


def _guard(ws: Workspace, rel: str, force: bool, legacy: bool, what: str) -> None:
    """Refuse to overwrite `rel` unless forced or its content is in the cache."""
    if force:
        return
    current = ws.current(rel, legacy=legacy)
    if current is None:
        return
    if current.tree is None and ws.store.exists(current.oid, legacy=legacy):
        return
    raise CheckoutError(
        f"'{rel}' has changes not saved in the cache; run: bale commit, "
        f"or checkout -f to {what} anyway"
    )


def _place_file(ws: Workspace, tracked: Tracked, *, force: bool, relink: bool) -> str | None:
    out = tracked.out
    rel = tracked.rel
    path = ws.repo.abs(rel)
    assert out.oid is not None
    existed = os.path.lexists(path)
    if existed:
        if os.path.isdir(path) and not os.path.islink(path):
            _guard(ws, rel, force, out.legacy, "replace it")
            shutil.rmtree(path)
        else:
            current = ws.current(rel, legacy=out.legacy)
            if current is not None and current.oid == out.oid and not relink:
                return None
            if current is not None and current.oid != out.oid:
                _guard(ws, rel, force, out.legacy, "overwrite it")
    src = ws.store.path(out.oid, legacy=out.legacy)
    if not os.path.exists(src):
        raise ObjectMissingError(out.oid, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sres = ws.linker.place(src, path, isexec=out.isexec)
    ws.remember(rel, _entry(rel, sres), out.oid, legacy=out.legacy)
    return "modified" if existed else "added"


def checkout(
    ws: Workspace,
    targets: list[str] | None = None,
    *,
    force: bool = False,
    relink: bool = False,
) -> Changes:
    """Check out every output named by `targets` (all when none).

    Outputs whose objects are missing are reported in `failed` after the
    others were placed (raise at the end, as DVC does).
    """
    changes = Changes()
    seen: set[tuple[str, int, str | None]] = set()
    for tracked, sub in collect(ws.repo, targets):
        key = (tracked.dvcfile, tracked.index, sub)
        if key in seen:
            continue
        seen.add(key)
        try:
            result = place_output(ws, tracked, sub=sub, force=force, relink=relink)
        except ObjectMissingError:
            changes.failed.append(tracked.rel)
            continue
        if result == "added":
            changes.added.append(tracked.rel)
        elif result == "modified":
            changes.modified.append(tracked.rel)
    return changes
