"""`.dvc` files: parse into records, dump back in DVC's key order.

A rewrite keeps what bale does not manage (annotations, `meta`, import
`deps`, unknown keys) and orders keys as DVC's `Output.dumpd` does, so a file
DVC wrote and bale rewrote with the same data is byte-identical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from bale.errors import DvcFileError
from bale.formats.limits import check_stage_file
from bale.formats.manifest import DIR_SUFFIX, is_md5

MD5 = "md5"
LEGACY_HASH = "md5-dos2unix"

# DVC's dump order for an output entry (Output.dumpd + Meta.to_dict).
_OUT_ORDER = (
    "md5", "etag", "checksum", "size", "nfiles", "isexec", "version_id", "hash", "path",
    "fs_config", "desc", "type", "labels", "meta", "cache", "metric", "plot", "persist",
    "remote", "push", "files",
)  # fmt: skip
# Keys bale computes; everything else in an entry is carried through untouched.
_MANAGED = frozenset({"md5", "size", "nfiles", "isexec", "hash", "path", "cache", "push", "remote"})
_ROOT_ORDER = ("desc", "md5", "cmd", "wdir", "frozen", "deps", "outs", "always_changed", "meta")


# Records are NamedTuples, not dataclasses: every command loads this module,
# and importing dataclasses costs more than a short command's own work.


class Out(NamedTuple):
    """One output of a `.dvc` file; `path` is relative to the file's folder."""

    path: str
    oid: str | None = None
    hash_name: str = MD5
    size: int | None = None
    nfiles: int | None = None
    isexec: bool = False
    cache: bool = True
    push: bool = True
    remote: str | None = None
    extra: Mapping[str, Any] = {}  # never changed in place: shared default is safe

    @property
    def is_dir(self) -> bool:
        return self.oid is not None and self.oid.endswith(DIR_SUFFIX)

    @property
    def legacy(self) -> bool:
        return self.hash_name == LEGACY_HASH

    def with_hash(
        self, oid: str, *, size: int, nfiles: int | None = None, isexec: bool = False
    ) -> Out:
        """The same output recorded with new content, hashed the DVC 3 way."""
        return self._replace(oid=oid, hash_name=MD5, size=size, nfiles=nfiles, isexec=isexec)


class DvcFile(NamedTuple):
    """A whole `.dvc` file: its outputs plus every other root key, kept raw."""

    outs: tuple[Out, ...]
    extra: Mapping[str, Any] = {}  # never changed in place: shared default is safe


def parse_out(item: Any, origin: str, *, section: str = "outs") -> Out:
    """One entry of `outs` (or of a stage's `deps`, which have the same shape).

    Raises:
        DvcFileError: the entry is not a mapping, or a field is malformed.
    """
    if not isinstance(item, dict):
        raise DvcFileError(origin, f"each entry under '{section}' must be a mapping")
    path = item.get("path")
    if path is None or path == "":
        raise DvcFileError(origin, f"an entry under '{section}' has no 'path'")
    if not isinstance(path, str):
        raise DvcFileError(
            origin, f"'path: {path}' under '{section}' must be a string (quote it: path: '{path}')"
        )
    oid = item.get("md5")
    if oid is not None:
        base = oid[: -len(DIR_SUFFIX)] if isinstance(oid, str) and oid.endswith(DIR_SUFFIX) else oid
        if not is_md5(base):
            raise DvcFileError(origin, f"output '{path}' has a malformed md5 {oid!r}")
    hash_name = item.get("hash", LEGACY_HASH if oid is not None else MD5)
    if hash_name not in (MD5, LEGACY_HASH):
        raise DvcFileError(origin, f"output '{path}' has unsupported hash {hash_name!r}")
    size = item.get("size")
    nfiles = item.get("nfiles")
    for key, value in (("size", size), ("nfiles", nfiles)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise DvcFileError(origin, f"output '{path}' has a malformed {key} {value!r}")
    return Out(
        path=path,
        oid=oid,
        hash_name=hash_name,
        size=size,
        nfiles=nfiles,
        isexec=bool(item.get("isexec", False)),
        cache=item.get("cache", True) is not False,
        push=item.get("push", True) is not False,
        remote=item.get("remote"),
        extra={k: v for k, v in item.items() if k not in _MANAGED},
    )


# The lines DVC writes for a plain `dvc add`; anything else goes to the YAML parser.
_SIMPLE_LINE = re.compile(r"^(- |  )(md5|size|nfiles|isexec|hash|path): ([^\n]*)$")
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@=,-]*(?:/[A-Za-z0-9_.+@=,-]+)*$")
_INT = re.compile(r"^[0-9]+$")


def _parse_simple(text: str) -> dict[str, Any] | None:
    """Read the common `.dvc` shape without loading a YAML parser (start-up
    time is most of a small command's run); None when the text is not that."""
    lines = text.split("\n")
    if not lines or lines[0] != "outs:" or lines[-1] != "":
        return None
    outs: list[dict[str, Any]] = []
    for line in lines[1:-1]:
        match = _SIMPLE_LINE.match(line)
        if match is None:
            return None
        lead, key, value = match.groups()
        if lead == "- ":
            outs.append({})
        elif not outs or key in outs[-1]:
            return None
        if key in ("size", "nfiles"):
            if not _INT.match(value):
                return None
            outs[-1][key] = int(value)
        elif key == "isexec":
            if value not in ("true", "false"):
                return None
            outs[-1][key] = value == "true"
        elif key == "path":
            if not _PLAIN_PATH.match(value) or _looks_typed(value):
                return None
            outs[-1][key] = value
        else:
            if not re.match(r"^[0-9a-f]{32}(\.dir)?$|^md5$", value) or _INT.match(value):
                return None
            outs[-1][key] = value
    return {"outs": outs}


