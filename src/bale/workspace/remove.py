"""`remove` and `move`: stop tracking an output, or rename it with its `.dvc` file."""

from __future__ import annotations

import os
import posixpath

from bale.errors import OverlappingOutputError, TargetError
from bale.workspace import gitignore
from bale.workspace.context import Workspace
from bale.workspace.index import (
    DVCFILE_SUFFIX,
    all_tracked,
    load_dvcfile,
    metadata_problem,
    not_tracked_error,
    out_rel,
    save_dvcfile,
)


def _dvcfile_for(ws: Workspace, target: str) -> str:
    rel = ws.repo.rel(target)
    if rel.endswith(DVCFILE_SUFFIX) and os.path.isfile(ws.repo.abs(rel)):
        return rel
    if os.path.isfile(ws.repo.abs(rel + DVCFILE_SUFFIX)):
        return rel + DVCFILE_SUFFIX
    raise not_tracked_error(ws.repo, target, rel, "name a .dvc file or a tracked output")


def remove(ws: Workspace, targets: list[str], *, outs: bool = False) -> list[str]:
    """Delete the `.dvc` files and their `.gitignore` entries; with `outs`, the data too."""
    removed = []
    rels = [_dvcfile_for(ws, t) for t in targets]
    loaded = [(rel, load_dvcfile(ws.repo, rel)) for rel in rels]
    for rel, dvcfile in loaded:
        for out in dvcfile.outs:
            ws.check_inside(out_rel(rel, out.path))
    touched: list[str] = []
    for rel, dvcfile in loaded:
        for out in dvcfile.outs:
            path = ws.repo.abs(out_rel(rel, out.path))
            if ws.repo.git is not None:
                gitignore.unignore(path)
                touched.append(os.path.join(os.path.dirname(path), ".gitignore"))
            if outs and os.path.lexists(path):
                import shutil

                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        os.unlink(ws.repo.abs(rel))
        touched.append(ws.repo.abs(rel))
        removed.append(rel)
    if ws.repo.git is not None and ws.repo.config.get_bool("core", "autostage"):
        ws.repo.git.add(touched)
    return removed


def move(ws: Workspace, src: str, dst: str) -> str:
    """Rename a tracked output and its `.dvc` file (`data` -> `new`, `data.dvc` -> `new.dvc`)."""
    repo = ws.repo
    src_rel = repo.rel(src)
    dst_rel = repo.rel(dst)
    if os.path.isdir(repo.abs(dst_rel)):
        dst_rel = (
            posixpath.join(dst_rel, posixpath.basename(src_rel))
            if dst_rel
            else posixpath.basename(src_rel)
        )
    dvc_rel = src_rel + DVCFILE_SUFFIX
    if not os.path.isfile(repo.abs(dvc_rel)):
        raise not_tracked_error(
            repo, src, src_rel, "name an output tracked by a .dvc file beside it"
        )
    dvcfile = load_dvcfile(repo, dvc_rel)
    index = next(
        (i for i, o in enumerate(dvcfile.outs) if out_rel(dvc_rel, o.path) == src_rel), None
    )
    if index is None or len(dvcfile.outs) != 1:
        raise TargetError(f"{dvc_rel} does not track exactly '{src_rel}'; move it by hand")
    new_dvc = dst_rel + DVCFILE_SUFFIX
    ws.check_inside(src_rel)
    ws.check_inside(dst_rel)
    problem = metadata_problem(dst_rel) or (
        gitignore.entry_problem(posixpath.basename(dst_rel)) if repo.git is not None else None
    )
    if problem is not None:
        raise TargetError(f"cannot move to '{dst}': it {problem}; choose another destination")
    line = repo.ignore.ignored_by(dst_rel, is_dir=os.path.isdir(repo.abs(src_rel)))
    if line is not None:
        raise TargetError(f"cannot move to '{dst}': it is ignored by {line}; choose another")
    if dst_rel == src_rel or dst_rel.startswith(src_rel + "/"):
        raise TargetError(f"cannot move '{src}' into itself; choose another destination")
    for path in (dst_rel, new_dvc):
        if os.path.lexists(repo.abs(path)):
            raise TargetError(f"'{path}' already exists; choose another destination")
    for other in all_tracked(repo):
        if other.dvcfile == dvc_rel:
            continue
        if (
            dst_rel == other.rel
            or dst_rel.startswith(other.rel + "/")
            or other.rel.startswith(dst_rel + "/")
        ):
            raise OverlappingOutputError(
                f"'{dst_rel}' overlaps '{other.rel}', which {other.origin} tracks; "
                "choose another destination"
            )
    os.makedirs(os.path.dirname(repo.abs(dst_rel)) or repo.root, exist_ok=True)
    if os.path.lexists(repo.abs(src_rel)):
        os.rename(repo.abs(src_rel), repo.abs(dst_rel))
    out = dvcfile.outs[0]._replace(path=posixpath.basename(dst_rel))
    save_dvcfile(repo, new_dvc, dvcfile._replace(outs=(out,)))
    os.unlink(repo.abs(dvc_rel))
    if repo.git is not None:
        gitignore.unignore(repo.abs(src_rel))
        gitignore.ignore(repo.git, repo.abs(dst_rel))
        if repo.config.get_bool("core", "autostage"):
            repo.git.add(
                [
                    repo.abs(new_dvc),
                    repo.abs(dvc_rel),
                    os.path.join(os.path.dirname(repo.abs(dst_rel)), ".gitignore"),
                    os.path.join(os.path.dirname(repo.abs(src_rel)), ".gitignore"),
                ]
            )
    return new_dvc
