"""`dvc.yaml`: its stages, resolved as DVC resolves them (`dvc/parsing/`).

`parse_pipeline` checks the file against DVC's `MULTI_STAGE_SCHEMA`, loads
`params.yaml` and the `vars` into one set of variables, expands `foreach` and
`matrix` stages, and substitutes `${}` expressions. Paths stay as written,
relative to each stage's `wdir`; callers check them against the repository.
Files (`params.yaml`, vars files) are read through a callback, so a working
tree and a git tree at a revision read alike.

Values of `params.yaml` used in `${}` are not params of the stage: DVC
records them in `dvc.lock` only when `params:` lists them (checked with
dvc 3.67: `cmd: echo ${lr}` alone gives no `params` in the lock).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Mapping
from itertools import product
from typing import Any, NamedTuple

import yaml

from bale.errors import DvcFileError
from bale.formats.params import compose_yaml, construct_yaml, parse_params, where

JOIN = "@"
DEFAULT_PARAMS = "params.yaml"
# A matrix is the product of its lists: a few short ones make millions of stages.
MAX_MEMBERS = 10_000
_TOP_KEYS = ("stages", "vars", "params", "metrics", "plots", "artifacts", "datasets")
_EXTRA_KEYS = ("params", "metrics", "plots", "artifacts", "datasets")
_OUT_FLAGS: dict[str, type] = {
    "cache": bool, "persist": bool, "checkpoint": bool, "remote": str, "push": bool,
    "desc": str, "type": str, "labels": list, "meta": object,
}  # fmt: skip
_PLOT_FLAGS = {
    **_OUT_FLAGS, "template": str, "x": str, "y": str, "x_label": str, "y_label": str,
    "title": str, "header": bool,
}  # fmt: skip
_SCALARS = (int, float, str, bytes, bool)
# `${name}`, not preceded by a backslash (DVC's KEYCRE).
_EXPR = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
# DVC's expression grammar: word ("." word | "[" word "]")*, a word free of ".[]".
_SYNTAX = re.compile(r"[^.\[\]]+(?:\.[^.\[\]]+|\[[^.\[\]]+\])*")


class StageOut(NamedTuple):
    """One output of a stage; `path` is relative to the stage's `wdir`."""

    path: str
    section: str = "outs"  # "outs" | "metrics" | "plots"
    cache: bool = True
    persist: bool = False
    push: bool = True
    remote: str | None = None


class StageDef(NamedTuple):
    """One stage as DVC loads it, every `${}` substituted."""

    name: str
    cmd: str | list[str]
    wdir: str  # relative to the dvc.yaml's folder, normalised posix, "." by default
    deps: tuple[str, ...]
    # (file relative to wdir, keys or None for the whole file); params.yaml
    # first, then by file name, as `dvc.lock` lists them; keys as written.
    params: tuple[tuple[str, tuple[str, ...] | None], ...]
    outs: tuple[StageOut, ...]  # outs, then metrics, then plots, as DVC loads them
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    meta: Any = None
    line: int | None = None  # 1-based line of the stage's key in dvc.yaml


class Pipeline(NamedTuple):
    """A whole `dvc.yaml`: its stages and its other top-level keys, raw."""

    stages: tuple[StageDef, ...]
    extra: Mapping[str, Any]


class _Problem(Exception):
    """A problem in a value; the caller says where it is."""


