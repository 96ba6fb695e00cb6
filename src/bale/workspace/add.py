"""`add`: start tracking files and folders, or record new content for them."""

from __future__ import annotations

import os
import posixpath
from typing import NamedTuple

from bale.errors import (
    BaleError,
    GitTrackedError,
    OutsideRepoError,
    OverlappingOutputError,
    TargetError,
    TargetNotFoundError,
    UnsafePathError,
    UsageError,
)
from bale.formats.dvcfile import DvcFile, Out
from bale.formats.manifest import dump_manifest, manifest_oid
from bale.fsutil import remove_file, remove_leftovers, tmp_name
from bale.hashing.walk import FileEntry, Listing, stat_file
from bale.remotes.base import Backend
from bale.workspace import gitignore
from bale.workspace.context import Workspace
from bale.workspace.index import (
    DVCFILE_SUFFIX,
    Tracked,
    all_tracked,
    load_dvcfile,
    metadata_problem,
    save_dvcfile,
)
from bale.workspace.save import record, save_path


class Added(NamedTuple):
    dvcfile: str
    out: str
    uploaded: int = 0  # objects sent to the remote (--to-remote)


def _expand(targets: list[str], use_glob: bool) -> list[str]:
    if not use_glob:
        return targets
    import glob as globlib

    expanded: list[str] = []
    for target in targets:
        matches = sorted(globlib.glob(target, recursive=True))
        if not matches:
            raise TargetNotFoundError(target, "the pattern matches nothing")
        expanded.extend(matches)
    return expanded


def _check_target(ws: Workspace, target: str) -> str:
    """The target's path relative to the root, after every refusal check."""
    repo = ws.repo
    rel = repo.rel(target)
    path = repo.abs(rel)
    problem = metadata_problem(rel)
    if problem is not None:
        raise TargetError(f"'{target}' cannot be tracked: it {problem}")
    if os.path.islink(path):
        real = os.path.realpath(path)
        if not any(real == r or real.startswith(r + os.sep) for r in ws.link_roots):
            raise UnsafePathError(
                f"'{target}' is a symlink to '{real}', outside the repository; "
                "add the data itself (or use -o to copy it in)"
            )
    ws.check_inside(rel)
    if not os.path.lexists(path):
        raise TargetNotFoundError(target)
    if not os.path.isdir(path) and not os.path.isfile(path):
        raise TargetError(f"'{target}' is neither a file nor a folder")
    if not os.access(path, os.R_OK) or (os.path.isdir(path) and not os.access(path, os.X_OK)):
        raise TargetError(f"'{target}' is not readable; fix its permissions")
    bad_name = gitignore.entry_problem(posixpath.basename(rel)) if repo.git is not None else None
    if bad_name is not None:
        raise TargetError(f"{target!r} cannot be tracked: its name {bad_name}")
    line = repo.ignore.ignored_by(rel, is_dir=os.path.isdir(path))
    if line is not None:
        raise TargetError(
            f"'{target}' is ignored by {line}; remove that line to track it, or add another path"
        )
    return rel


