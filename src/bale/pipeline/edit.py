"""Writing stages into `dvc.yaml`: a new stage's body as `dvc stage add`
writes it, and the file's text with a stage added, replaced, frozen or
unfrozen.

DVC re-dumps the whole file through ruamel.yaml, which keeps comments but
puts every sequence at its parent's indent. Here only the lines of the stage
that changes are written, in the file's own indentation (detected from its
stages); every other byte is kept. Each edit is read back and compared with
what was meant; an edit that does not read back so (a layout the line
splicing does not know) is redone as a ruamel round trip of the whole file,
still in the file's indentation.

Pure: text in, text out. Paths are checked as values (root-relative), never
against the disk.
"""

from __future__ import annotations

import copy
import graphlib
import io
import posixpath
import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import yaml

from bale.errors import DvcFileError, OverlappingOutputError, PipelineError, TargetNotFoundError
from bale.formats.params import compose_yaml, construct_yaml
from bale.formats.yaml import dump_yaml
from bale.workspace.index import metadata_problem

DEFAULT_PARAMS = "params.yaml"
# DVC's rule (`dvc.stage.INVALID_STAGENAME_CHARS`): no punctuation but `_` and `-`.
INVALID_NAME_CHARS = frozenset(string.punctuation) - {"_", "-"}
_KEY_ORDER = ("desc", "cmd", "wdir", "deps", "params", "outs", "metrics", "plots",
              "frozen", "always_changed", "meta")  # fmt: skip
# Flags of an output that a replaced stage keeps (dvc's `Output.restore_fields`):
# the command line cannot set them. Annotations come first, as dvc writes them.
_KEPT_ANNOTATIONS = ("desc", "type", "labels", "meta")
_KEPT_FLAGS = ("remote", "push")
_STAGE_FILES = ("dvc.yaml", "dvc.lock")
_WIDTH = 80  # ruamel.yaml's default line width, which dvc keeps
_BREAK = re.compile(r"\r\n|\r|\n|\x85|\u2028|\u2029")


# -- the stage ----------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a stage, or None."""
    if not name:
        return "is empty"
    bad = sorted(set(name) & INVALID_NAME_CHARS)
    if bad:
        return f"contains {', '.join(repr(c) for c in bad)}; use no punctuation but '_' and '-'"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "contains a control character (a tab or a line break); remove it"
    return None


def check_name(name: str) -> None:
    """Raises:
    PipelineError: `name` cannot name a stage (dvc's rule, and no control characters)."""
    problem = name_problem(name)
    if problem is not None:
        raise PipelineError(f"stage name {name!r} {problem}")


def params_keys(specs: Iterable[str]) -> list[str | dict[str, list[str] | None]]:
    """`-p [FILE:]KEY,KEY` options as `dvc.yaml` lists them: the keys of
    `params.yaml` first, then `{file: [keys]}` by file name; keys sorted; a
    file given without keys (`-p file:`) is tracked whole (`{file: null}`).
    The same file given twice merges its keys; a key given twice is written once."""
    files: dict[str, list[str]] = {}
    for spec in specs:
        path, _, keys = spec.rpartition(":")
        listed = files.setdefault(path or DEFAULT_PARAMS, [])
        listed += [k for k in dict.fromkeys(keys.split(",")) if k and k not in listed]
    found: list[str | dict[str, list[str] | None]] = []
    for path in sorted(files):
        keys = sorted(files[path])
        if path == DEFAULT_PARAMS and keys:
            found[:0] = keys
        else:
            found.append({path: keys or None})
    return found


def _params_files(params: list[Any]) -> list[str]:
    files = [DEFAULT_PARAMS] if any(isinstance(p, str) for p in params) else []
    return files + [path for p in params if isinstance(p, dict) for path in p]


