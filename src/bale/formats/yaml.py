"""YAML in the dialect DVC writes.

Reading uses PyYAML's C loader when present (thousands of `.dvc` files must
load fast). Writing mimics ruamel.yaml's defaults as DVC uses them: block
style, 2-space indent, sequences at their parent's indent, YAML 1.2 scalars
(so `on`/`yes` stay plain), unicode kept as is.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import yaml


class _Resolver12(yaml.resolver.BaseResolver):
    """The YAML 1.2 resolvers ruamel.yaml uses (its `implicit_resolvers`), in its order.

    A string that one of these would read as another type is quoted when
    dumped, so they must match ruamel's exactly for DVC's quoting to match:
    `'2001-12-14'`, `'-.5'` and `'='` are quoted, `.5e3` is not.
    """


_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Resolver12.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?"
        r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
    ),
    list("0123456789"),
)
_Resolver12.add_implicit_resolver("tag:yaml.org,2002:value", re.compile(r"^(?:=)$"), ["="])


class Timestamp(str):
    """A plain YAML timestamp, kept as the text it was written as.

    Read as a string so a rewrite gives back the same characters (a datetime
    would come back in another spelling); dumped plain, as it was.
    """


try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml

    class _Parser(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer
    ):
        def __init__(self, stream: Any) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


class _Loader(_Parser, yaml.constructor.SafeConstructor, _Resolver12):
    """A safe loader with the 1.2 resolver: DVC reads with ruamel, YAML 1.2."""

    def __init__(self, stream: Any) -> None:
        _Parser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver12.__init__(self)


def _construct_timestamp(loader: Any, node: yaml.Node) -> Timestamp:
    return Timestamp(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(
    "tag:yaml.org,2002:value", yaml.constructor.SafeConstructor.construct_yaml_str
)


# Deeper nesting is refused: libyaml's composer recurses on the C stack and
# crashes the process past about 10,000 levels, and Python recursion in the
# readers above fails long before that; no DVC file nests this deep.
MAX_DEPTH = 200


def check_depth(text: str) -> None:
    """Raise yaml.YAMLError when collections in `text` nest deeper than MAX_DEPTH.

    Block nesting is bounded by the longest line (each level needs a column of
    indent or an indicator on that line), flow nesting by the brackets; only
    a text past that bound pays for a pass over libyaml's events.
    """
    longest = max(map(len, text.splitlines()), default=0)
    if longest + 1 + text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"collections nest deeper than {MAX_DEPTH} levels",
                    problem_mark=event.start_mark,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_yaml(text: str) -> Any:
    """Parse YAML text; raises yaml.YAMLError on malformed input."""
    check_depth(text)
    return yaml.load(text, Loader=_Loader)


class _Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    _Resolver12,
):
    def __init__(self, stream: Any, **kwargs: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self,
            stream,
            canonical=None,
            indent=2,
            width=None,
            allow_unicode=True,
            line_break=None,
        )
        yaml.serializer.Serializer.__init__(self, explicit_start=None, explicit_end=None)
        yaml.representer.SafeRepresenter.__init__(
            self, default_style=None, default_flow_style=False, sort_keys=False
        )
        _Resolver12.__init__(self)

    def represent_none(self, data: Any) -> yaml.Node:
        return self.represent_scalar("tag:yaml.org,2002:null", "")

    def represent_timestamp(self, data: Any) -> yaml.Node:
        return self.represent_scalar("tag:yaml.org,2002:timestamp", str(data))

    def choose_scalar_style(self) -> str:
        """ruamel.yaml's choice: like PyYAML's, but a string that cannot be
        plain and holds a `'` or a newline is double-quoted, not single-quoted.
        Unlike ruamel.yaml, NEL and the Unicode line and paragraph separators
        are always escaped in double quotes, so they survive a round trip."""
        if self.analysis is None:
            self.analysis = self.analyze_scalar(self.event.value)
        analysis, style, value = self.analysis, self.event.style, self.event.value
        if style == '"' or self.canonical:
            return '"'
        plain_ok = (
            analysis.allow_flow_plain if self.flow_level else analysis.allow_block_plain
        ) and not (self.simple_key_context and (analysis.empty or analysis.multiline))
        if not style and self.event.implicit[0] and plain_ok:
            return ""
        if style and style in "|>" and not self.flow_level and not self.simple_key_context:
            return style
        if not style and analysis.allow_double_quoted and ("'" in value or "\n" in value):
            return '"'
        if any(ch in value for ch in "\x85\u2028\u2029"):
            # ruamel.yaml single-quotes these and reads them back as spaces;
            # only an escape keeps the value.
            return '"'
        single_ok = analysis.allow_single_quoted and not (
            self.simple_key_context and analysis.multiline
        )
        if (not style or style == "'") and single_ok:
            return "'"
        return '"'

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        """ruamel.yaml's `write_double_quoted`: escapes as PyYAML does (plus
        astral characters kept as is), folds long lines without a backslash
        where the fold reads back as the same text."""
        self.write_indicator('"', True)
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if (
                ch is None
                or ch in '"\\\x85\u2028\u2029\ufeff'
                or not (
                    "\x20" <= ch <= "\x7e"
                    or (
                        self.allow_unicode
                        and (
                            "\xa0" <= ch <= "\ud7ff"
                            or "\ue000" <= ch <= "\ufffd"
                            or "\U00010000" <= ch <= "\U0010ffff"
                        )
                    )
                )
            ):
                if start < end:
                    data = text[start:end]
                    self.column += len(data)
                    self.stream.write(data)
                    start = end
                if ch is not None:
                    if ch in self.ESCAPE_REPLACEMENTS:
                        data = "\\" + self.ESCAPE_REPLACEMENTS[ch]
                    elif ch <= "\xff":
                        data = f"\\x{ord(ch):02X}"
                    elif ch <= "\uffff":
                        data = f"\\u{ord(ch):04X}"
                    else:
                        data = f"\\U{ord(ch):08X}"
                    self.column += len(data)
                    self.stream.write(data)
                    start = end + 1
            if (
                0 < end < len(text) - 1
                and (ch == " " or start >= end)
                and self.column + (end - start) > self.best_width
                and split
            ):
                need_backslash = True
                try:
                    space_pos = text.index(" ", end)
                    with contextlib.suppress(ValueError, IndexError):
                        space_pos = text.index("\n", end, space_pos)
                    if text[space_pos] == "\n" and text[space_pos + 1] != " ":
                        pass
                    elif (
                        '"' not in text[end:space_pos]
                        and "'" not in text[end:space_pos]
                        and text[space_pos + 1] not in " \n"
                        and text[end - 1 : end + 1] != "  "
                        and start != end
                    ):
                        need_backslash = False
                except (ValueError, IndexError):
                    pass
                data = text[start:end] + ("\\" if need_backslash else "")
                if start < end:
                    start = end
                self.column += len(data)
                self.stream.write(data)
                self.write_indent()
                self.whitespace = False
                self.indention = False
                if text[start] == " ":
                    if not need_backslash:
                        start += 1
                    data = "\\" if need_backslash else ""
                    self.column += len(data)
                    self.stream.write(data)
            end += 1
        self.write_indicator('"', False)

    def write_plain(self, text: str, split: bool = True) -> None:
        """ruamel.yaml's `write_plain`, which folds long lines unlike PyYAML's.

        It breaks at a single space once the column reaches the width (PyYAML:
        passes it), and moves a word that would cross the width to the next
        line, leaving the space before it at the end of the line.
        """
        if self.root_context:
            self.open_ended = True
        if not text:
            return
        if not self.whitespace:
            self.column += 1
            self.stream.write(" ")
        self.whitespace = False
        self.indention = False
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch != " ":
                    if start + 1 == end and self.column >= self.best_width and split:
                        self.write_indent()
                        self.whitespace = False
                        self.indention = False
                    else:
                        data = text[start:end]
                        self.column += len(data)
                        self.stream.write(data)
                    start = end
            elif breaks:
                if ch not in "\n\x85\u2028\u2029":
                    if text[start] == "\n":
                        self.write_line_break()
                    for br in text[start:end]:
                        self.write_line_break(None if br == "\n" else br)
                    self.write_indent()
                    self.whitespace = False
                    self.indention = False
                    start = end
            elif ch is None or ch in " \n\x85\u2028\u2029":
                data = text[start:end]
                if (
                    len(data) + self.column > self.best_width
                    and self.indent is not None
                    and self.column > self.indent
                ):
                    # words longer than line length get a line of their own
                    self.write_indent()
                self.column += len(data)
                self.stream.write(data)
                start = end
            if ch is not None:
                spaces = ch == " "
                breaks = ch in "\n\x85\u2028\u2029"
            end += 1


_Dumper.add_representer(type(None), _Dumper.represent_none)
_Dumper.add_representer(Timestamp, _Dumper.represent_timestamp)


def dump_yaml(data: Any) -> str:
    """Serialise plain data (dicts keep their order) the way DVC writes it."""
    return yaml.dump(data, Dumper=_Dumper)