def add(
    ws: Workspace,
    targets: list[str],
    *,
    out: str | None = None,
    no_commit: bool = False,
    use_glob: bool = False,
    to_remote: bool = False,
    remote: str | None = None,
) -> list[Added]:
    """Track each target: store it in the cache (or, `to_remote`, only on
    `remote`), write `TARGET.dvc` and the `.gitignore` entry, and stage both
    when `core.autostage` is set. Every check runs before anything is stored
    or uploaded.

    Raises:
        BaleError: a target is missing, outside the repository, tracked by
            git, overlaps an output, or is an unsafe symlink. Nothing is
            written for any target when one fails these checks.
    """
    repo = ws.repo
    if to_remote and no_commit:
        raise UsageError("--to-remote takes no --no-commit: nothing goes to the cache")
    targets = _expand(targets, use_glob)
    if to_remote and (out is not None or any(_outside(repo.root, t) for t in targets)):
        if len(targets) != 1:
            raise UsageError("--to-remote with -o, or from outside the repository, takes one path")
        return [_add_outside(ws, targets[0], out, remote)]
    if out is None:
        plan = _plan(ws, targets)
    else:
        if len(targets) != 1:
            raise UsageError("-o/--out takes exactly one target")
        copied = _copy_in(ws, targets[0], out)
        try:
            plan = _plan(ws, [copied])
        except BaleError:
            # Refused: take the copy back, so nothing is left half-done.
            if os.path.isdir(copied) and not os.path.islink(copied):
                import shutil

                shutil.rmtree(copied)
            else:
                os.unlink(copied)
            raise

    touched: list[str] = []
    added: list[Added] = []
    if to_remote:
        if plan.granular:
            raise UsageError(
                f"--to-remote adds whole files or folders, not '{plan.granular[0][0]}' "
                "inside a tracked folder"
            )
        from bale.workspace.sync import open_backend

        # Opened only after every target passed the checks: a refused target
        # uploads nothing.
        _spec, backend = open_backend(ws, remote)
        try:
            for rel, owner in plan.whole:
                recorded, uploaded = _upload(ws, rel, owner, backend, plan.listings.get(rel))
                added.append(_write(ws, rel, owner, recorded, touched)._replace(uploaded=uploaded))
        finally:
            backend.close()
    else:
        records = [
            (rel, owner, record(ws, rel, owner.out if owner is not None else None,
                                commit=not no_commit, listing=plan.listings.get(rel)))
            for rel, owner in plan.whole
        ]  # fmt: skip
        if not no_commit:
            ws.store.sync()  # durable before any .dvc file names them
        for rel, owner, recorded in records:
            if not no_commit and not ws.linker.is_copy:
                from bale.workspace.checkout import place_output

                place_output(ws, Tracked(rel + DVCFILE_SUFFIX, recorded, 0, rel), relink=True)
            added.append(_write(ws, rel, owner, recorded, touched))
        for rel, owner in plan.granular:
            added.append(_add_granular(ws, rel, owner, touched=touched))
    if repo.git is not None and repo.config.get_bool("core", "autostage"):
        repo.git.add(touched)
    return added


class _Plan(NamedTuple):
    whole: list[tuple[str, Tracked | None]]
    granular: list[tuple[str, Tracked]]
    listings: dict[str, Listing]


def _plan(ws: Workspace, targets: list[str]) -> _Plan:
    """Every refusal check, before anything is written."""
    repo = ws.repo
    rels = [_check_target(ws, t) for t in targets]
    tracked = all_tracked(repo)
    plans: list[tuple[str, Tracked | None]] = []
    granular: list[tuple[str, Tracked]] = []
    for target, rel in zip(targets, rels, strict=True):
        owner = _owner(tracked, rel)
        if owner is not None and owner.stage is not None:
            raise OverlappingOutputError(
                f"'{target}' is {'' if owner.rel == rel else 'inside '}an output of stage "
                f"{owner.origin}, which only a run records; run bale repro instead"
            )
        if owner is not None and owner.rel != rel:
            _check_granular(rel, owner.rel, owner.out)
            granular.append((rel, owner))
            continue
        inside = [t for t in tracked if t.rel.startswith(rel + "/")]
        if inside:
            raise OverlappingOutputError(
                f"'{target}' contains '{inside[0].rel}', which {inside[0].origin} already "
                f"tracks; run: bale remove {inside[0].dvcfile} first, or add the other path"
            )
        if owner is not None and owner.dvcfile != rel + DVCFILE_SUFFIX:
            raise OverlappingOutputError(
                f"'{target}' is already an output of {owner.origin}; use bale commit"
            )
        plans.append((rel, owner))
    # An output its own .dvc file already tracks is git-ignored: not asked again.
    new = [rel for rel, owner in plans if owner is None]
    if repo.git is not None and new:
        in_git = repo.git.tracked([repo.abs(rel) for rel in new])
        if in_git:
            raise GitTrackedError(repo.rel(sorted(in_git)[0]))
    # Walk every folder now: a symlink out of the repository in the last
    # target must not leave the first one added.
    listings = {rel: ws.listing(rel) for rel, _ in plans if os.path.isdir(repo.abs(rel))}
    for rel, listing in listings.items():
        inner = listing.ignore_files
        if inner:
            raise TargetError(
                f"'{rel}' holds '{rel}/{inner[0]}'; a .dvcignore file cannot be inside a "
                "tracked folder (dvc refuses it too): move its patterns to a .dvcignore "
                f"above '{rel}'"
            )
    for rel, _ in granular:
        if os.path.isdir(repo.abs(rel)):
            ws.listing(rel)
    return _Plan(plans, granular, listings)


def _owner(tracked: list[Tracked], rel: str) -> Tracked | None:
    for t in tracked:
        if rel == t.rel or rel.startswith(t.rel + "/"):
            return t
    return None