def stage_body(
    cmd: str | list[str],
    *,
    deps: Iterable[str] = (),
    outs: Iterable[str] = (),
    outs_no_cache: Iterable[str] = (),
    outs_persist: Iterable[str] = (),
    outs_persist_no_cache: Iterable[str] = (),
    metrics: Iterable[str] = (),
    metrics_no_cache: Iterable[str] = (),
    plots: Iterable[str] = (),
    plots_no_cache: Iterable[str] = (),
    params: Iterable[str] = (),
    wdir: str | None = None,
    always_changed: bool = False,
    desc: str | None = None,
    frozen: bool = False,
    meta: Any = None,
) -> dict[str, Any]:
    """A stage as `dvc stage add` writes it (dvc's `to_pipeline_file`): keys
    in dvc's order, deps sorted, outputs sorted by path into `outs`,
    `metrics` and `plots` with their flags (`{path: {cache: false}}`),
    `params` as `params_keys` gives them, empty values left out. Paths are
    as given, relative to `wdir` (itself relative to the dvc.yaml's folder).

    Raises:
        PipelineError: no command, or a path given twice (as dvc compares
            them: normalised, params files included) or as both a dependency
            and an output.
    """
    if not cmd or (isinstance(cmd, list) and not all(cmd)):
        raise PipelineError(
            "no command given; write it after the options: bale stage add -n NAME [options] CMD"
        )
    base = posixpath.normpath(wdir) if wdir else "."
    kinds = [  # dvc fills a stage's outputs in this order; .gitignore follows it
        (outs_persist, "outs", False, True),
        (outs_persist_no_cache, "outs", True, True),
        (metrics, "metrics", False, False),
        (metrics_no_cache, "metrics", True, False),
        (plots, "plots", False, False),
        (plots_no_cache, "plots", True, False),
        (outs_no_cache, "outs", True, False),
        (outs, "outs", False, False),
    ]
    declared = [(path, section, no_cache, persist)
                for paths, section, no_cache, persist in kinds for path in paths]  # fmt: skip
    deps = list(deps)
    param_list = params_keys(params)
    seen: dict[str, str] = {}
    for path in deps + _params_files(param_list):
        _note(seen, base, path, "dep")
    for path, *_ in declared:
        _note(seen, base, path, "out")
    sections: dict[str, list[Any]] = {"outs": [], "metrics": [], "plots": []}
    for path, section, no_cache, persist in sorted(declared, key=lambda d: d[0]):
        flags = {**({"cache": False} if no_cache else {}), **({"persist": True} if persist else {})}
        sections[section].append({path: flags} if flags else path)
    wdir = None if base == "." else base
    values = {"desc": desc, "cmd": cmd, "wdir": wdir, "deps": sorted(deps),
              "params": param_list, **sections, "frozen": frozen,
              "always_changed": always_changed, "meta": meta}  # fmt: skip
    return {key: values[key] for key in _KEY_ORDER if values[key]}


def _note(seen: dict[str, str], base: str, path: str, what: str) -> None:
    key = posixpath.normpath(posixpath.join(base, path))
    before = seen.get(key)
    if before is None:
        seen[key] = what
    elif before == what:
        raise PipelineError(f"'{path}' is given twice; give each path once")
    else:
        raise PipelineError(
            f"'{path}' is given both as an output and as a dependency (or params file); "
            "a stage cannot read what it writes: give it once"
        )


class StagePaths(NamedTuple):
    """A stage's paths: dependencies, params files and outputs."""

    deps: list[str]
    params: list[str]
    outs: list[str]


def body_paths(body: Mapping[str, Any]) -> StagePaths:
    """The paths of a stage body, as written."""
    outs = []
    for section in ("outs", "metrics", "plots"):
        for item in body.get(section) or ():
            outs.append(item if isinstance(item, str) else next(iter(item)))
    return StagePaths(list(body.get("deps") or ()), _params_files(body.get("params") or []), outs)


