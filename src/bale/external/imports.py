"""`import` and `update`: track data of another repository with its source
commit locked in the `.dvc` file, byte for byte as `dvc import` writes it.

An import's `.dvc` file is a frozen stage: `deps` names the source (`path`,
`repo: {url, rev, rev_lock}`), `outs` the data as cached here. Imported
data is in this repository's cache like any other output, so `push` sends
it to this repository's remote and a clone pulls it without the source.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any, NamedTuple

from bale.errors import OverlappingOutputError, TargetError, TargetNotFoundError
from bale.formats.dvcfile import DvcFile, Out, stage_md5
from bale.formats.manifest import dump_manifest, manifest_oid
from bale.hashing.md5 import md5_bytes
from bale.view.repoview import Pick, RepoView
from bale.workspace import gitignore
from bale.workspace.context import Workspace
from bale.workspace.index import (
    DVCFILE_SUFFIX,
    Tracked,
    all_tracked,
    import_dep,
    load_dvcfile,
    metadata_problem,
    save_dvcfile,
    url_dep,
)


class Imported(NamedTuple):
    """An import written or checked: its `.dvc` file, its output (both
    root-relative), the commit it is locked to, how many objects came from a
    remote, and whether anything changed."""

    dvcfile: str
    out: str
    rev_lock: str
    fetched: int
    changed: bool


def destination(ws: Workspace, path: str, out: str | None) -> str:
    """The root-relative path an import of `path` lands at (`out`, or the
    source's base name; inside `out` when that is a folder, as dvc does)."""
    name = posixpath.basename(posixpath.normpath(path.strip("/")))
    if out is None:
        return ws.repo.rel(name)
    if os.path.isdir(out) and not os.path.exists(os.path.join(out, DVCFILE_SUFFIX)):
        tracked = {t.rel for t in all_tracked(ws.repo)}
        rel = ws.repo.rel(out)
        if rel not in tracked:
            return ws.repo.rel(os.path.join(out, name))
    return ws.repo.rel(out)


def check_destination(ws: Workspace, rel: str, *, force: bool, own: str) -> list[Tracked]:
    """Refuse a destination an import may not write; the outputs there now.

    Raises:
        TargetError: metadata, ignored, reached through a symlink, or there
            already (without `force`).
        OverlappingOutputError: another `.dvc` file tracks it or a path around it.
    """
    repo = ws.repo
    problem = metadata_problem(rel)
    if problem is not None:
        raise TargetError(f"cannot import to '{rel or '.'}': it {problem}")
    line = repo.ignore.ignored_by(rel)
    if line is not None:
        raise TargetError(f"cannot import to '{rel}': it is ignored by {line}")
    ws.check_inside(rel)
    parent = posixpath.dirname(rel)
    if parent and not os.path.isdir(repo.abs(parent)):
        raise TargetError(
            f"cannot import to '{rel}': the folder '{parent}' does not exist; "
            f"create it (mkdir -p {parent}) and import again"
        )
    clash = [
        t for t in all_tracked(repo)
        if t.dvcfile != own and (t.rel == rel or t.rel.startswith(rel + "/")
                                 or rel.startswith(t.rel + "/"))
    ]  # fmt: skip
    if clash:
        raise OverlappingOutputError(
            f"cannot import to '{rel}': it overlaps '{clash[0].rel}', which {clash[0].origin} "
            "tracks; choose another -o path"
        )
    if os.path.lexists(repo.abs(rel)) and not force:
        raise TargetError(f"'{rel}' already exists; use -f to replace it, or -o another path")
    if repo.git is not None and repo.git.tracked([repo.abs(rel)]):
        raise TargetError(f"'{rel}' is tracked by git; choose another -o path")
    return [t for t in all_tracked(repo) if t.dvcfile == own]


def import_(
    ws: Workspace,
    view: RepoView,
    path: str,
    dest_rel: str,
    *,
    url: str,
    rev: str | None,
    commit: str,
    no_download: bool = False,
    force: bool = False,
) -> Imported:
    """Import `path` of `view` to `dest_rel`: fetch its objects into the
    cache, write the `.dvc` file and the `.gitignore` entry, check it out.

    Raises:
        PathNotFoundError: the source holds nothing at `path`.
        TargetError, OverlappingOutputError: see `check_destination`.
        SourceError: the data is in no cache and on no remote of the source.
    """
    dvcfile_rel = dest_rel + DVCFILE_SUFFIX
    check_destination(ws, dest_rel, force=force, own=dvcfile_rel)
    pick = view.pick(path)
    recorded, fetched = _record(ws, view, pick, posixpath.basename(dest_rel),
                                no_download=no_download)  # fmt: skip
    repo: dict[str, Any] = {"url": url}
    if rev is not None:
        repo["rev"] = rev
    repo["rev_lock"] = commit
    deps = [{"path": path, "repo": repo}]
    dvcfile = DvcFile(outs=(recorded,), extra={"frozen": True, "deps": deps})
    write_import(ws, dvcfile_rel, dest_rel, dvcfile, download=not no_download, force=force)
    return Imported(dvcfile_rel, dest_rel, commit, fetched, True)


def record_from(ws: Workspace, view: RepoView, path: str, name: str) -> tuple[Out, int]:
    """Fetch what an import of `path` records into the cache (the pull of an
    import from its source); the output and how many objects came from a remote."""
    return _record(ws, view, view.pick(path), name, no_download=False)


def _record(
    ws: Workspace, view: RepoView, pick: Pick, name: str, *, no_download: bool
) -> tuple[Out, int]:
    """The output an import of `pick` records (named `name`), its objects in
    the cache unless `no_download`; and how many came from a remote."""
    store = ws.store
    if pick.git_file is not None:
        data = view.git_file(pick.git_file)
        oid = md5_bytes(data)
        if not no_download and not store.exists(oid):
            store.add_bytes(oid, data)
        isexec = view.tree.files()[pick.git_file].isexec
        return Out(path=name).with_hash(oid, size=len(data), isexec=isexec), 0
    vo = pick.out
    assert vo is not None and vo.out.oid is not None
    src = vo.out
    if pick.sub is None:
        if no_download:
            return Out(path=name, hash_name=src.hash_name), 0
        fetched = view.fetch(vo, view.objects(pick))
        recorded = Out(path=name, oid=src.oid, hash_name=src.hash_name, size=src.size,
                       nfiles=src.nfiles, isexec=src.isexec)  # fmt: skip
        return recorded, fetched
    entries = view.manifest(vo)
    if any(p == pick.sub for p, _ in entries):
        md5 = next(m for p, m in entries if p == pick.sub)
        fetched = 0 if no_download else view.fetch(vo, [(md5, src.legacy)])
        if no_download:
            return Out(path=name, hash_name=src.hash_name), 0
        size = os.stat(store.path(md5, legacy=src.legacy)).st_size
        return Out(path=name, oid=md5, hash_name=src.hash_name, size=size), fetched
    prefix = pick.sub + "/"
    inner = [(p[len(prefix) :], m) for p, m in entries if p.startswith(prefix)]
    if no_download:
        return Out(path=name, hash_name=src.hash_name), 0
    fetched = view.fetch(vo, [(m, src.legacy) for _, m in inner])
    manifest = dump_manifest(inner)
    oid = manifest_oid(manifest)
    if not store.exists(oid, legacy=src.legacy):
        store.add_bytes(oid, manifest, legacy=src.legacy)
    size = sum(os.stat(store.path(m, legacy=src.legacy)).st_size for _, m in inner)
    return Out(path=name, oid=oid, hash_name=src.hash_name, size=size,
               nfiles=len(inner)), fetched  # fmt: skip


def write_import(
    ws: Workspace, dvcfile_rel: str, dest_rel: str, dvcfile: DvcFile, *, download: bool,
    force: bool,
) -> None:  # fmt: skip
    """Write the import's `.dvc` file (DVC's stage md5 on top) and
    `.gitignore` entry, and place its data."""
    dvcfile = dvcfile._replace(extra={"md5": stage_md5(dvcfile), **dvcfile.extra})
    ws.store.sync()  # durable before the .dvc file names them
    save_dvcfile(ws.repo, dvcfile_rel, dvcfile)
    if ws.repo.git is not None:
        gitignore.ignore(ws.repo.git, ws.repo.abs(dest_rel))
    if download:
        from bale.workspace.checkout import place_output

        place_output(ws, Tracked(dvcfile_rel, dvcfile.outs[0], 0, dest_rel), force=force)


def imports(ws: Workspace, targets: list[str] | None) -> list[tuple[str, DvcFile]]:
    """The import `.dvc` files the targets name (all of them when none), of
    other repositories (`import_dep`) and of URLs (`url_dep`).

    Raises:
        TargetError: a target is not an import.
    """
    found: dict[str, DvcFile] = {}
    if targets:
        for target in targets:
            rel = ws.repo.rel(target)
            rel = rel if rel.endswith(DVCFILE_SUFFIX) else rel + DVCFILE_SUFFIX
            if not os.path.isfile(ws.repo.abs(rel)):
                raise TargetNotFoundError(target, "name an import's .dvc file or output")
            dvcfile = load_dvcfile(ws.repo, rel)
            if import_dep(dvcfile) is None and url_dep(dvcfile) is None:
                raise TargetError(f"'{rel}' is not an import; bale update moves imports only")
            found[rel] = dvcfile
        return list(found.items())
    for tracked in all_tracked(ws.repo):
        if tracked.stage is None and tracked.dvcfile not in found:
            dvcfile = load_dvcfile(ws.repo, tracked.dvcfile)
            if import_dep(dvcfile) is not None or url_dep(dvcfile) is not None:
                found[tracked.dvcfile] = dvcfile
    return sorted(found.items())


def _in_place(ws: Workspace, dest_rel: str, out: Out) -> bool:
    current = ws.current(dest_rel, legacy=out.legacy)
    return current is not None and current.oid == out.oid


def update(
    ws: Workspace,
    rel: str,
    dvcfile: DvcFile,
    view: RepoView,
    *,
    rev: str | None,
    commit: str,
    no_download: bool = False,
) -> Imported:
    """Move one import to `commit` (of `rev`, or of the revision it names);
    nothing is written when that is the commit it is locked to already and
    its data is in place (a killed update may have written the `.dvc` file
    before it placed the data: run again, it places it).

    Raises:
        PathNotFoundError, SourceError, CheckoutError: see `import_`.
    """
    dep = import_dep(dvcfile)
    assert dep is not None
    out = dvcfile.outs[0]
    dest_rel = posixpath.normpath(posixpath.join(posixpath.dirname(rel), out.path))
    old_repo = dict(dep["repo"])
    new_repo = dict(old_repo)
    if rev is not None:
        new_repo["rev"] = rev
    new_repo["rev_lock"] = commit
    if new_repo == old_repo and (no_download or (out.oid is not None
                                                 and _in_place(ws, dest_rel, out))):  # fmt: skip
        return Imported(rel, dest_rel, commit, 0, False)
    pick = view.pick(dep["path"])
    recorded, fetched = _record(ws, view, pick, out.path, no_download=no_download)
    recorded = recorded._replace(extra=out.extra, remote=out.remote, push=out.push)
    new_dep = {**dep, "repo": {k: new_repo[k] for k in ("url", "rev", "rev_lock", "config",
                                                         "remote") if k in new_repo}}  # fmt: skip
    extra = {k: v for k, v in dvcfile.extra.items() if k != "md5"}
    extra["deps"] = [new_dep]
    new = DvcFile(outs=(recorded,), extra=extra)
    write_import(ws, rel, dest_rel, new, download=not no_download, force=False)
    return Imported(rel, dest_rel, commit, fetched, True)
