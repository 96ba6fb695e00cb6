"""DVC's run cache: each successful run of a stage, kept so that a later run
with the same command, dependencies and params is checked out of the cache
instead of run again, by bale or by dvc (`dvc/stage/cache.py`).

Layout, checked with dvc 3.67: `<cache>/runs/<key[:2]>/<key>/<value>`, in the
cache's root (beside `files/md5`), and the same under a remote's URL. The
file is the stage's `dvc.lock` body (`cmd`, `deps`, `params`, `outs`) as
YAML. `value` is the sha256 of that body as JSON with sorted keys and every
`size` and `nfiles` key dropped, at any depth (params named so too: dvc's
`dict_filter`); `key` is the same of the body with `outs` reduced to their
paths. One key holds one value per distinct result of the same inputs; the
newest file (by mtime) is the one restored.

An entry may come from a remote, written by anyone: it is used only when its
content hashes to both its names (so its command, dependencies, params and
output paths are the stage's own) and its outputs map onto the stage's
outputs, whose paths were checked when `dvc.yaml` was loaded. Anything else
is ignored with a warning, never written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from bale.errors import DvcFileError, ManifestError, ObjectCorruptError, ObjectMissingError
from bale.formats.dvcfile import Out, parse_out
from bale.formats.lockfile import lock_stage
from bale.fsutil import atomic_write
from bale.pipeline.stages import Stage
from bale.workspace.context import Workspace
from bale.workspace.index import Tracked, checked_out_path

RUNS_DIR = "runs"
_EXCLUDED = frozenset({"size", "nfiles"})  # dvc-data's Meta.PARAM_SIZE, PARAM_NFILES
_KEYS = ("cmd", "deps", "params", "outs")  # dvc's LOCK_FILE_STAGE_SCHEMA
_NAME = re.compile(r"^[0-9a-f]{64}$")

Warn = Callable[[str], None]


def _ignore(message: str) -> None:
    pass


class RunEntry(NamedTuple):
    """One saved run, its content checked against its names."""

    key: str
    value: str
    cmd: str | list[str]
    deps: tuple[Out, ...]
    params: Mapping[str, Mapping[str, Any]]
    outs: tuple[Out, ...]


def _filtered(data: Any) -> Any:
    if isinstance(data, list):
        return [_filtered(item) for item in data]
    if isinstance(data, dict):
        return {k: _filtered(v) for k, v in data.items() if k not in _EXCLUDED}
    return data


def _sha256(data: Any) -> str:
    """dvc's `dict_sha256(data, exclude=[size, nfiles])`.

    Raises:
        TypeError, ValueError: a value JSON cannot hold.
    """
    text = json.dumps(_filtered(data), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_value(body: Mapping[str, Any]) -> str:
    """The file name of the run whose lock body is `body`."""
    return _sha256(dict(body))


def entry_key(body: Mapping[str, Any]) -> str:
    """The folder name of the runs with `body`'s command, dependencies,
    params and output paths."""
    keyed = dict(body)
    keyed["outs"] = [out["path"] for out in body.get("outs", [])]
    return _sha256(keyed)


def entry_relpath(key: str, value: str) -> str:
    """`runs/ab/abcd…/ef01…`, posix, under the cache's root or a remote's URL."""
    return f"{RUNS_DIR}/{key[:2]}/{key}/{value}"


def parse_relpath(rel: str) -> tuple[str, str] | None:
    """(key, value) of a run entry named `XX/key/value` (relative to `runs/`),
    or None for any other name (a temporary file, anything unexpected)."""
    parts = rel.split("/")
    if len(parts) != 3:
        return None
    prefix, key, value = parts
    if not (_NAME.match(key) and _NAME.match(value) and prefix == key[:2]):
        return None
    return key, value


def runs_root(ws: Workspace) -> str:
    return os.path.join(ws.store.root, RUNS_DIR)


def entry_path(ws: Workspace, key: str, value: str) -> str:
    """Where the run lives in the cache; `key` and `value` must be names
    `parse_relpath` accepted (hex only: nothing outside `runs/`)."""
    assert _NAME.match(key) and _NAME.match(value), (key, value)
    return os.path.join(runs_root(ws), key[:2], key, value)


def local_entries(ws: Workspace) -> list[tuple[str, str]]:
    """(key, value) of every run the cache holds, by name."""
    found = []
    root = runs_root(ws)
    for dirpath, _dirnames, filenames in os.walk(root):
        folder = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for name in filenames:
            parsed = parse_relpath(f"{folder}/{name}")
            if parsed is not None:
                found.append(parsed)
    return sorted(found)


def parse_entry(text: str, *, key: str, value: str, origin: str) -> RunEntry:
    """A run entry's text, checked as dvc's lock stage schema checks it and
    against its names.

    Raises:
        DvcFileError: it is malformed, or its content does not hash to its names.
    """
    import yaml

    from bale.formats.yaml import load_yaml

    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise DvcFileError(origin, f"run cache entry is not valid YAML{where}") from exc
    if not isinstance(data, dict):
        raise DvcFileError(origin, "run cache entry is not a mapping")
    unknown = [str(k) for k in data if k not in _KEYS]
    if unknown:
        raise DvcFileError(origin, f"run cache entry has unknown key '{unknown[0]}'")
    cmd = data.get("cmd")
    listed = isinstance(cmd, list) and all(isinstance(c, str) for c in cmd)
    if not (isinstance(cmd, str) or listed):
        raise DvcFileError(origin, "run cache entry has no 'cmd' string or list")
    entries: dict[str, tuple[Out, ...]] = {}
    for section in ("deps", "outs"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise DvcFileError(origin, f"run cache entry's '{section}' is not a list")
        entries[section] = tuple(parse_out(item, origin, section=section) for item in items)
    params = data.get("params") or {}
    if not isinstance(params, dict) or not all(
        isinstance(f, str) and isinstance(v, dict) and all(isinstance(k, str) for k in v)
        for f, v in params.items()
    ):
        raise DvcFileError(origin, "run cache entry's 'params' is not a mapping of files to keys")
    if not entries["outs"] or any(o.oid is None for o in entries["outs"]):
        raise DvcFileError(origin, "run cache entry has an output without a hash")
    try:
        names = entry_key(data), entry_value(data)
    except (TypeError, ValueError) as exc:
        raise DvcFileError(origin, "run cache entry holds values JSON cannot hold") from exc
    if names != (key, value):
        raise DvcFileError(
            origin, "run cache entry's content does not match its name (corrupt or edited)"
        )
    return RunEntry(key, value, cmd, entries["deps"], params, entries["outs"])


def read_entry(ws: Workspace, key: str, value: str) -> RunEntry:
    """The run `key`/`value` of the cache.

    Raises:
        FileNotFoundError: there is no such run.
        DvcFileError: it cannot be read or is malformed (`parse_entry`).
    """
    path = entry_path(ws, key, value)
    origin = os.path.relpath(path)
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        raise
    except (UnicodeDecodeError, OSError) as exc:
        raise DvcFileError(origin, "run cache entry cannot be read as text") from exc
    return parse_entry(text, key=key, value=value, origin=origin)


def hashable(stage: Stage, params: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether dvc keeps runs of the stage (`_can_hash`): a command,
    dependencies (files or params, each with a value) and outputs, none of
    them persistent, and not `always_changed`."""
    definition = stage.definition
    if definition.always_changed or not definition.cmd or not stage.outs:
        return False
    if not stage.deps and not stage.params:
        return False  # a callback stage: it runs every time
    if any(not values for values in params.values()):
        return False  # a params file with nothing in it hashes to nothing
    return not any(out.persist for _, out in stage.outs)