def parse_pipeline(text: str, *, origin: str, read: Callable[[str], str | None]) -> Pipeline:
    """Read a `dvc.yaml`, resolved as DVC resolves it.

    `origin` is the file's repo-relative path (for errors); `read(relpath)`
    returns the text of a file relative to the dvc.yaml's folder, or None when
    it does not exist. Every stage is resolved, so a bad one fails the whole
    file, as it fails DVC's index.

    Raises:
        DvcFileError: the file, its `params.yaml` or a vars file is malformed,
            a `${}` names an undefined variable, or two stages share a name.
    """
    root = compose_yaml(text, origin, cycles=False)  # interpolation walks every value
    data = construct_yaml(root, origin)
    if data is None:
        return Pipeline((), {})
    if not isinstance(data, dict):
        raise DvcFileError(origin, "expected a mapping with 'stages' at the top; fix the file")
    top = _entries(root)
    for key, value in data.items():
        if key not in _TOP_KEYS:
            raise DvcFileError(
                _at(origin, top, key),
                f"unknown top-level key '{key}'; use one of {', '.join(_TOP_KEYS)}",
            )
        problem = _check_top(key, value)
        if problem:
            raise DvcFileError(_at(origin, top, key, value=True), f"'{key}': {problem}")

    files = _Files(origin, read)
    context = _Context({}, {}, frozenset())
    context.load(DEFAULT_PARAMS, ".", files, source=DEFAULT_PARAMS, optional=True)
    _load_vars(context, data.get("vars", []), ".", files, _Where(origin, None, top), None)

    stages_node = top.get("stages", (None, None))[1]
    stage_nodes = _entries(stages_node)
    stages: dict[str, StageDef] = {}
    for name, definition in data.get("stages", {}).items():
        key_node, value_node = stage_nodes.get(str(name), (None, None))
        at = _Where(origin, key_node, _entries(value_node))
        for stage in _expand(name, definition, context, files, at):
            if stage.name in stages:
                raise DvcFileError(
                    at.stage(),
                    f"stage name '{stage.name}' is used twice (a foreach or matrix member "
                    "collides with another stage); rename one",
                )
            stages[stage.name] = stage
    extra = {key: data[key] for key in _EXTRA_KEYS if key in data}
    return Pipeline(tuple(stages.values()), extra)


# -- where things are -------------------------------------------------------


def _entries(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """Key text -> (key node, value node) of a mapping node; {} for anything else."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _at(origin: str, entries: Mapping[str, tuple], key: Any, *, value: bool = False) -> str:
    pair = entries.get(str(key))
    return where(origin, pair[value].start_mark) if pair else origin


class _Where:
    """Positions inside one stage definition, for errors."""

    def __init__(self, origin: str, key_node: yaml.Node | None, fields: dict) -> None:
        self.origin = origin
        self.key_node = key_node
        self.fields = fields

    @property
    def line(self) -> int | None:
        return self.key_node.start_mark.line + 1 if self.key_node is not None else None

    def stage(self) -> str:
        return where(self.origin, None if self.key_node is None else self.key_node.start_mark)

    def key(self, field: str) -> str:
        return _at(self.origin, self.fields, field) if field in self.fields else self.stage()

    def value(self, field: str, index: int | None = None) -> str:
        pair = self.fields.get(field)
        if pair is None:
            return self.stage()
        node = pair[1]
        if index is not None and isinstance(node, yaml.SequenceNode) and index < len(node.value):
            node = node.value[index]
        return where(self.origin, node.start_mark)

    def inside(self, field: str) -> _Where:
        """The positions inside a field's mapping (`do` of a foreach stage)."""
        pair = self.fields.get(field)
        return _Where(self.origin, self.key_node, _entries(pair[1]) if pair else {})


# -- the schema, before interpolation ----------------------------------------


def _check_top(key: str, value: Any) -> str | None:
    if key == "stages" and not isinstance(value, dict):
        return "must be a mapping of stage names to stages"
    if key in ("params", "metrics") and not _is_list_of(value, str):
        return "must be a list of file names"
    if key in ("vars", "plots") and not _is_list_of(value, (str, dict)):
        return "must be a list of file names or mappings"
    if key == "artifacts" and not (
        isinstance(value, dict)
        and all(isinstance(a, dict) and isinstance(a.get("path"), str) for a in value.values())
    ):
        return "must map each artifact name to a mapping with a 'path'"
    return None


def _is_list_of(value: Any, types: type | tuple[type, ...]) -> bool:
    return isinstance(value, list) and all(isinstance(v, types) for v in value)


def _check_stage(definition: Any, at: _Where, name: str, *, in_do: bool = False) -> None:
    """DVC's `STAGE_DEFINITION`: known keys, `cmd` present, each value of its type."""
    if not isinstance(definition, dict):
        raise DvcFileError(at.stage(), f"stage '{name}' must be a mapping with a 'cmd'; fix it")
    for field, value in definition.items():
        if field in ("outs", "metrics", "plots"):
            problem = _outs_problem(field, value)
        elif field in _FIELDS and not (in_do and field == "matrix"):
            accepts, kind = _FIELDS[field]
            problem = None if accepts(value) else f"'{field}' must be {kind}"
        else:
            raise DvcFileError(
                at.key(field),
                f"stage '{name}': unknown key '{field}'; use cmd, wdir, deps, params, outs, "
                "metrics, plots, frozen, always_changed, desc, meta, vars or matrix"
                + (" (not a matrix inside foreach's 'do')" if field == "matrix" else ""),
            )
        if problem:
            raise DvcFileError(at.value(field), f"stage '{name}': {problem}")
    if "cmd" not in definition:
        raise DvcFileError(at.stage(), f"stage '{name}' has no 'cmd'; add the command to run")


# Each stage key but outs, metrics and plots: what DVC's schema accepts, in words.
_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "cmd": (lambda v: isinstance(v, str | list), "a string or a list of strings"),
    "wdir": (lambda v: isinstance(v, str), "a string"),
    "desc": (lambda v: isinstance(v, str), "a string"),
    "deps": (lambda v: _is_list_of(v, str), "a list of paths"),
    "params": (
        lambda v: _is_list_of(v, (str, dict)),
        "a list of params.yaml keys or {file: [keys]} mappings",
    ),
    "vars": (lambda v: _is_list_of(v, (str, dict)), "a list of file names or mappings"),
    "frozen": (lambda v: isinstance(v, bool), "true or false"),
    "always_changed": (lambda v: isinstance(v, bool), "true or false"),
    "meta": (lambda v: True, "anything"),
    "matrix": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str | list) for x in v.values()),
        "a mapping of names to lists or '${...}'",
    ),
}