def check_paths(
    base: str,
    body: Mapping[str, Any],
    *,
    ignored_by: Callable[[str], str | None] = lambda rel: None,
) -> StagePaths:
    """The root-relative paths of a stage body whose paths are relative to
    the root-relative folder `base`, refusing what bale could not run: a path
    that is empty, absolute or leaves the repository, a dependency that is a
    stage file, and an output that `metadata_problem` refuses (inside `.git`
    or `.dvc`, a stage file, the root) or that `ignored_by` (a `.dvcignore`
    lookup) hides.

    Raises:
        PipelineError: such a path.
    """
    written = body_paths(body)
    found = StagePaths([], [], [])
    for paths, what, kept in (
        (written.deps, "dependency", found.deps),
        (written.params, "params file", found.params),
        (written.outs, "output", found.outs),
    ):
        for path in paths:
            if not path:
                raise PipelineError(f"an empty {what} path was given; name a file or folder")
            rel = posixpath.normpath(posixpath.join(base, path))
            if posixpath.isabs(path) or "\0" in path or rel == ".." or rel.startswith("../"):
                raise PipelineError(
                    f"{what} '{path}' lies outside the repository; "
                    "bale runs stages on paths inside it: name one there"
                )
            rel = "" if rel == "." else rel
            if what == "output":
                problem = metadata_problem(rel)
                if problem is None and (line := ignored_by(rel)) is not None:
                    problem = f"is ignored by {line}"
                if problem is not None:
                    raise PipelineError(f"output '{path}' {problem}; name another output")
            elif rel.endswith(".dvc") or posixpath.basename(rel) in _STAGE_FILES:
                raise PipelineError(
                    f"{what} '{path}' is a pipeline or .dvc file; depend on the data it "
                    "tracks instead"
                )
            kept.append(rel)
    return found


class Producer(NamedTuple):
    """What `check_graph` needs of a stage: its address, root-relative
    dependencies and outputs."""

    address: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def check_graph(
    stage: Producer, others: Iterable[Producer], tracked: Iterable[tuple[str, str]] = ()
) -> None:
    """Refuse a new stage whose outputs overlap another stage's or a `.dvc`
    file's (`tracked`: (root-relative output, .dvc file)), or that would
    close a cycle.

    Raises:
        OverlappingOutputError, PipelineError: as `bale.pipeline.dag.Dag` would
            for the pipeline with the stage in it.
    """
    others = list(others)
    owners = [(rel, dvc) for rel, dvc in tracked]
    owners += [(rel, s.address) for s in others for rel in s.outs]
    for rel in stage.outs:
        for other_rel, owner in owners:
            if rel == other_rel:
                raise OverlappingOutputError(
                    f"'{rel}' is already an output of {owner}; name another output "
                    "or remove it there"
                )
            if _related(rel, other_rel):
                inner, outer = sorted((rel, other_rel), key=len, reverse=True)
                raise OverlappingOutputError(
                    f"'{inner}' is inside '{outer}' (outputs of {owner} and {stage.address}); "
                    "an output cannot hold another: remove one"
                )
    everyone = [*others, stage]
    needs = {
        s.address: {o.address for o in everyone if o.address != s.address
                    and any(_related(d, out) for d in s.deps for out in o.outs)}
        for s in everyone
    }  # fmt: skip
    try:
        graphlib.TopologicalSorter(needs).prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))
        raise PipelineError(
            f"stage '{stage.address}' would close a cycle: {cycle}; "
            "remove a dependency so that one of them runs first"
        ) from exc


# -- the file -----------------------------------------------------------------------


class _Style(NamedTuple):
    """How a file indents: the column of stage names, ruamel's three indents,
    and whether stages are parted by a blank line."""

    key_indent: int = 2
    mapping: int = 2
    sequence: int = 2
    offset: int = 0
    spaced: bool = False


