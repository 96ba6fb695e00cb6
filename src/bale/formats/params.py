"""Params files (`params.yaml`, JSON, TOML, Python) read as DVC reads them.

The format follows the suffix, as in DVC's `dvc/utils/serialize`: `.json`,
`.toml`, `.py`, and YAML for anything else. Python files are read with `ast`
and never run: module-level assignments of literals, classes as nested
mappings, and `self.x = ...` in an `__init__`.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from bale.errors import DvcFileError
from bale.formats.limits import check_stage_file
from bale.formats.yaml import _Loader, check_depth


def where(origin: str, mark: Any) -> str:
    """`origin:line:col` (1-based) for a PyYAML mark, `origin` without one."""
    return f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark is not None else origin


def compose_yaml(text: str, origin: str, *, cycles: bool = True) -> yaml.Node | None:
    """The YAML node tree, with marks for errors; duplicate keys refused, and
    an alias inside its own anchor too unless `cycles`.

    DVC reads with ruamel.yaml, which refuses a mapping with a key twice;
    PyYAML would keep the last one silently.

    Raises:
        DvcFileError: malformed YAML or a duplicate key, at its line and
            column, or past `limits.check_stage_file`'s limit.
    """
    check_stage_file(origin, len(text))
    try:
        check_depth(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise DvcFileError(where(origin, mark), f"malformed YAML: {problem}; fix it") from e
    _check_unique_keys(node, origin)
    if node is not None and _expanded(node, {}, set(), origin, cycles) > _MAX_EXPANDED:
        raise DvcFileError(
            origin, f"its aliases expand to more than {_MAX_EXPANDED} values; write it out"
        )
    return node


# Readers walk values with aliases expanded (interpolation copies them), so
# a few nested aliases ("billion laughs") must not stand for millions of values.
_MAX_EXPANDED = 1_000_000


def _expanded(
    node: yaml.Node, sizes: dict[int, int], open_: set[int], origin: str, cycles: bool
) -> int:
    """How many nodes `node` stands for, aliases expanded; an alias inside
    its own anchor counts once, or is refused unless `cycles`."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        if cycles:
            return 1
        raise DvcFileError(
            where(origin, node.start_mark), "an alias refers to its own anchor; write it out"
        )
    open_.add(key)
    total = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded(k, sizes, open_, origin, cycles)
            total += _expanded(v, sizes, open_, origin, cycles)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded(child, sizes, open_, origin, cycles)
    open_.discard(key)
    sizes[key] = total = min(total, _MAX_EXPANDED + 1)
    return total


def _check_unique_keys(node: yaml.Node | None, origin: str) -> None:
    stack = [node] if node is not None else []
    visited: set[int] = set()  # an alias shares its anchor's node, maybe recursively
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in seen:
                        raise DvcFileError(
                            where(origin, key.start_mark),
                            f"key '{key.value}' appears twice in one mapping; remove one",
                        )
                    seen.add(key.value)
                stack += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


def construct_yaml(node: yaml.Node | None, origin: str = "YAML") -> Any:
    """Plain Python data of a node tree from `compose_yaml`.

    Raises:
        DvcFileError: a tag it cannot build (`!x`, `!!map` on a scalar).
    """
    try:
        return None if node is None else _Loader("").construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise DvcFileError(where(origin, mark), f"malformed YAML: {problem}; fix it") from e


def parse_params(text: str, filename: str) -> dict[str, Any]:
    """A params file's data; the format follows `filename`'s suffix.

    An empty file is an empty mapping, as in DVC.

    Raises:
        DvcFileError: the file is malformed, its top level is not a mapping,
            or it is past `limits.check_stage_file`'s limit.
    """
    check_stage_file(filename, len(text))
    suffix = posixpath.splitext(filename)[1].lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix == ".py":
            data = _python_params(ast.parse(text, filename=filename).body)
        else:
            data = construct_yaml(compose_yaml(text, filename), filename)
    # JSONDecodeError, TOMLDecodeError; RecursionError from json and tomllib,
    # MemoryError from ast ("parser stack overflow") on deeply nested input.
    except (ValueError, SyntaxError, RecursionError, MemoryError) as e:
        raise DvcFileError(
            filename, f"malformed params file: {e or 'nested too deep'}; fix it"
        ) from e
    data = data or {}
    if not isinstance(data, dict):
        raise DvcFileError(
            filename, f"expected a mapping at the top, got {type(data).__name__}; fix the file"
        )
    return data


def _python_params(body: Iterable[ast.stmt], *, self_only: bool = False) -> dict[str, Any]:
    """DVC's `_ast_tree_to_dict`: what is not a literal is skipped, not refused."""
    result: dict[str, Any] = {}
    for stmt in body:
        try:
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                result.update(_python_assign(stmt, self_only))
            elif isinstance(stmt, ast.ClassDef):
                result[stmt.name] = _python_params(stmt.body)
            elif isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                result.update(_python_params(stmt.body, self_only=True))
        except (ValueError, TypeError, AttributeError):
            continue
    return result


def _python_assign(stmt: ast.Assign | ast.AnnAssign, self_only: bool) -> dict[str, Any]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) != 1:
        raise AttributeError("several targets")
    target = stmt.target if isinstance(stmt, ast.AnnAssign) else stmt.targets[0]
    if isinstance(target, ast.Name) and not self_only:
        name = target.id
    elif (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ):
        name = target.attr
    else:
        raise AttributeError("not a name")
    if stmt.value is None:
        raise ValueError("no value")
    return {name: ast.literal_eval(stmt.value)}


def param_value(data: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key (`train.lr`, `layers.0` for a list item), as
    DVC's dpath lookup finds it (globs aside).

    Raises:
        KeyError: the key is not in the data.
    """
    value: Any = data
    for part in key.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and re.fullmatch(r"-?[0-9]+", part):
            try:
                value = value[int(part)]  # dpath takes -1 from the end too
            except IndexError:
                raise KeyError(key) from None
        else:
            raise KeyError(key)
    return value


def flat_values(data: Mapping[str, Any], keys: Iterable[str] | None) -> dict[str, Any]:
    """What `dvc.lock` records for one params file: `{dotted key: value}`.

    Missing keys are left out (DVC reports them when the stage runs); `keys`
    None (the whole file tracked) records the file's data as it is.
    """
    if keys is None:
        return dict(data)
    found: dict[str, Any] = {}
    for key in keys:
        try:
            found[key] = param_value(data, key)
        except KeyError:
            continue
    return found