def _outs_problem(field: str, value: Any) -> str | None:
    flags_schema = _PLOT_FLAGS if field == "plots" else _OUT_FLAGS
    if not isinstance(value, list):
        return f"'{field}' must be a list of paths or {{path: {{flags}}}} mappings"
    for entry in value:
        if isinstance(entry, str):
            continue
        if not isinstance(entry, dict):
            return f"each '{field}' entry must be a path or {{path: {{flags}}}}"
        for path, flags in entry.items():
            if not isinstance(path, str) or not isinstance(flags, dict):
                return f"'{field}' entry '{path}' must map a path to a mapping of flags"
            for flag, flag_value in flags.items():
                kind = flags_schema.get(flag)
                if kind is None:
                    return f"'{field}' entry '{path}': unknown flag '{flag}'"
                if not isinstance(flag_value, kind):
                    return f"'{field}' entry '{path}': '{flag}' must be a {kind.__name__}"
    return None


# -- variables ----------------------------------------------------------------


class _Files:
    """Reads params and vars files relative to the dvc.yaml's folder."""

    def __init__(self, origin: str, read: Callable[[str], str | None]) -> None:
        self.folder = posixpath.dirname(origin)
        self.read = read
        self.cache: dict[str, dict[str, Any] | None] = {}

    def load(self, path: str) -> dict[str, Any] | None:
        """A file's data, None when it does not exist; each file is read once
        (every member of a foreach loads its stage's vars files again)."""
        if path not in self.cache:
            text = self.read(path)
            self.cache[path] = None if text is None else parse_params(text, self.name(path))
        return self.cache[path]

    def name(self, path: str) -> str:
        """A path relative to the dvc.yaml's folder, named from the repository root."""
        return posixpath.normpath(posixpath.join(self.folder, path))