class _Doc:
    """A parsed `dvc.yaml`: its text in lines, node tree and plain data."""

    def __init__(self, text: str, origin: str) -> None:
        self.text = text
        self.origin = origin
        self.lines = _split_lines(text)
        first = self.lines[0] if self.lines else ""
        self.newline = first[len(first.rstrip("\r\n\x85\u2028\u2029")) :] or "\n"
        self.root = compose_yaml(text, origin)
        self.data = construct_yaml(self.root)
        if self.data is not None and not isinstance(self.data, dict):
            raise DvcFileError(origin, "expected a mapping with 'stages' at the top; fix the file")
        stages = (self.data or {}).get("stages")
        if stages is not None and not isinstance(stages, dict):
            raise DvcFileError(origin, "'stages' must be a mapping of stage names; fix the file")
        self.stages: dict[str, Any] = stages or {}
        self.stages_node = _value_of(self.root, "stages")
        self.aliased = _has_aliases(self.root)
        self.style = self._style()

    def stage_nodes(self) -> list[tuple[yaml.Node, yaml.Node]]:
        node = self.stages_node
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            return list(node.value)
        return []

    def _style(self) -> _Style:
        style = _Style()
        entries = self.stage_nodes()
        if entries:
            style = style._replace(key_indent=entries[0][0].start_mark.column)
            bodies = [v for _, v in entries if isinstance(v, yaml.MappingNode) and v.value
                      and not v.flow_style]  # fmt: skip
            if bodies:
                key_col = bodies[0].value[0][0].start_mark.column
                parent = next(k for k, v in entries if v is bodies[0]).start_mark.column
                style = style._replace(mapping=max(key_col - parent, 1))
            else:
                style = style._replace(mapping=max(style.key_indent, 1))
            spaced = [self._blank_before(k.start_mark.line) for k, _ in entries[1:]]
            style = style._replace(spaced=bool(spaced) and all(spaced))
        elif (inner := _nested_indent(self.root)) is not None:
            style = style._replace(key_indent=inner, mapping=inner)
        sequence = _sequence_indent(self.stages_node) or _sequence_indent(self.root)
        if sequence is not None:
            style = style._replace(sequence=sequence[0], offset=sequence[1])
        return style

    def _blank_before(self, line: int) -> bool:
        i = line - 1
        while i >= 0 and self.lines[i].lstrip().startswith("#"):
            i -= 1
        return i >= 0 and not self.lines[i].strip()

    def stage_span(self, index: int) -> tuple[int, int]:
        """(first, last) line of the `index`th stage: its key's line to its
        last line of content, with comments indented inside it that follow."""
        entries = self.stage_nodes()
        key, value = entries[index]
        limit = entries[index + 1][0].start_mark.line if index + 1 < len(entries) else None
        if limit is None:
            limit = self._after_stages()
        last = max(key.end_mark.line, _last_line(value))
        while last > key.start_mark.line and not self.lines[last].strip():
            last -= 1
        end = last
        for i in range(last + 1, limit):
            stripped = self.lines[i].lstrip(" ")
            if not stripped.strip():
                continue
            depth = len(self.lines[i]) - len(stripped)
            if stripped.startswith("#") and depth > self.style.key_indent:
                end = i
                continue
            break
        return key.start_mark.line, end

    def _after_stages(self) -> int:
        """The line of the top-level key after `stages`, or the line count."""
        assert isinstance(self.root, yaml.MappingNode)
        keys = [k for k, _ in self.root.value]
        at = next(i for i, k in enumerate(keys) if k.value == "stages")
        if at + 1 < len(keys):
            return keys[at + 1].start_mark.line
        return len(self.lines)

    def splice(self, start: int, stop: int, new: list[str]) -> str:
        """The text with lines [start, stop) replaced by `new` ("\\n"-ended)."""
        lines = list(self.lines)
        if start == len(lines) and lines and not _has_break(lines[-1]):
            lines[-1] += self.newline
        if self.newline != "\n":
            new = [line.replace("\n", self.newline) for line in new]
        return "".join(lines[:start] + new + lines[stop:])


def _split_lines(text: str) -> list[str]:
    """Lines with their breaks, split where YAML (libyaml) breaks a line."""
    lines, start = [], 0
    for match in _BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _has_break(line: str) -> bool:
    return bool(line) and line[-1] in "\r\n\x85\u2028\u2029"


def _value_of(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _walk(node: yaml.Node | None) -> Iterable[yaml.Node]:
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.MappingNode):
            stack += [n for pair in reversed(node.value) for n in reversed(pair)]
        elif isinstance(node, yaml.SequenceNode):
            stack += reversed(node.value)