def _looks_typed(value: str) -> bool:
    """Whether YAML would read this plain scalar as a number, bool or null."""
    lowered = value.lower()
    if lowered in ("true", "false", "null", "~", ".inf", ".nan", "-.inf", "+.inf"):
        return True
    try:
        float(value.replace("_", ""))
    except ValueError:
        return value.startswith(("0x", "0o", "0b", "-0x", "+0x"))
    return True


def parse_dvcfile(text: str, *, origin: str) -> DvcFile:
    """Parse `.dvc` text; `origin` names the file in errors.

    Raises:
        DvcFileError: not YAML, not a mapping, an output is malformed, or it
            is past `limits.check_stage_file`'s limit.
    """
    check_stage_file(origin, len(text))
    data = _parse_simple(text)
    if data is None:
        data = _parse_yaml(text, origin)
    if not isinstance(data, dict):
        raise DvcFileError(origin, "expected a mapping with 'outs'")
    outs = data.get("outs") or []
    if not isinstance(outs, list):
        raise DvcFileError(origin, "'outs' must be a list")
    return DvcFile(
        outs=tuple(parse_out(item, origin) for item in outs),
        extra={k: v for k, v in data.items() if k != "outs"},
    )


def _parse_yaml(text: str, origin: str) -> Any:
    import yaml

    from bale.formats.yaml import load_yaml

    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise DvcFileError(origin, f"not valid YAML{where}; fix or restore it") from exc
    return {} if data is None else data


def out_to_dict(out: Out) -> dict[str, Any]:
    """An output as DVC would dump it, unknown keys kept."""
    values: dict[str, Any] = dict(out.extra)
    if out.oid is not None:
        values["md5"] = out.oid
    if out.size is not None:
        values["size"] = out.size
    if out.nfiles is not None:
        values["nfiles"] = out.nfiles
    if out.isexec:
        values["isexec"] = True
    if out.hash_name != LEGACY_HASH:
        values["hash"] = out.hash_name
    values["path"] = out.path
    if not out.cache:
        values["cache"] = False
    if out.remote:
        values["remote"] = out.remote
    if not out.push:
        values["push"] = False
    ordered = {k: values[k] for k in _OUT_ORDER if k in values}
    ordered.update((k, v) for k, v in values.items() if k not in ordered)
    return ordered


def dump_dvcfile(dvcfile: DvcFile, *, previous: str | None = None) -> str:
    """The text of a `.dvc` file; given the `previous` text, changes are applied
    onto it so comments, key order and flow style survive, as DVC does."""
    root: dict[str, Any] = dict(dvcfile.extra)
    root["outs"] = [out_to_dict(out) for out in dvcfile.outs]
    ordered = {k: root[k] for k in _ROOT_ORDER if k in root and root[k] not in (None, [], {})}
    ordered.update((k, v) for k, v in root.items() if k not in _ROOT_ORDER)
    if previous is not None:
        plain = _parse_simple(previous)
        # DVC's own layout with the same keys in the same places: rewriting it
        # onto the old text gives exactly a fresh dump, without ruamel's import.
        if plain is None or _shape(plain) != _shape(ordered):
            return _apply_onto(previous, ordered)
    from bale.formats.yaml import dump_yaml

    return dump_yaml(ordered)


def _shape(root: dict[str, Any]) -> list[list[str]] | None:
    """The keys of each output, when `outs` is the only key."""
    if list(root) != ["outs"]:
        return None
    return [list(out) for out in root["outs"]]


def _apply_onto(previous: str, new: dict[str, Any]) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    old = yaml.load(previous)
    if not isinstance(old, dict):
        old = {}
    apply_diff(new, old)
    stream = io.StringIO()
    yaml.dump(old, stream)
    return stream.getvalue()


def apply_diff(src: Any, dest: Any) -> None:
    """Make `dest` equal `src` in place, keeping what ruamel attached to `dest`
    (comments, order, style): DVC's rule for rewriting its files."""

    def same_kind(a: Any, b: Any) -> bool:
        return any(isinstance(a, t) and isinstance(b, t) for t in (str, Mapping, list, bool))

    if isinstance(src, Mapping) and isinstance(dest, Mapping):
        for key, value in src.items():
            if isinstance(value, Mapping | list) and same_kind(value, dest.get(key)):
                apply_diff(value, dest[key])
            elif key not in dest or value != dest[key]:
                dest[key] = value  # type: ignore[index]
        for key in set(dest) - set(src):
            del dest[key]  # type: ignore[attr-defined]
    elif isinstance(src, list) and isinstance(dest, list):
        if len(src) != len(dest):
            dest[:] = src
            return
        for i, value in enumerate(src):
            if isinstance(value, Mapping | list) and same_kind(value, dest[i]):
                apply_diff(value, dest[i])
            elif value != dest[i]:
                dest[i] = value


# Keys DVC leaves out of a stage's md5 (`dvc.stage.utils.compute_md5`).
_MD5_EXCLUDED = frozenset(
    {"meta", "desc", "type", "labels", "locked", "frozen", "metric", "persist", "isexec",
     "size", "nfiles"}
)  # fmt: skip


def stage_md5(dvcfile: DvcFile) -> str:
    """The top-level `md5:` DVC writes in a `.dvc` file with `deps` (an
    import): the md5 of the stage as JSON, sorted keys, without the keys that
    do not change what the stage produces."""
    import hashlib
    import json

    root: dict[str, Any] = {k: v for k, v in dvcfile.extra.items() if k != "md5"}
    root["outs"] = [out_to_dict(out) for out in dvcfile.outs]
    if root.get("wdir") == ".":
        del root["wdir"]

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _MD5_EXCLUDED}
        return value

    text = json.dumps(strip(root), sort_keys=True)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