class _Context:
    """The variables `${}` reads: params.yaml, then vars, merged (DVC's Context).

    Merging never overwrites a value (DVC refuses that) and never changes a
    mapping in place, so a stage's own vars do not leak into other stages.
    """

    def __init__(self, data: dict, imports: dict, reserved: frozenset[str]) -> None:
        self.data = data
        self.imports = imports  # file -> None (loaded whole) or the keys loaded
        self.reserved = reserved

    def with_items(self, items: dict[str, Any]) -> _Context:
        """A copy with `item` (and `key`) set, which a stage's vars may not redefine."""
        return _Context({**self.data, **items}, self.imports, frozenset(items))

    def merge(self, update: Mapping[str, Any], source: str) -> None:
        clash = self.reserved.intersection(update)
        if clash:
            raise _Problem(f"'{source}' defines '{min(clash)}', which foreach and matrix set")
        self.data = _merged(self.data, update, source, "")

    def load(
        self, item: str, wdir: str, files: _Files, *, source: str, optional: bool = False
    ) -> None:
        """Merge a vars file entry: `path` or `path:key1,key2`, relative to `wdir`;
        an `optional` file (params.yaml) that does not exist is skipped."""
        name, _, keys_text = item.partition(":")
        path = posixpath.normpath(posixpath.join(wdir, name))
        keys = [k for k in keys_text.split(",") if k] or None
        if path in self.imports:
            loaded = self.imports[path]
            if keys is None and loaded is None:
                return  # the same whole file twice is allowed
            if keys is None or loaded is None or set(keys) & set(loaded):
                raise _Problem(
                    f"'{item}' loads what is loaded already from '{files.name(path)}'; "
                    "load the whole file once, or distinct keys of it"
                )
        data = files.load(path)
        if data is None:
            if optional:
                return
            raise _Problem(
                f"vars file '{files.name(path)}' does not exist; create it or fix the path"
            )
        if keys is not None:
            missing = [k for k in keys if k not in data]
            if missing:
                raise _Problem(
                    f"'{files.name(path)}' has no key '{missing[0]}'; fix the vars entry"
                )
            data = {k: data[k] for k in keys}
        self.merge(data, source)
        self.imports = {
            **self.imports,
            path: None if keys is None else [*(self.imports.get(path) or ()), *keys],
        }


def _merged(into: dict, update: Mapping, source: str, prefix: str) -> dict:
    out = dict(into)
    for key, value in update.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merged(out[key], value, source, f"{prefix}{key}.")
        elif key in out:
            raise _Problem(
                f"'{prefix}{key}' from '{source}' is defined already (by params.yaml or "
                "an earlier vars entry); rename one of them"
            )
        else:
            out[key] = value
    return out


def _load_vars(
    context: _Context, items: list, wdir: str, files: _Files, at: _Where, stage: str | None
) -> None:
    """Merge `vars` entries in order; DVC does not interpolate inside them."""
    for index, item in enumerate(items):
        try:
            if _has_interpolation(item):
                raise _Problem("'${' is not allowed in vars; write the value itself")
            if isinstance(item, str):
                context.load(item, wdir, files, source=item)
            else:
                context.merge(item, f"{stage}.vars[{index}]" if stage else f"vars[{index}]")
        except _Problem as e:
            prefix = f"stage '{stage}': vars: " if stage else "vars: "
            raise DvcFileError(at.value("vars", index), prefix + str(e)) from None


def _has_interpolation(value: Any) -> bool:
    if isinstance(value, str):
        return _EXPR.search(value) is not None
    if isinstance(value, dict):
        return any(_has_interpolation(k) or _has_interpolation(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_interpolation, value))
    return False


# -- interpolation --------------------------------------------------------------


def _resolve(value: Any, variables: Mapping[str, Any], field: str | None) -> Any:
    """Substitute every `${}` in a value, its mapping keys included (DVC's `recurse`)."""
    if isinstance(value, str):
        return _resolve_str(value, variables, field) if "${" in value else value
    if isinstance(value, dict):
        return {
            _resolve(k, variables, field): _resolve(v, variables, field) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(v, variables, field) for v in value]
    return value