def _write(
    ws: Workspace, rel: str, owner: Tracked | None, recorded: Out, touched: list[str]
) -> Added:
    """Write `rel`'s `.dvc` file (its other outputs and keys kept) and its
    `.gitignore` entry."""
    repo = ws.repo
    dvcfile_rel = rel + DVCFILE_SUFFIX
    old = load_dvcfile(repo, dvcfile_rel) if os.path.exists(repo.abs(dvcfile_rel)) else None
    if old is not None and owner is not None:
        outs = list(old.outs)
        outs[owner.index] = recorded
        dvcfile = old._replace(outs=tuple(outs))
    else:
        dvcfile = DvcFile(outs=(recorded,))
    save_dvcfile(repo, dvcfile_rel, dvcfile)
    touched.append(repo.abs(dvcfile_rel))
    if repo.git is not None:
        written = gitignore.ignore(repo.git, repo.abs(rel))
        if written:
            touched.append(written)
    return Added(dvcfile_rel, rel)


def _outside(root: str, path: str) -> bool:
    absolute = os.path.abspath(path)
    return absolute != root and not absolute.startswith(root + os.sep)


def _add_outside(ws: Workspace, source: str, out: str | None, remote: str | None) -> Added:
    """`add --to-remote SOURCE [-o OUT]`, as dvc's: SOURCE (anywhere on this
    machine) goes straight to the remote and OUT.dvc records it; OUT itself
    appears at the next pull or checkout. Every check runs before the upload.

    Raises:
        BaleError: SOURCE is missing or holds the repository; OUT is outside
            it, metadata, already there, or overlaps another output.
    """
    from bale.hashing.tree import part_signatures
    from bale.hashing.walk import walk_files
    from bale.workspace.sync import open_backend

    repo = ws.repo
    if not os.path.lexists(source):
        raise TargetNotFoundError(source)
    path = os.path.abspath(source)
    if repo.root == path or repo.root.startswith(path.rstrip(os.sep) + os.sep):
        raise TargetError(f"'{source}' holds this repository itself; add a folder beside it")
    target = out if out is not None else os.path.basename(path)
    rel = repo.rel(target)
    problem = metadata_problem(rel)
    if problem is not None:
        raise TargetError(f"'{target}' cannot be tracked: it {problem}")
    ws.check_inside(rel)
    if os.path.lexists(repo.abs(rel)):
        raise TargetError(f"'{target}' already exists; remove it or choose another -o path")
    tracked = all_tracked(repo)
    owner = _owner(tracked, rel)
    if owner is not None and (owner.rel != rel or owner.dvcfile != rel + DVCFILE_SUFFIX):
        raise OverlappingOutputError(
            f"'{target}' is {'' if owner.rel == rel else 'inside '}an output of {owner.origin}; "
            "choose another -o path"
        )
    inside = [t for t in tracked if t.rel.startswith(rel + "/")]
    if inside:
        raise OverlappingOutputError(
            f"'{target}' contains '{inside[0].rel}', which {inside[0].origin} already tracks; "
            "choose another -o path"
        )
    key = os.path.relpath(path, repo.root).replace(os.sep, "/")  # the state's name for it
    listing = None
    if os.path.isdir(path):
        listing = (
            walk_files(path, link_roots=(os.path.realpath(path),), sign=part_signatures)
            if _outside(repo.root, path)
            else ws.listing(key)
        )
    _spec, backend = open_backend(ws, remote)
    try:
        recorded, uploaded = _upload(ws, key, owner, backend, listing)
    finally:
        backend.close()
    recorded = recorded._replace(path=posixpath.basename(rel))
    touched: list[str] = []
    added = _write(ws, rel, owner, recorded, touched)._replace(uploaded=uploaded)
    if repo.git is not None and repo.config.get_bool("core", "autostage"):
        repo.git.add(touched)
    return added


def _upload(
    ws: Workspace,
    rel: str,
    owner: Tracked | None,
    backend: Backend,
    listing: list[FileEntry] | None,
) -> tuple[Out, int]:
    """`add --to-remote`: send what is at `rel` straight to the remote, the
    folder's manifest last (a remote never names a folder it cannot serve),
    keeping nothing in the cache. Returns the output and the objects sent.

    Raises:
        TransferError: an upload failed; the `.dvc` file is not written.
    """
    from bale.formats.manifest import dump_manifest
    from bale.hashing.tree import hash_tree
    from bale.remotes import transfer

    path = ws.repo.abs(rel)
    if os.path.isdir(path):
        tree = hash_tree(path, rel, listing if listing is not None else ws.listing(rel),
                         ws.state, jobs=ws.jobs, need_entries=True)  # fmt: skip
        assert tree.entries is not None
        sources = [(os.path.join(path, p), md5, False) for p, md5 in tree.entries]
        oid, size, nfiles, isexec = tree.oid, tree.size, tree.nfiles, False
    else:
        entry = stat_file(path)
        assert entry is not None
        oid = ws.file_md5(rel, entry, legacy=False)
        sources = [(path, oid, False)]
        size, nfiles, isexec = entry.size, None, entry.isexec
    manifest = None
    if nfiles is not None:
        assert tree.entries is not None
        manifest = (oid, dump_manifest(tree.entries))
    sent = transfer.upload_output(backend, sources, manifest, scratch=ws.store, what=rel,
                                  jobs=ws.jobs, progress=ws.progress)  # fmt: skip
    start = owner.out if owner is not None else Out(path=posixpath.basename(rel))
    return start.with_hash(oid, size=size, nfiles=nfiles, isexec=isexec), sent


