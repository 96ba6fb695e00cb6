"""What a registry holds: its entries, read through the view of a revision.

An entry is a tracked output (of a `.dvc` file, an import, a pipeline stage)
or an artifact a `dvc.yaml` declares. Its kind is `model` when an artifact
of type model names it or its folder's settings say so, else `dataset`.
"""

from __future__ import annotations

import posixpath
from typing import Any, NamedTuple

from bale.errors import DvcFileError
from bale.formats.dvcfile import parse_dvcfile
from bale.registry.settings import Settings
from bale.view.repoview import RepoView, ViewOut


class Entry(NamedTuple):
    path: str  # from the top of the view
    kind: str  # "dataset" or "model"
    size: int | None
    files: int | None
    source: str  # where its data came from, for a card and the catalog
    artifact: str | None  # the artifact name that declares it, if any
    out: ViewOut | None  # None for an artifact no output records


def entries(view: RepoView, settings: Settings) -> list[Entry]:
    """Every entry of the view, by path.

    Raises:
        SourceError: a stage file cannot be read.
    """
    declared = artifacts(view)
    found: dict[str, Entry] = {}
    for vo in view.outputs():
        if settings.ignored(vo.path):
            continue  # an experiments folder: not an entry of the registry
        out = vo.out
        name, kind = declared.get(vo.path, (None, None))
        kind = kind or settings.kind_of(vo.path)
        files = out.nfiles if out.is_dir else 1
        found[vo.path] = Entry(vo.path, kind, out.size, files, _source(view, vo), name, vo)
    for path, (name, kind) in declared.items():
        if path not in found:
            found[path] = Entry(path, kind or settings.kind_of(path), None, None,
                                "declared in dvc.yaml artifacts:", name, None)  # fmt: skip
    return [found[p] for p in sorted(found)]


def artifacts(view: RepoView) -> dict[str, tuple[str, str | None]]:
    """Path -> (artifact name, "model" or None) of every `artifacts:` entry."""
    from bale.pipeline.metrics import ViewFiles, stage_files

    found: dict[str, tuple[str, str | None]] = {}
    for root in view.roots():
        for sf in stage_files(ViewFiles(view, root)):
            declared = sf.extra.get("artifacts") or {}
            if not isinstance(declared, dict):
                continue
            folder = posixpath.join(root, sf.folder) if root and sf.folder else sf.folder or root
            for name, spec in declared.items():
                if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                    path = posixpath.normpath(posixpath.join(folder, spec["path"]))
                    outside = path == ".." or path.startswith("../")
                    if outside or posixpath.isabs(spec["path"]) or not _under(path, root):
                        continue  # never an entry of this registry
                    # GTO names an artifact of a dvc.yaml below the git top `dir:name`.
                    full = f"{folder}:{name}" if folder else str(name)
                    found[path] = (full, "model" if spec.get("type") == "model" else None)
    return found


def _source(view: RepoView, vo: ViewOut) -> str:
    tracked = vo.tracked
    if tracked.stage is not None:
        return f"stage {tracked.origin}"
    where = posixpath.join(vo.root, tracked.dvcfile) if vo.root else tracked.dvcfile
    try:
        deps: Any = parse_dvcfile(view.tree.read(where).decode("utf-8"), origin=where)
        deps = deps.extra.get("deps") or []
    except (DvcFileError, UnicodeDecodeError, FileNotFoundError):
        deps = []  # outputs() read it already; a dvc.lock has no deps here
    dep = deps[0] if deps and isinstance(deps[0], dict) else {}
    repo = dep.get("repo")
    if isinstance(repo, dict) and repo.get("url"):
        lock = str(repo.get("rev_lock") or "")[:8]
        return f"{repo['url']} {dep.get('path', '')}" + (f" @ {lock}" if lock else "")
    if isinstance(dep.get("path"), str):
        return str(dep["path"])
    return "added with bale add"


def _under(path: str, top: str) -> bool:
    return top == "" or path.startswith(top + "/")