def _resolve_str(text: str, variables: Mapping[str, Any], field: str | None) -> Any:
    """A string that is one whole `${x}` becomes x's value, of its type; any
    other string gets each value written in, and `\\${` unescaped."""
    matches = list(_EXPR.finditer(text))
    if len(matches) == 1 and matches[0].group(0) == text:
        value = _lookup(variables, matches[0]["inner"])
        _check_scalar(value, field, text)
        return value
    parts, end = [], 0
    for match in matches:
        value = _lookup(variables, match["inner"])
        _check_scalar(value, field, match.group(0))
        parts += (text[end : match.start()], _to_str(value))
        end = match.end()
    parts.append(text[end:])
    return "".join(parts).replace("\\${", "${")


def _lookup(variables: Mapping[str, Any], expr: str) -> Any:
    if not _SYNTAX.fullmatch(expr):
        raise _Problem(
            f"'${{{expr}}}' is not a valid expression; write ${{name}}, ${{a.b}} or ${{a.list[0]}}"
        )
    value: Any = variables
    done: list[str] = []
    for part in expr.replace("[", ".").replace("]", "").split("."):
        part = part.strip()
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and _index(part, len(value)) is not None:
            value = value[int(part)]
        elif not done:
            raise _Problem(
                f"interpolation '${{{expr}}}': '{part}' is not defined in vars or params.yaml; "
                "define it or fix the name"
            )
        else:
            raise _Problem(
                f"interpolation '${{{expr}}}': '{'.'.join(done)}' has no '{part}'; fix the name"
            )
        done.append(part)
    return value


def _index(part: str, length: int) -> int | None:
    """A list index as DVC takes it (`int()`, so `-1` counts from the end)."""
    try:
        index = int(part)
    except ValueError:
        return None
    return index if -length <= index < length else None


def _check_scalar(value: Any, field: str | None, text: str) -> None:
    """Lists and mappings cannot be written into a field (DVC's `validate_value`),
    except a mapping in `cmd`; foreach and matrix data (field None) can be anything."""
    if field is None or value is None or isinstance(value, _SCALARS):
        return
    if isinstance(value, dict) and field == "cmd":
        return
    kind = "mapping" if isinstance(value, dict) else type(value).__name__
    raise _Problem(f"'{text}' is a {kind}, which cannot be written into '{field}'; name one value")


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _cmd_flags(value)
    return str(value)


def _cmd_flags(mapping: dict) -> str:
    """A mapping in `cmd` as `--key value` flags, with DVC's default
    `parsing.bool: store_true` and `parsing.list: nargs`."""
    flags: list[str] = []
    for key, value in _flatten(mapping, "", set()):
        if isinstance(value, bool):
            if value:
                flags.append(f"--{key}")
        elif isinstance(value, str):
            flags.append(f"--{key} {shlex.quote(value)}")
        elif isinstance(value, list):
            for n, element in enumerate(value):
                if isinstance(element, str):
                    element = shlex.quote(element)
                elif isinstance(element, list | dict | bytes):
                    raise _Problem(f"cannot write the nested list in '{key}' as flags; flatten it")
                flags.append(f"--{key} {element}" if n == 0 else f"{element}")
        else:
            flags.append(f"--{key} {value}")
    return " ".join(flags)


def _flatten(mapping: dict, prefix: str, inside: set[int]) -> list[tuple[str, Any]]:
    """Nested keys joined with dots; empty mappings dropped (flatten_dict's rule).
    A mapping inside itself (a params file's recursive alias) is refused."""
    if id(mapping) in inside:
        raise _Problem(f"'{prefix.rstrip('.')}' holds itself; it cannot be written as flags")
    items: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.", inside | {id(mapping)})
        else:
            items.append((f"{prefix}{key}", value))
    return items


# -- stages ---------------------------------------------------------------------


def _expand(
    name: Any, definition: Any, context: _Context, files: _Files, at: _Where
) -> list[StageDef]:
    """One stage, or the members of a foreach or matrix stage in DVC's order."""
    if not isinstance(name, str) or not name:
        raise DvcFileError(at.stage(), f"stage name {name!r} must be a non-empty string; quote it")
    if isinstance(definition, dict) and ("foreach" in definition or "do" in definition):
        return _expand_foreach(name, definition, context, files, at)
    _check_stage(definition, at, name)
    if "matrix" in definition:
        return _expand_matrix(name, definition, context, files, at)
    if JOIN in name:
        raise DvcFileError(
            at.stage(),
            f"stage name '{name}' holds '{JOIN}', which names foreach and matrix members; "
            "rename it",
        )
    return [_resolve_stage(name, definition, context, files, at)]