def _check_granular(rel: str, owner_rel: str, owner: Out) -> None:
    if owner.oid is None or not owner.is_dir:
        raise TargetError(f"'{rel}' is inside '{owner_rel}', which is not a tracked folder")
    if owner.legacy:
        # Its manifest names dos2unix md5s of objects in the 2.x cache; a DVC 3
        # entry needs plain md5s, which only hashing every file again gives.
        raise TargetError(
            f"'{rel}' is inside '{owner_rel}', which DVC 2 recorded (md5-dos2unix), so "
            f"one file cannot be added to it; run: bale add {owner_rel} (all of it again)"
        )


def _add_granular(ws: Workspace, rel: str, owner: Tracked, *, touched: list[str]) -> Added:
    """Add or update one path inside a tracked folder, editing its manifest only."""
    repo = ws.repo
    # Read the output again: an earlier target of the same add may have changed it.
    dvcfile = load_dvcfile(repo, owner.dvcfile)
    current = dvcfile.outs[owner.index]
    _check_granular(rel, owner.rel, current)
    entries = dict(ws.manifest(current))
    sub = rel[len(owner.rel) + 1 :]
    path = repo.abs(rel)
    for key in [k for k in entries if k == sub or k.startswith(sub + "/")]:
        del entries[key]
    if os.path.isdir(path):
        listing = ws.listing(rel)
        for entry in listing:
            entries[f"{sub}/{entry.relpath}"] = save_path(ws, f"{rel}/{entry.relpath}").oid
    else:
        entries[sub] = save_path(ws, rel).oid
    manifest = dump_manifest(entries.items())
    oid = manifest_oid(manifest)
    if not ws.store.exists(oid):
        ws.store.add_bytes(oid, manifest)
    size = current.size
    if size is not None:
        size = _sum_sizes(ws, owner.rel, entries)
    out = current.with_hash(oid, size=size or 0, nfiles=len(entries))
    outs = list(dvcfile.outs)
    outs[owner.index] = out
    ws.store.sync()
    save_dvcfile(repo, owner.dvcfile, dvcfile._replace(outs=tuple(outs)))
    touched.append(repo.abs(owner.dvcfile))
    return Added(owner.dvcfile, rel)


def _sum_sizes(ws: Workspace, root_rel: str, entries: dict[str, str]) -> int:
    """Total size, from the cache where it holds the object, else from the workspace.

    The cache first: a workspace file may hold changes that are not being added.
    """
    total = 0
    for relpath, md5 in entries.items():
        entry = stat_file(ws.store.path(md5))
        if entry is None:
            entry = stat_file(ws.repo.abs(f"{root_rel}/{relpath}"))
        total += entry.size if entry else 0
    return total


def _copy_in(ws: Workspace, source: str, out: str) -> str:
    """`add SOURCE -o OUT`: copy SOURCE (possibly outside the repo) to OUT,
    under a temporary name renamed once complete; what a killed copy left
    there is removed first."""
    repo = ws.repo
    if not os.path.exists(source):
        raise TargetNotFoundError(source)
    try:
        rel = repo.rel(out)
    except OutsideRepoError as exc:
        raise OutsideRepoError(out, repo.root) from exc
    problem = metadata_problem(rel)
    if problem is not None:
        raise TargetError(f"'{out}' cannot be tracked: it {problem}")
    ws.check_inside(rel)
    dest = repo.abs(rel)
    if os.path.lexists(dest):
        raise TargetError(f"'{out}' already exists; remove it or choose another -o path")
    parent, name = os.path.split(dest)
    os.makedirs(parent, exist_ok=True)
    remove_leftovers(parent, [name])
    tmp = tmp_name(dest)
    import shutil

    try:
        if os.path.isdir(source):
            shutil.copytree(source, tmp, symlinks=False)
        else:
            shutil.copy2(source, tmp)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            remove_file(tmp)
        raise
    return dest