def _has_aliases(root: yaml.Node | None) -> bool:
    """Whether a node appears twice in the tree (an `*alias` of an `&anchor`)."""
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack += [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False


def _last_line(node: yaml.Node) -> int:
    """The last line holding part of `node`: its leaves' ends (a block
    collection's own end lies past the comments that follow it)."""
    last = node.start_mark.line
    for inner in _walk(node):
        if isinstance(inner, yaml.ScalarNode) or inner.flow_style:
            end = inner.end_mark
            last = max(last, end.line if end.column > 0 else end.line - 1)
    return last


def _nested_indent(root: yaml.Node | None) -> int | None:
    """The indent of the first block mapping inside another, if any."""
    for node in _walk(root):
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            for key, value in node.value:
                if isinstance(value, yaml.MappingNode) and value.value and not value.flow_style:
                    return max(value.value[0][0].start_mark.column - key.start_mark.column, 1)
    return None


def _sequence_indent(root: yaml.Node | None) -> tuple[int, int] | None:
    """ruamel's (sequence, offset) of the first block sequence that is a
    mapping's value: where its items and its dashes start, from the key."""
    for node in _walk(root):
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            continue
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
                column = key.start_mark.column
                offset = value.start_mark.column - column
                sequence = value.value[0].start_mark.column - column
                if offset >= 0 and sequence >= offset + 2:
                    return sequence, offset
    return None


def _ruamel(style: _Style, width: int) -> Any:
    from ruamel.yaml import YAML

    rt = YAML()
    rt.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
    rt.width = width
    rt.preserve_quotes = True
    return rt


def _dump(rt: Any, data: Any) -> str:
    stream = io.StringIO()
    rt.dump(data, stream)
    return stream.getvalue()


def _indented(text: str, by: int) -> list[str]:
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return [(" " * by + line) if line.strip() else line for line in lines if line]


def _render(style: _Style, name: str, body: Mapping[str, Any]) -> list[str]:
    """The lines of a stage at the file's indentation; folded at ruamel's
    width from the file's left edge, as dvc's dump of the whole file folds."""
    rt = _ruamel(style, _WIDTH - style.key_indent)
    return _indented(_dump(rt, {name: dict(body)}), style.key_indent)


def _merge(new: Any, old: Any) -> None:
    """Make the round-trip data `old` equal `new` in place, keeping the
    containers (and with them their comments and position) that stay.

    Keys of `old` keep their place; new keys go last. A list of another
    length is replaced whole, one of the same length item by item (dvc's
    `apply_diff`, so a replaced stage reads as dvc would write it).
    """
    if isinstance(new, Mapping):
        for key, value in new.items():
            if key in old and _same_kind(value, old[key]):
                _merge(value, old[key])
            elif key not in old or old[key] != value:
                old[key] = value
        for key in [k for k in old if k not in new]:
            del old[key]
    elif len(new) != len(old):
        old[:] = new
    else:
        for i, value in enumerate(new):
            if _same_kind(value, old[i]):
                _merge(value, old[i])
            elif old[i] != value:
                old[i] = value


def _same_kind(a: Any, b: Any) -> bool:
    return (isinstance(a, Mapping) and isinstance(b, Mapping)) or (
        isinstance(a, list) and isinstance(b, list)
    )


def _dedent(line: str, by: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, by) :]


def _reads_as(text: str, doc: _Doc, expected: dict[str, Any], name: str) -> bool:
    """Whether `text` reads as `expected`. In a file with aliases, a stage
    may take keys from the one edited (`<<: *base`), so there only that
    stage, the stage names and the other top-level keys are compared."""
    try:
        data = construct_yaml(compose_yaml(text, doc.origin))
    except DvcFileError:
        return False
    if not isinstance(data, dict) or list(data) != list(expected):
        return False
    if list(data["stages"]) != list(expected["stages"]):
        return False
    if doc.aliased:
        rest = {k: v for k, v in data.items() if k != "stages"}
        return data["stages"][name] == expected["stages"][name] and rest == {
            k: v for k, v in expected.items() if k != "stages"
        }
    return data == expected