def _expand_foreach(
    name: str, definition: dict, context: _Context, files: _Files, at: _Where
) -> list[StageDef]:
    for key in ("foreach", "do"):
        if key not in definition:
            raise DvcFileError(at.stage(), f"stage '{name}' has '{key}' missing; add it")
    extra = sorted(set(definition) - {"foreach", "do"})
    if extra:
        raise DvcFileError(
            at.key(extra[0]),
            f"stage '{name}': '{extra[0]}' cannot sit beside foreach and do; move it into 'do'",
        )
    template = definition["do"]
    _check_stage(template, at.inside("do"), name, in_do=True)
    try:
        data = _resolve(definition["foreach"], context.data, None)
    except _Problem as e:
        raise DvcFileError(at.value("foreach"), f"stage '{name}': foreach: {e}") from None
    if isinstance(data, dict):
        members = [(_to_str(k), {"item": v, "key": _to_str(k)}) for k, v in data.items()]
    elif isinstance(data, list):
        composite = any(isinstance(v, dict | list) for v in data)
        members = [(str(i) if composite else _to_str(v), {"item": v}) for i, v in enumerate(data)]
    else:
        raise DvcFileError(
            at.value("foreach"),
            f"stage '{name}': foreach must be a list or a mapping, got {type(data).__name__}",
        )
    return _members(name, template, members, context, files, at.inside("do"))


def _expand_matrix(
    name: str, definition: dict, context: _Context, files: _Files, at: _Where
) -> list[StageDef]:
    if not definition["matrix"]:
        raise DvcFileError(at.value("matrix"), f"stage '{name}': matrix is empty; add a list")
    axes: dict[str, list] = {}
    for axis, values in definition["matrix"].items():
        try:
            values = _resolve(values, context.data, None)
        except _Problem as e:
            raise DvcFileError(at.value("matrix"), f"stage '{name}': matrix: {e}") from None
        if not isinstance(values, list):
            raise DvcFileError(
                at.value("matrix"),
                f"stage '{name}': matrix '{axis}' must be a list, got {type(values).__name__}",
            )
        axes[axis] = values
    count = 1
    for values in axes.values():
        count *= len(values)
    if count > MAX_MEMBERS:
        raise DvcFileError(
            at.value("matrix"),
            f"stage '{name}': matrix makes {count} stages, more than {MAX_MEMBERS}; split it",
        )
    template = {k: v for k, v in definition.items() if k != "matrix"}
    members = []
    for combination in product(*(enumerate(v) for v in axes.values())):
        item = {axis: value for axis, (_, value) in zip(axes, combination, strict=True)}
        key = "-".join(
            f"{axis}{i}" if isinstance(value, dict | list) else _to_str(value)
            for axis, (i, value) in zip(axes, combination, strict=True)
        )
        members.append((key, {"item": item, "key": key}))
    return _members(name, template, members, context, files, at)


def _members(
    group: str,
    template: dict,
    members: list[tuple[str, dict[str, Any]]],
    context: _Context,
    files: _Files,
    at: _Where,
) -> list[StageDef]:
    """Resolve each member `group@key`; two members of one name are refused
    (DVC would keep the last one silently)."""
    stages: list[StageDef] = []
    seen: set[str] = set()
    for key, items in members:
        if key in seen:
            raise DvcFileError(
                at.stage(),
                f"stage '{group}' generates '{group}{JOIN}{key}' twice (two values with "
                "the same text); make them distinct",
            )
        seen.add(key)
        member = f"{group}{JOIN}{key}"
        stages.append(_resolve_stage(member, template, context.with_items(items), files, at))
    return stages


