"""The stages of a workspace: every `dvc.yaml` parsed, its paths made
root-relative and checked, each stage beside what `dvc.lock` recorded of it."""

from __future__ import annotations

import posixpath
from typing import NamedTuple

from bale.errors import DvcFileError
from bale.formats.lockfile import LOCK_FILE, PIPELINE_FILE, LockStage, parse_lockfile
from bale.formats.pipeline import StageDef, StageOut, parse_pipeline
from bale.repo.repository import Repo
from bale.workspace.index import checked_out_path, folder_reader, metadata_problem, read_text


class Param(NamedTuple):
    """One params file a stage reads: as `dvc.lock` names it (relative to the
    stage's wdir), root-relative, and its keys (None: the whole file)."""

    path: str
    rel: str
    keys: tuple[str, ...] | None


class Stage(NamedTuple):
    pipeline: str  # root-relative path of its dvc.yaml
    definition: StageDef
    wdir: str  # root-relative, "" for the root
    deps: tuple[str, ...]  # root-relative, in the order written
    outs: tuple[tuple[str, StageOut], ...]  # (root-relative path, output)
    params: tuple[Param, ...]
    lock: LockStage | None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def address(self) -> str:
        """How dvc names the stage in messages and status: `train` for the
        root's dvc.yaml, `sub/dvc.yaml:train` for others."""
        if self.pipeline == PIPELINE_FILE:
            return self.name
        return f"{self.pipeline}:{self.name}"

    @property
    def lock_path(self) -> str:
        return posixpath.join(posixpath.dirname(self.pipeline), LOCK_FILE)

    def dep_path(self, rel: str) -> str:
        """A root-relative path as the stage names it (relative to its wdir)."""
        return posixpath.relpath(rel, self.wdir or ".")


def _inside(base: str, path: str, *, origin: str, what: str) -> str:
    """`path` (relative to the root-relative folder `base`) made
    root-relative; refused when it leaves the repository."""
    if posixpath.isabs(path) or "\0" in path:
        raise DvcFileError(origin, f"{what} '{path}' is an absolute path; make it relative")
    rel = posixpath.normpath(posixpath.join(base, path))
    if rel == ".." or rel.startswith("../"):
        raise DvcFileError(origin, f"{what} '{path}' leaves the repository; name a path inside it")
    return "" if rel == "." else rel


def load_pipeline_file(repo: Repo, rel: str) -> list[Stage]:
    """The stages of the `dvc.yaml` at `rel` (root-relative), with their lock entries.

    Raises:
        DvcFileError: either file is malformed, or a path leaves the
            repository or is one bale never writes.
    """
    folder = posixpath.dirname(rel)
    text = read_text(repo, rel)
    if text is None:
        raise DvcFileError(rel, "does not exist")
    pipeline = parse_pipeline(text, origin=rel, read=folder_reader(repo, folder))
    lock_rel = posixpath.join(folder, LOCK_FILE)
    lock_text = read_text(repo, lock_rel)
    locks = {}
    if lock_text is not None:
        locks = {s.name: s for s in parse_lockfile(lock_text, origin=lock_rel).stages}
    stages = []
    for definition in pipeline.stages:
        origin = f"{rel}:{definition.name}"
        if definition.line is not None:
            origin = f"{rel}:{definition.line}"
        wdir = _inside(folder, definition.wdir or ".", origin=origin, what="wdir")
        if wdir and metadata_problem(wdir) is not None:
            raise DvcFileError(origin, f"wdir '{definition.wdir}' {metadata_problem(wdir)}")
        deps = tuple(_inside(wdir, d, origin=origin, what="dependency") for d in definition.deps)
        outs = tuple(
            (checked_out_path(wdir, o.path, origin=origin, ignore=repo.ignore), o)
            for o in definition.outs
        )
        params = tuple(
            Param(path, _inside(wdir, path, origin=origin, what="params file"), keys)
            for path, keys in definition.params
        )
        stages.append(Stage(rel, definition, wdir, deps, outs, params, locks.get(definition.name)))
    return stages


def load_stages(repo: Repo, pipelines: list[str]) -> list[Stage]:
    """Every stage of the `dvc.yaml` files `pipelines` (root-relative), file by file."""
    stages: list[Stage] = []
    for rel in pipelines:
        stages += load_pipeline_file(repo, rel)
    return stages