def _round_trip(doc: _Doc, name: str, change: Callable[[Any], None]) -> str:
    """The whole file through ruamel.yaml, in its own indentation, changed
    by `change(stages)`: dvc's way, for layouts the line edits do not know.

    Raises:
        PipelineError: ruamel.yaml failed on the file.
    """
    try:
        rt = _ruamel(doc.style, _WIDTH)
        data = rt.load(doc.text)
        if data is None:
            from ruamel.yaml.comments import CommentedMap

            data = CommentedMap()
        if data.get("stages") is None:
            data["stages"] = {}
        change(data["stages"])
        return _dump(rt, data)
    except Exception as exc:  # ruamel.yaml's own failures, of any kind
        raise PipelineError(
            f"'{doc.origin}' is laid out in a way bale cannot edit ({type(exc).__name__}: "
            f"{exc}); change stage '{name}' by hand"
        ) from exc


def _stage_index(doc: _Doc, name: str) -> int | None:
    for i, (key, _) in enumerate(doc.stage_nodes()):
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return i
    return None


def replaced_body(old: Any, body: Mapping[str, Any]) -> dict[str, Any]:
    """`body` for a stage that replaces `old` (`-f`): what the command line
    cannot say is kept, as dvc keeps it: the old `desc` unless a new one is
    given (dvc keeps the old one even then), `meta`, and of each output
    still there its annotations, `remote` and `push`."""
    if not isinstance(old, Mapping):
        return dict(body)
    kept = dict(body)
    if "desc" not in kept and old.get("desc"):
        kept["desc"] = old["desc"]
    if old.get("meta"):
        kept["meta"] = old["meta"]
    old_flags = {}
    for section in ("outs", "metrics", "plots"):
        for item in old.get(section) or ():
            if isinstance(item, Mapping) and len(item) == 1:
                ((path, flags),) = item.items()
                if isinstance(flags, Mapping):
                    old_flags[path] = flags
    for section in ("outs", "metrics", "plots"):
        items = []
        for item in kept.get(section) or ():
            path, flags = (item, {}) if isinstance(item, str) else next(iter(item.items()))
            before = old_flags.get(path, {})
            merged = {k: before[k] for k in _KEPT_ANNOTATIONS if k in before}
            merged |= flags
            merged |= {k: before[k] for k in _KEPT_FLAGS if k in before}
            items.append({path: merged} if merged else path)
        if items:
            kept[section] = items
    return {key: kept[key] for key in _KEY_ORDER if key in kept}


def add_stage(
    previous_text: str | None,
    name: str,
    body: Mapping[str, Any],
    *,
    force: bool,
    origin: str = "dvc.yaml",
) -> str:
    """The text of the `dvc.yaml` at `origin` with stage `name` added last,
    or with `force` replacing a stage of that name where it stands (its
    comments kept, and what `replaced_body` keeps).

    A new file is exactly what `dvc stage add` writes. In an existing file
    the new lines follow its indentation and its blank lines between stages;
    the rest of the file is kept byte for byte.

    Raises:
        PipelineError: the name is invalid, or taken and `force` is not set.
        DvcFileError: the file is not YAML or not a mapping of stages.
    """
    check_name(name)
    body = dict(body)
    if previous_text is None or not previous_text.strip():
        return dump_yaml({"stages": {name: body}})
    doc = _Doc(previous_text, origin)
    if doc.data is None:  # comments only: keep them, then the stage
        return doc.splice(len(doc.lines), len(doc.lines), [dump_yaml({"stages": {name: body}})])
    if name in doc.stages:
        if not force:
            raise PipelineError(
                f"stage '{name}' already exists in '{origin}'; use -f to replace it"
            )
        body = replaced_body(doc.stages[name], body)
    expected = copy.deepcopy(doc.data)
    expected.setdefault("stages", None)
    expected["stages"] = {**(expected["stages"] or {}), name: body}
    text = _spliced_add(doc, name, body)
    if text is not None and _reads_as(text, doc, expected, name):
        return text

    def change(stages: Any) -> None:
        if name in stages and isinstance(stages[name], Mapping):
            _merge(body, stages[name])
        else:
            stages[name] = body

    return _round_trip(doc, name, change)


