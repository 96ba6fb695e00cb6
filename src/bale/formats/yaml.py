"""YAML in the dialect DVC writes.

Reading uses PyYAML's C loader when present (thousands of `.dvc` files must
load fast). Writing mimics ruamel.yaml's defaults as DVC uses them: block
style, 2-space indent, sequences at their parent's indent, YAML 1.2 scalars
(so `on`/`yes` stay plain), unicode kept as is.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class _Resolver12(yaml.resolver.BaseResolver):
    """The YAML 1.2 core schema, which ruamel.yaml uses when dumping."""


_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
_Resolver12.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


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


def load_yaml(text: str) -> Any:
    """Parse YAML text; raises yaml.YAMLError on malformed input."""
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


_Dumper.add_representer(type(None), _Dumper.represent_none)


def dump_yaml(data: Any) -> str:
    """Serialise plain data (dicts keep their order) the way DVC writes it."""
    return yaml.dump(data, Dumper=_Dumper)