def saves(stage: Stage, params: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a run of the stage is saved (`Stage.run`): it is `hashable`
    and every uncached output is a metric or a plot. Those are stored in
    the cache with the run, as dvc stores them, so the run can be restored."""
    if not hashable(stage, params):
        return False
    return all(out.cache or out.section != "outs" for _, out in stage.outs)


def save(ws: Workspace, stage: Stage, body: Mapping[str, Any]) -> bool:
    """Keep the run whose lock body is `body` (its outputs are in the cache);
    False when the stage's runs are not kept, or this one already was.

    An entry is written only if it reads back to its names, so bale never
    leaves one it would itself refuse.
    """
    if not saves(stage, body.get("params") or {}):
        return False
    from bale.formats.yaml import dump_yaml

    try:
        key, value = entry_key(body), entry_value(body)
    except (TypeError, ValueError):
        return False  # a params value JSON cannot hold: dvc keeps no run either
    path = entry_path(ws, key, value)
    if os.path.exists(path):
        return False
    text = dump_yaml(dict(body))
    try:
        parse_entry(text, key=key, value=value, origin=path)
    except DvcFileError:
        return False  # a value YAML does not give back as it was
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write(path, text.encode("utf-8"), tmp=ws.store.tmp_path("run"))
    return True


def _key_of(
    cmd: Any, deps: list[Out], params: Mapping[str, Any], out_paths: list[str]
) -> str | None:
    try:
        body = lock_stage(cmd, deps, params, [])
        body["outs"] = [{"path": path} for path in sorted(out_paths)]
        return entry_key(body)
    except (TypeError, ValueError, AttributeError):
        return None


def _from_lock(stage: Stage, key: str) -> tuple[Out, ...] | None:
    """The lock's outputs when its run is the one asked for (same command,
    dependencies, params and output paths): only the outputs changed, and
    dvc checks them out of the cache even with --no-run-cache."""
    lock = stage.lock
    if lock is None or not lock.outs or any(o.oid is None for o in lock.outs):
        return None
    recorded = _key_of(
        lock.extra.get("cmd"), list(lock.deps), lock.extra.get("params") or {},
        [o.path for o in lock.outs],
    )  # fmt: skip
    return lock.outs if recorded == key else None


def _newest(ws: Workspace, key: str, warn: Warn) -> RunEntry | None:
    """The newest valid run under `key`; invalid ones are warned of and skipped."""
    folder = os.path.join(runs_root(ws), key[:2], key)
    try:
        names = [n for n in os.listdir(folder) if _NAME.match(n)]
    except (FileNotFoundError, NotADirectoryError):
        return None
    dated = []
    for name in names:
        try:
            dated.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
        except FileNotFoundError:
            continue
    for _mtime, name in sorted(dated, reverse=True):
        try:
            return read_entry(ws, key, name)
        except FileNotFoundError:
            continue
        except DvcFileError as err:
            warn(f"{err}; ignored it")
    return None


def _checkout(ws: Workspace, stage: Stage, outs: tuple[Out, ...], warn: Warn) -> bool:
    """Place the run's outputs at the stage's output paths, when the cache
    holds all of them; False (and a warning if something was wrong) when not."""
    from bale.workspace.checkout import place_output

    by_path = {o.path: o for o in outs}
    if len(by_path) != len(outs) or set(by_path) != {o.path for _, o in stage.outs}:
        return False
    picked = []
    for index, (rel, written) in enumerate(stage.outs):
        # The key already ties the paths to the stage's; checked again all the same.
        checked_out_path(stage.wdir, written.path, origin=stage.address, ignore=None)
        out = by_path[written.path]._replace(cache=True, push=True, remote=None)
        picked.append(Tracked(stage.lock_path, out, index, rel, stage.name))
    try:
        if not all(ws.in_cache(t.out) for t in picked):
            return False
        for tracked in picked:
            place_output(ws, tracked)
    except (ObjectMissingError, ObjectCorruptError, ManifestError) as err:
        warn(f"stage '{stage.address}': the run cache's outputs could not be checked out ({err}); "
             "running the command")  # fmt: skip
        return False
    return True


def restore(
    ws: Workspace,
    stage: Stage,
    deps: list[Out],
    params: Mapping[str, Mapping[str, Any]],
    *,
    run_cache: bool = True,
    warn: Warn = _ignore,
) -> dict[str, Any] | None:
    """Check out a saved run of the stage with these dependencies and params
    (hashed now) instead of running it; the lock body to write, or None to
    run the command.

    The run recorded in `dvc.lock` comes first (dvc's order); then, with
    `run_cache`, the newest saved run. Its outputs must all be in the cache.
    A failed checkout may leave some outputs placed: the caller removes them.

    Raises:
        CheckoutError, UnsafePathError: see `place_output`.
    """
    if not hashable(stage, params):
        return None
    cmd = stage.definition.cmd
    key = _key_of(cmd, deps, params, [o.path for _, o in stage.outs])
    if key is None:
        return None
    outs = _from_lock(stage, key)
    if outs is None:
        if not run_cache:
            return None
        entry = _newest(ws, key, warn)
        if entry is None:
            return None
        outs = entry.outs
    if not _checkout(ws, stage, outs, warn):
        return None
    return lock_stage(cmd, deps, params, list(outs))