def _spliced_add(doc: _Doc, name: str, body: dict[str, Any]) -> str | None:
    entries = doc.stage_nodes()
    if not entries:
        if doc.stages_node is not None:
            return None  # `stages:` empty or in flow style
        block = ["stages:\n", *_render(doc.style, name, body)]
        return doc.splice(len(doc.lines), len(doc.lines), block)
    index = _stage_index(doc, name)
    if index is None:
        _, last = doc.stage_span(len(entries) - 1)
        block = (["\n"] if doc.style.spaced else []) + _render(doc.style, name, body)
        return doc.splice(last + 1, last + 1, block)
    first, last = doc.stage_span(index)
    indent = doc.style.key_indent
    rt = _ruamel(doc.style, _WIDTH - indent)
    old = rt.load("".join(_dedent(line, indent) for line in doc.lines[first : last + 1]))
    if not isinstance(old, Mapping) or len(old) != 1:
        return None
    ((key, value),) = old.items()
    if isinstance(value, Mapping):
        anchor = getattr(value, "anchor", None)
        if anchor is not None and anchor.value:  # `a: &base`, which other stages name
            anchor.always_dump = True
        _merge(body, value)
    else:
        old[key] = body
    return doc.splice(first, last + 1, _indented(_dump(rt, old), indent))


def set_frozen(text: str, name: str, frozen: bool, *, origin: str = "dvc.yaml") -> str:
    """The text with stage `name` frozen (`frozen: true` after its other
    keys, as dvc adds it) or unfrozen (the key removed); only that line
    changes. Unchanged text when the stage already is so.

    Raises:
        TargetNotFoundError: the file has no such stage.
        PipelineError: the stage is made by `foreach` or `matrix`, whose
            members dvc cannot freeze one by one either.
        DvcFileError: the file is not YAML or not a mapping of stages.
    """
    doc = _Doc(text, origin)
    body = doc.stages.get(name)
    if body is None and "@" in name and name.rpartition("@")[0] in doc.stages:
        body = doc.stages[name.rpartition("@")[0]]
    if not isinstance(body, dict):
        raise TargetNotFoundError(
            name, f"'{origin}' has no such stage; list them with: bale stage list"
        )
    if name not in doc.stages or "foreach" in body or "matrix" in body:
        raise PipelineError(
            f"stage '{name}' in '{origin}' is generated by foreach or matrix; "
            "set 'frozen: true' in its definition by hand"
        )
    if bool(body.get("frozen")) == frozen and ("frozen" in body) == frozen:
        return text
    expected = copy.deepcopy(doc.data)
    stage = expected["stages"][name]
    if frozen:
        stage["frozen"] = True
    else:
        del stage["frozen"]
    spliced = _spliced_frozen(doc, name, frozen)
    if spliced is not None and _reads_as(spliced, doc, expected, name):
        return spliced

    def change(stages: Any) -> None:
        if frozen:
            stages[name]["frozen"] = True
        else:
            del stages[name]["frozen"]

    return _round_trip(doc, name, change)


def _spliced_frozen(doc: _Doc, name: str, frozen: bool) -> str | None:
    index = _stage_index(doc, name)
    if index is None:
        return None
    _, value = doc.stage_nodes()[index]
    if not isinstance(value, yaml.MappingNode) or value.flow_style or not value.value:
        return None
    column = value.value[0][0].start_mark.column
    line = f"{' ' * column}frozen: true\n"
    for key, item in value.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "frozen":
            first, last = key.start_mark.line, _last_line(item)
            if doc.lines[first][: key.start_mark.column].strip():
                return None
            return doc.splice(first, last + 1, [line] if frozen else [])
    if not frozen:
        return None
    _, last = doc.stage_span(index)
    return doc.splice(last + 1, last + 1, [line])
