"""`checkout`: make the workspace match the outputs recorded in `.dvc` and `dvc.lock` files.

Each output goes through three steps: `survey` reads what is on disk now (and
hashes what the state does not know), `plan_folder` decides from that alone
what to place and remove, `refuse` raises before anything is written when the
plan would lose unsaved work or needs an object the cache lacks, and `apply`
writes.

Cache objects are trusted when they are read-only (mode 0444, as dvc's
cache trusts them): an object whose mode changed (an edited hardlink, a copy
made by hand) is re-hashed before it is placed, and `fsck` re-hashes all of
them. Only what was placed from a trusted or verified object is recorded in
the state, so `status` never vouches for bytes nobody checked.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from typing import NamedTuple

from bale.errors import CheckoutError, ObjectCorruptError, ObjectMissingError, UnsafePathError
from bale.fsutil import is_temporary, naming, remove_file, remove_leftovers, tmp_name
from bale.hashing.state import FileRow, file_row
from bale.hashing.tree import known_md5s
from bale.hashing.walk import FileEntry
from bale.odb.link import Linker, UntrustedObject
from bale.odb.store import OBJECT_MODE, ObjectStore
from bale.parallel import map_batched
from bale.workspace.context import Presence, Workspace
from bale.workspace.index import Tracked, collect

LARGE_FILE = 1 << 20  # mean size from which a folder's files are placed one per task


class Changes:
    """The outputs a checkout added, modified, deleted, or could not place
    (`failed`: objects missing; `corrupt`: (path, oid) of objects whose bytes
    do not match their name)."""

    __slots__ = ("added", "corrupt", "deleted", "failed", "modified")

    def __init__(self) -> None:
        self.added: list[str] = []
        self.modified: list[str] = []
        self.deleted: list[str] = []
        self.failed: list[str] = []
        self.corrupt: list[tuple[str, str]] = []


class Survey(NamedTuple):
    """What is at a folder output's path now."""

    existed: bool  # a folder is there (a file in its place was checked and removed)
    known: dict[str, str]  # relpath -> md5 of every file there now
    leftovers: list[str]  # temporary files a killed checkout left


class FolderPlan(NamedTuple):
    """What placing a folder output does: files to place (relpath, md5),
    files to remove, and the files whose current content would be lost."""

    to_place: list[tuple[str, str]]
    extra: list[str]
    at_risk: list[str]


