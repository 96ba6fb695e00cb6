"""Whether a stage is up to date: its dependencies, parameters, command and
outputs now against what `dvc.lock` recorded of its last run, in DVC's words."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from bale.errors import DvcFileError, PipelineError
from bale.formats.dvcfile import LEGACY_HASH, MD5, Out
from bale.formats.params import flat_values, parse_params
from bale.pipeline.stages import Param, Stage
from bale.workspace.context import Workspace
from bale.workspace.index import Tracked
from bale.workspace.status import output_status


class StageChanges(NamedTuple):
    """What differs, keyed as `dvc status --json` keys it: `deps` maps a
    dependency (as the stage names it) to modified/deleted, or a params file
    to {key: modified/new/deleted} or to new/deleted; `outs` maps outputs."""

    deps: dict[str, Any]
    outs: dict[str, str]
    command: bool
    always: bool

    def __bool__(self) -> bool:
        return bool(self.deps or self.outs or self.command or self.always)


def lock_entries(stage: Stage, section: str) -> dict[str, Out]:
    """The lock's deps or outs of `stage`, by path as the stage names them."""
    if stage.lock is None:
        return {}
    return {o.path: o for o in getattr(stage.lock, section)}


def recorded_outs(stage: Stage) -> list[Tracked]:
    """The stage's outputs with what the lock recorded (no hash when it
    recorded none) and the flags `dvc.yaml` gives them."""
    recorded = lock_entries(stage, "outs")
    found = []
    for index, (rel, out) in enumerate(stage.outs):
        base = recorded.get(out.path, Out(out.path))
        base = base._replace(cache=out.cache, push=out.push, remote=out.remote)
        found.append(Tracked(stage.lock_path, base, index, rel, stage.name))
    return found


def read_params(ws: Workspace, param: Param) -> dict[str, Any] | None:
    """The values `dvc.lock` would record for `param`; None if its file is missing.

    Raises:
        PipelineError: a key the stage names is not in the file.
        DvcFileError: the file is malformed.
    """
    path = ws.repo.abs(param.rel)
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DvcFileError(param.rel, "not a text file; fix the params file") from exc
    values = flat_values(parse_params(text, param.rel), param.keys)
    missing = [key for key in param.keys or () if key not in values]
    if missing:
        raise PipelineError(
            f"{param.rel}: no parameter '{missing[0]}'; add it to the file or remove it "
            "from the stage's params"
        )
    return values


def _dep_changed(ws: Workspace, rel: str, recorded: Out | None) -> str | None:
    legacy = recorded is not None and recorded.hash_name == LEGACY_HASH
    current = ws.current(rel, legacy=legacy)
    if current is None:
        return "deleted"
    if recorded is None or recorded.oid != current.oid:
        return "modified"
    return None


def _params_changed(ws: Workspace, stage: Stage) -> dict[str, Any]:
    recorded: dict[str, Any] = {}
    if stage.lock is not None:
        recorded = stage.lock.extra.get("params") or {}
    found: dict[str, Any] = {}
    for param in stage.params:
        before = recorded.get(param.path)
        try:
            now = read_params(ws, param)
        except PipelineError:
            now = {}  # a named key went missing: "deleted" below, the run says more
        if now is None:
            found[param.path] = "deleted"
            continue
        if not isinstance(before, dict):
            found[param.path] = "new"
            continue
        keys = {}
        for key in dict.fromkeys([*before, *now]):
            if key not in now:
                keys[key] = "deleted"
            elif key not in before:
                keys[key] = "new"
            elif now[key] != before[key]:
                keys[key] = "modified"
        if keys:
            found[param.path] = keys
    return found


def stage_changes(ws: Workspace, stage: Stage) -> StageChanges:
    """What differs between the workspace and the stage's last run. A
    frozen stage's dependencies are not looked at, as in dvc."""
    deps: dict[str, Any] = {}
    definition = stage.definition
    if not definition.frozen:
        recorded = lock_entries(stage, "deps")
        for rel, written in zip(stage.deps, definition.deps, strict=True):
            state = _dep_changed(ws, rel, recorded.get(written))
            if state is not None:
                deps[written] = state
        deps.update(_params_changed(ws, stage))
    outs = {}
    for tracked in recorded_outs(stage):
        if tracked.out.oid is None:
            state = "modified" if os.path.lexists(ws.repo.abs(tracked.rel)) else "deleted"
        else:
            state = output_status(ws, tracked)
        if state is not None:
            outs[tracked.out.path] = state
    command = stage.lock is not None and stage.lock.extra.get("cmd") != definition.cmd
    return StageChanges(deps, outs, command, definition.always_changed)


def hashed_dep(ws: Workspace, rel: str, written: str) -> Out:
    """A dependency as the lock records it, hashed now.

    Raises:
        PipelineError: it does not exist.
    """
    current = ws.current(rel)
    if current is None:
        raise PipelineError(
            f"dependency '{written}' does not exist; create it, or add the stage that writes it"
        )
    return Out(written, current.oid, MD5, current.size, current.nfiles, current.isexec)