def _resolve_stage(
    name: str, definition: dict, context: _Context, files: _Files, at: _Where
) -> StageDef:
    """Substitute a stage's fields: `wdir` first (it places the stage's own
    vars files), then its vars, then everything else."""
    field = "wdir"
    try:
        wdir = posixpath.normpath(
            _to_str(_resolve(definition.get("wdir") or ".", context.data, field))
        )
        if definition.get("vars"):
            context = _Context(context.data, context.imports, context.reserved)
            _load_vars(context, definition["vars"], wdir, files, at, name)
        resolved: dict[str, Any] = {}
        for field, value in definition.items():
            if field != "vars":
                finish = _FINISH.get(field)
                value = _resolve(value, context.data, field)
                resolved[field] = finish(field, value) if finish else value
        return StageDef(
            name=name,
            cmd=resolved["cmd"],
            wdir=wdir,
            deps=resolved.get("deps", ()),
            params=resolved.get("params", ()),
            outs=tuple(o for f in ("outs", "metrics", "plots") for o in resolved.get(f, ())),
            frozen=resolved.get("frozen", False),
            always_changed=resolved.get("always_changed", False),
            desc=resolved.get("desc"),
            meta=resolved.get("meta"),
            line=at.line,
        )
    except _Problem as e:
        raise DvcFileError(at.value(field), f"stage '{name}': {field}: {e}") from None


def _cmd(field: str, cmd: Any) -> str | list[str]:
    if not isinstance(cmd, str | list):
        kind = "mapping" if isinstance(cmd, dict) else type(cmd).__name__
        raise _Problem(
            f"resolves to a {kind}, not a command; write it inside one, e.g. 'run ${{...}}'"
        )
    return cmd


def _paths(field: str, values: list) -> tuple[str, ...]:
    for value in values:
        if not isinstance(value, str):
            raise _Problem(f"{value!r} is not a path; a '${{}}' here must give a string")
    return tuple(values)


def _params(field: str, entries: list) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """DVC's `_merge_params`: bare keys belong to params.yaml, `{file: null}`
    or `{file: []}` tracks the whole file (and wins over its listed keys)."""
    whole = {f for e in entries if isinstance(e, dict) for f, keys in e.items() if not keys}
    files: dict[str, list[str] | None] = {}
    for entry in entries:
        if isinstance(entry, str):
            if DEFAULT_PARAMS not in whole:
                files.setdefault(DEFAULT_PARAMS, []).append(entry)
            continue
        if not isinstance(entry, dict):
            raise _Problem(f"{entry!r} is not a key of params.yaml or a {{file: [keys]}} mapping")
        for name, keys in entry.items():
            if not isinstance(name, str):
                raise _Problem(f"{name!r} is not a file name")
            if name in whole:
                files[name] = None
            elif _is_list_of(keys, str):
                files.setdefault(name, []).extend(keys)
            else:
                raise _Problem(f"'{name}' must map to a list of keys, or null for the whole file")
    order = sorted(files, key=lambda f: (f != DEFAULT_PARAMS, f))
    return tuple((f, None if files[f] is None else tuple(dict.fromkeys(files[f]))) for f in order)


def _outs(section: str, entries: list) -> tuple[StageOut, ...]:
    """One section's outputs; a path listed twice is one output with the
    flags merged, as DVC's `_merge_data` does."""
    merged: dict[str, dict] = {}
    for entry in entries:
        if isinstance(entry, str):
            merged.setdefault(entry, {})
            continue
        for path in _paths(section, list(entry) if isinstance(entry, dict) else [entry]):
            merged.setdefault(path, {}).update(entry[path])
    return tuple(
        StageOut(
            path,
            section,
            cache=flags.get("cache", True),
            persist=flags.get("persist", False),
            push=flags.get("push", True),
            remote=flags.get("remote"),
        )
        for path, flags in merged.items()
    )


# Each field's check and shape once its `${}` are substituted.
_FINISH: dict[str, Callable[[str, Any], Any]] = {
    "cmd": _cmd,
    "deps": _paths,
    "params": _params,
    "outs": _outs,
    "metrics": _outs,
    "plots": _outs,
}