def plan_folder(entries: list[tuple[str, str]], survey: Survey, *, relink: bool) -> FolderPlan:
    """Which files of the folder change: pure, from the manifest's entries
    and what `survey` found."""
    wanted = dict(entries)
    known = survey.known
    to_place = [(p, m) for p, m in entries if relink or known.get(p) != m]
    extra = [p for p in known if p not in wanted]
    at_risk = [p for p, _ in to_place if p in known] + extra
    return FolderPlan(to_place, extra, at_risk)


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
        ObjectCorruptError: a cache object it needs does not match its name.
        CheckoutError: a workspace change not saved in the cache would be lost.
        UnsafePathError: the output is reached through a symlink out of the
            workspace or into its metadata.
    """
    out = tracked.out
    if out.oid is None or not out.cache:
        return None
    ws.check_inside(tracked.rel, follow=out.is_dir)
    if not out.is_dir:
        return _place_file(ws, tracked, force=force, relink=relink)
    entries = ws.manifest(out)
    if sub is not None:
        entries = [(p, m) for p, m in entries if p == sub or p.startswith(sub + "/")]
    survey = _survey(ws, tracked, sub, force=force)
    plan = plan_folder(entries, survey, relink=relink)
    complete = _refuse(ws, tracked, survey, plan, force=force)
    _apply(ws, tracked, survey, plan, complete=complete)
    if survey.existed and not plan.to_place and not plan.extra and not survey.leftovers:
        return None
    return "modified" if survey.existed else "added"


def _survey(ws: Workspace, tracked: Tracked, sub: str | None, *, force: bool) -> Survey:
    """Read the folder output's path: its files with their md5s (from the
    state, else hashed: those that would be replaced or removed must be
    known), and what a killed checkout left. A file where the folder goes is
    checked (`_guard`) and removed."""
    rel, out = tracked.rel, tracked.out
    path = ws.repo.abs(rel)
    existed = os.path.lexists(path)
    if existed and not os.path.isdir(path):
        _guard(ws, rel, force, out.legacy, "replace it with a folder")
        remove_file(path)
        existed = False
    listing = ws.listing(rel, temporary=True) if existed else []
    if sub is not None:
        listing = [e for e in listing if e.relpath == sub or e.relpath.startswith(sub + "/")]
    # A killed checkout leaves its temporary files (fsutil.tmp_name: NAME.<12
    # hex>.tmp, possibly empty); they are bale's, never data: removed unasked.
    leftovers = [e.relpath for e in listing if is_temporary(e.relpath)]
    if leftovers:
        drop = set(leftovers)
        listing = [e for e in listing if e.relpath not in drop]
    known, unknown = known_md5s(ws.state, rel, listing, legacy=out.legacy) if listing else ({}, [])
    if unknown:
        from bale.hashing.tree import hash_files, record_hashed

        md5s = hash_files(path, unknown, legacy=out.legacy, jobs=ws.jobs)
        record_hashed(ws.state, rel, unknown, md5s, legacy=out.legacy)
        known.update(zip((e.relpath for e in unknown), md5s, strict=True))
    return Survey(existed, known, leftovers)


def _refuse(
    ws: Workspace, tracked: Tracked, survey: Survey, plan: FolderPlan, *, force: bool
) -> bool:
    """Raise before anything is written if the plan would lose a change not
    saved in the cache (unless `force`), needs an object the cache lacks, or
    would write through a symlink inside the folder. Returns whether the
    state knows the cache holds all of the folder."""
    rel, out = tracked.rel, tracked.out
    wanted = dict(plan.to_place)
    # The cache held all of the folder when it last looked this way: no listing.
    complete = ws.known_whole(out)
    expect = len(plan.at_risk) + (0 if complete else len(plan.to_place))
    present = Presence(ws.store, legacy=out.legacy, expect=expect)
    known = survey.known
    lost = [p for p in plan.at_risk if known[p] not in present and known[p] != wanted.get(p)]
    if lost and not force:
        more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
        raise CheckoutError(
            f"checkout would lose changes to '{rel}/{lost[0]}'{more}, not saved in the cache; "
            "run: bale commit, or checkout -f to discard them"
        )
    missing = [] if complete else [m for _, m in plan.to_place if m not in present]
    if missing:
        raise ObjectMissingError(missing[0], rel)
    if survey.existed:
        _refuse_links(ws.repo.abs(rel), rel, (p for p, _ in plan.to_place))
    return complete


def _refuse_links(root: str, rel: str, relpaths: Iterable[str]) -> None:
    """Refuse when a folder on the way to a file to place is a symlink: git
    checks symlinks out as they were committed, and one at `data/sub` to
    `../.git/hooks` would have `data/sub/x` written into `.git`.

    Raises:
        UnsafePathError: naming the symlink.
    """
    folders: set[str] = set()
    for relpath in relpaths:
        parent = relpath.rpartition("/")[0]
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    for folder in sorted(folders):
        if os.path.islink(os.path.join(root, folder)):
            raise UnsafePathError(
                f"'{rel}/{folder}' is a symlink inside the tracked folder '{rel}'; checkout "
                "does not write through it: remove it and run checkout again"
            )


def _apply(
    ws: Workspace, tracked: Tracked, survey: Survey, plan: FolderPlan, *, complete: bool
) -> None:
    """Write what `plan` says. A folder not there yet is filled under a
    temporary name and renamed into place once: no temporary name and
    rename per file, and a killed checkout leaves no half folder (the next
    one removes what it left)."""
    path = ws.repo.abs(tracked.rel)
    fresh = not survey.existed
    root = tmp_name(path) if fresh else path
    try:
        _fill_folder(ws, tracked, survey, plan, root, fresh=fresh)
        if fresh:
            os.rename(root, path)
    except BaseException as exc:
        if fresh:
            shutil.rmtree(root, ignore_errors=True)
            if isinstance(exc, OSError):  # name the output, not its staging folder
                raise naming(exc, root, path) from exc
        raise
    ws.progress.done()


def _fill_folder(
    ws: Workspace, tracked: Tracked, survey: Survey, plan: FolderPlan, root: str, *, fresh: bool
) -> None:
    """Place the planned files of a folder output under `root` (the output, or
    when `fresh` its staging folder, made here) and record them in the state."""
    rel, out = tracked.rel, tracked.out
    if fresh:
        _make_staging_folder(ws.repo.abs(rel), root)
    for p in plan.extra + survey.leftovers:
        remove_file(os.path.join(root, p))
    ws.progress.start(f"Checkout {rel}", len(plan.to_place))
    made: set[str] = set()
    for p, _ in plan.to_place:
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
                sres = _place_trusted(linker, store, src, dest, m, out.legacy, fresh=fresh)
            except IsADirectoryError:
                # A folder where the file goes: its files were checked (and
                # removed) above with the others; what is left is folders.
                _remove_empty_folders(dest, f"{rel}/{p}")
                sres = _place_trusted(linker, store, src, dest, m, out.legacy, fresh=False)
            row = file_row(
                f"{rel}/{p}", sres.st_ino, sres.st_mtime_ns, sres.st_size, m, legacy=out.legacy
            )
            rows.append(row)
        return rows

    # Files of megabytes each go one per task, so the threads copy them side by
    # side: four of 256 MiB took 0.16 s this way and 0.29 s in one batch.
    large = out.size is not None and out.size > (out.nfiles or 1) * LARGE_FILE
    # Each batch's rows go to the state as it is done, while others are placed.
    map_batched(
        run, plan.to_place, jobs=ws.jobs, batch=1 if large else 64,
        on_batch=ws.progress.advance, forked=True,
        read_ahead=lambda item: store.path(item[1], legacy=out.legacy),
        on_results=lambda _batch, rows: ws.state.record_rows(rows),
    )  # fmt: skip


def _place_trusted(
    linker: Linker,
    store: ObjectStore,
    src: str,
    dest: str,
    oid: str,
    legacy: bool,
    *,
    fresh: bool,
    isexec: bool = False,
) -> os.stat_result:
    """Place the object `src`; one that is not read-only is re-hashed first
    and, when it matches its name, made read-only again.

    Raises:
        ObjectCorruptError: it does not match its name; nothing was placed.
    """
    try:
        return linker.place(src, dest, isexec=isexec, fresh=fresh, trusted_mode=OBJECT_MODE)
    except UntrustedObject:
        actual = store.verify(oid, legacy=legacy)
        if actual != oid:
            raise ObjectCorruptError(oid, actual, "the cache") from None
        store.protect(oid, legacy=legacy)
        return linker.place(src, dest, isexec=isexec, fresh=fresh)


def _make_staging_folder(path: str, staging: str) -> None:
    """Make the empty folder `staging` beside `path`, to fill before renaming
    it to `path`; the ones a killed checkout left there are removed first."""
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    remove_leftovers(parent, [name])
    os.makedirs(staging)


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
    sres = _place_trusted(
        ws.linker, ws.store, src, path, out.oid, out.legacy, fresh=False, isexec=out.isexec
    )
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

    Outputs whose objects are missing or corrupt are reported in `failed` and
    `corrupt` after the others were placed (raise at the end, as DVC does).
    """
    changes = Changes()
    seen: set[tuple[str, str | None, int, str | None]] = set()
    picked = collect(ws.repo, targets)
    _clean_beside_files(ws, [t for t, _sub in picked if t.out.oid and not t.out.is_dir])
    for tracked, sub in picked:
        key = (tracked.dvcfile, tracked.stage, tracked.index, sub)
        if key in seen:
            continue
        seen.add(key)
        try:
            result = place_output(ws, tracked, sub=sub, force=force, relink=relink)
        except ObjectMissingError:
            changes.failed.append(tracked.rel)
            continue
        except ObjectCorruptError as err:
            changes.corrupt.append((tracked.rel, err.oid))
            continue
        if result == "added":
            changes.added.append(tracked.rel)
        elif result == "modified":
            changes.modified.append(tracked.rel)
    return changes


def _clean_beside_files(ws: Workspace, files: list[Tracked]) -> None:
    """Remove the temporary files a killed checkout left beside file outputs,
    one listing per folder."""
    by_folder: dict[str, list[str]] = {}
    for tracked in files:
        parent, _, name = tracked.rel.rpartition("/")
        by_folder.setdefault(parent, []).append(name)
    for parent, names in by_folder.items():
        try:
            ws.check_inside(f"{parent}/{names[0]}" if parent else names[0])
        except UnsafePathError:
            continue  # refused when the output itself is placed; nothing removed there
        remove_leftovers(ws.repo.abs(parent), names)
