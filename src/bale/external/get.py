"""`get`: download a file or folder of another repository, untracked."""

from __future__ import annotations

import os
import posixpath
import shutil
from typing import NamedTuple

from bale.errors import PathNotFoundError, TargetError
from bale.fsutil import atomic_write, copy_file, remove_leftovers, tmp_name
from bale.parallel import map_batched
from bale.view.repoview import Leaf, RepoView


class Got(NamedTuple):
    """What `get` wrote: the destination, its files, and how many objects
    came from a remote."""

    path: str
    files: int
    fetched: int


def get(view: RepoView, path: str, dest: str, *, force: bool = False) -> Got:
    """Download `path` of the view (a git file, an output, a file or folder
    inside a tracked folder, or a folder holding any of these) to `dest`.
    Only what `path` holds is fetched: one file inside a tracked folder costs
    that file and the folder's manifest.

    Raises:
        PathNotFoundError: the source holds nothing at `path`.
        TargetError: `dest` exists (without `force`).
        SourceError: the data is in no cache and on no remote of the source.
    """
    if os.path.lexists(dest) and not force:
        raise TargetError(f"'{dest}' already exists; use -f to replace it, or -o another path")
    top = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    leaves = view.leaves(top, expand=True)
    if not leaves:
        view.pick(top)  # names the missing path
        raise PathNotFoundError(f"'{path}' holds no files in {view.url}")
    by_out: dict[int, list[Leaf]] = {}
    for leaf in leaves:
        if leaf.out is not None:
            by_out.setdefault(id(leaf.out), []).append(leaf)
        else:
            view.git_file(leaf.path)  # a symlink is refused before anything is fetched
    for group in by_out.values():
        vo = group[0].out
        assert vo is not None
        objs = [(leaf.md5, vo.out.legacy) for leaf in group if leaf.md5 is not None]
        view.fetch(vo, objs)  # type: ignore[arg-type]
    single = len(leaves) == 1 and leaves[0].path == top
    _write(view, leaves, top, dest, single=single)
    return Got(dest, len(leaves), view.fetched)


def _write(view: RepoView, leaves: list[Leaf], top: str, dest: str, *, single: bool) -> None:
    """Place the leaves at `dest` under a temporary name renamed once whole;
    what a killed run left beside `dest` is removed first."""
    parent, name = os.path.split(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    remove_leftovers(parent, [name])
    tmp = tmp_name(os.path.join(parent, name))

    def place(leaf: Leaf, target: str) -> None:
        if leaf.out is None:
            atomic_write(target, view.git_file(leaf.path), fsync=False)
        else:
            assert leaf.md5 is not None
            copy_file(view.store.path(leaf.md5, legacy=leaf.out.out.legacy), target)
        if leaf.isexec:
            os.chmod(target, 0o755)

    try:
        if single:
            place(leaves[0], tmp)
        else:
            os.makedirs(tmp)
            rels = [leaf.path[len(top) + 1 :] if top else leaf.path for leaf in leaves]
            for folder in sorted({os.path.dirname(r) for r in rels} - {""}):
                os.makedirs(os.path.join(tmp, folder), exist_ok=True)
            pairs = list(zip(leaves, rels, strict=True))
            # git files are read through this process's one `git cat-file`,
            # never from a forked worker; objects are copied by the workers.
            for leaf, rel in pairs:
                if leaf.out is None:
                    place(leaf, os.path.join(tmp, rel))

            def run(batch: list[tuple[Leaf, str]]) -> list[None]:
                for leaf, rel in batch:
                    place(leaf, os.path.join(tmp, rel))
                return [None] * len(batch)

            objects = [(leaf, rel) for leaf, rel in pairs if leaf.out is not None]
            map_batched(run, objects, jobs=view.jobs, forked=True)
        if os.path.isdir(dest) and not os.path.islink(dest):
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.lexists(tmp):
            os.unlink(tmp)
        raise
