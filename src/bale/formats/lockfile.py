"""`dvc.lock` (schema 2.0) and the parts of `dvc.yaml` its outputs need.

The lock file records, per stage, the hashes of the dependencies and outputs
of the stage's last run; its paths are relative to the stage's working
folder (`wdir` in `dvc.yaml`, the file's own folder by default). Whether an
output is cached, pushed, or sent to a named remote is said in `dvc.yaml`,
not in the lock: `out_flags` reads that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from bale.errors import DvcFileError
from bale.formats.dvcfile import Out, parse_out
from bale.formats.limits import check_stage_file

LOCK_FILE = "dvc.lock"
PIPELINE_FILE = "dvc.yaml"
SCHEMA = "2.0"
OUT_SECTIONS = ("outs", "metrics", "plots")


class LockStage(NamedTuple):
    """One stage as its last run recorded it."""

    name: str
    deps: tuple[Out, ...]
    outs: tuple[Out, ...]
    extra: Mapping[str, Any] = {}  # cmd, params and unknown keys, kept raw


class LockFile(NamedTuple):
    stages: tuple[LockStage, ...]
    extra: Mapping[str, Any] = {}


class OutFlags(NamedTuple):
    """What `dvc.yaml` says of one output beyond its path."""

    cache: bool = True
    push: bool = True
    remote: str | None = None


def parse_lockfile(text: str, *, origin: str) -> LockFile:
    """Parse `dvc.lock` text; `origin` names the file in errors.

    Raises:
        DvcFileError: not YAML, not schema 2.0, or a stage or entry is malformed.
    """
    data = _load(text, origin)
    if not data:
        return LockFile(())
    if not isinstance(data, dict):
        raise DvcFileError(origin, "expected a mapping with 'schema' and 'stages'")
    if str(data.get("schema")) != SCHEMA:
        raise DvcFileError(
            origin,
            f"lock file schema {data.get('schema')!r} is not '2.0' (written by DVC 1?); "
            "run dvc repro with DVC 2 or later to rewrite it",
        )
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise DvcFileError(origin, "'stages' must be a mapping of stage names")
    parsed = []
    for name, body in stages.items():
        if not isinstance(body, dict):
            raise DvcFileError(origin, f"stage '{name}' must be a mapping")
        where = f"{origin}:{name}"
        entries = {}
        for section in ("deps", "outs"):
            items = body.get(section) or []
            if not isinstance(items, list):
                raise DvcFileError(where, f"'{section}' must be a list")
            entries[section] = tuple(parse_out(item, where, section=section) for item in items)
        extra = {k: v for k, v in body.items() if k not in ("deps", "outs")}
        parsed.append(LockStage(str(name), entries["deps"], entries["outs"], extra))
    return LockFile(tuple(parsed), {k: v for k, v in data.items() if k != "stages"})


def _load(text: str, origin: str) -> Any:
    import yaml

    check_stage_file(origin, len(text))

    from bale.formats.yaml import load_yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise DvcFileError(origin, f"not valid YAML{where}; fix or restore it") from exc


def load_pipeline(text: str, *, origin: str) -> Mapping[str, Any]:
    """The stages of a `dvc.yaml`, raw (interpolation is not resolved here).

    Raises:
        DvcFileError: not YAML, or not a mapping with `stages`.
    """
    data = _load(text, origin) or {}
    if not isinstance(data, dict):
        raise DvcFileError(origin, "expected a mapping with 'stages'")
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise DvcFileError(origin, "'stages' must be a mapping of stage names")
    return stages


def stage_definition(stages: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The `dvc.yaml` body a lock stage came from: the stage itself, or for
    `name@key` (foreach / matrix) the body it was generated from."""
    body = stages.get(name)
    if body is None and "@" in name:
        body = stages.get(name.rpartition("@")[0])
        if isinstance(body, dict) and "do" in body:
            body = body["do"]
    return body if isinstance(body, dict) else None


def stage_wdir(stages: Mapping[str, Any], name: str, *, origin: str) -> str:
    """The working folder of stage `name`, relative to the `dvc.yaml`'s folder.

    Raises:
        DvcFileError: `wdir` is not a string, or uses interpolation, which
            only a pipeline run resolves.
    """
    body = stage_definition(stages, name) or {}
    wdir = body.get("wdir", ".")
    if wdir is None:
        return "."
    if not isinstance(wdir, str) or "${" in wdir:
        raise DvcFileError(
            f"{origin}:{name}",
            f"wdir {wdir!r} cannot be resolved without running the pipeline's interpolation; "
            "write it as a plain path",
        )
    return wdir


def out_flags(stages: Mapping[str, Any], name: str) -> dict[str, OutFlags]:
    """`cache`, `push` and `remote` of each output of stage `name`, by the
    path written in `dvc.yaml`; outputs with default flags are left out.
    Paths that use interpolation match no lock path and so keep the defaults."""
    body = stage_definition(stages, name) or {}
    flags: dict[str, OutFlags] = {}
    for section in OUT_SECTIONS:
        items = body.get(section) or []
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, dict) or len(item) != 1:
                continue
            ((path, props),) = item.items()
            if not isinstance(props, dict):
                continue
            remote = props.get("remote")
            flags[str(path)] = OutFlags(
                cache=props.get("cache", True) is not False,
                push=props.get("push", True) is not False,
                remote=remote if isinstance(remote, str) else None,
            )
    return flags


def lock_entry(out: Out) -> dict[str, Any]:
    """A dependency or output as `dvc.lock` records it, in DVC's key order
    (`path`, `hash`, `md5`, `size`, `nfiles`, `isexec`: not a `.dvc` file's)."""
    entry: dict[str, Any] = {"path": out.path}
    if not out.legacy:
        entry["hash"] = out.hash_name
    entry["md5"] = out.oid
    if out.size is not None:
        entry["size"] = out.size
    if out.nfiles is not None:
        entry["nfiles"] = out.nfiles
    if out.isexec:
        entry["isexec"] = True
    return entry


def lock_stage(
    cmd: str | list[str],
    deps: list[Out],
    params: Mapping[str, Mapping[str, Any]],
    outs: list[Out],
) -> dict[str, Any]:
    """One stage's `dvc.lock` body: `cmd`, then deps, params and outs when
    there are any; entries sorted by path, params as given (the caller
    orders files and keys as DVC does)."""
    body: dict[str, Any] = {"cmd": cmd}
    if deps:
        body["deps"] = [lock_entry(d) for d in sorted(deps, key=lambda o: o.path)]
    if params:
        body["params"] = {name: dict(values) for name, values in params.items()}
    if outs:
        body["outs"] = [lock_entry(o) for o in sorted(outs, key=lambda o: o.path)]
    return body


def dump_lockfile(previous: str | None, updates: Mapping[str, Mapping[str, Any]]) -> str:
    """The lock file text with the stages in `updates` replaced or added at
    the end, the others kept as they were, as DVC updates it."""
    from bale.formats.yaml import dump_yaml, load_yaml

    data: dict[str, Any] = {}
    if previous:
        loaded = load_yaml(previous)
        if isinstance(loaded, dict):
            data = loaded
    data.setdefault("schema", SCHEMA)
    stages = data.get("stages")
    if not isinstance(stages, dict):
        stages = data["stages"] = {}
    stages.update(updates)
    return dump_yaml(data)
