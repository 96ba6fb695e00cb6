"""The one config schema: which sections and keys exist and what values they take.

DVC 3.67's (`dvc/config_schema.py`), so that bale reads every config dvc reads
and writes none dvc would refuse; remote options, per URL scheme, come from
`bale.remotes.registry`. bale adds a few checks where a value dvc takes could
never work (a port out of range, a URL with no host, a negative timeout).
Pure: problems are returned, `bale.repo.config` says where and how to fix them.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping

from bale.errors import ConfigError
from bale.remotes.base import as_bool, display_url
from bale.remotes.registry import (
    BOOL,
    COUNT,
    DIR,
    ENDPOINT,
    INT,
    LINKS,
    LOWER,
    NUMBER,
    PATH,
    PERCENT,
    PORT,
    SCHEMES,
    SECRET,
    TEXT,
    URL,
    Kind,
    endpoint_problem,
    scheme_of,
    url_problem,
)

SECTIONS: dict[str, dict[str, Kind]] = {
    "core": {
        "remote": LOWER, "checksum_jobs": COUNT, "interactive": BOOL, "analytics": BOOL,
        "hardlink_lock": BOOL, "no_scm": BOOL, "autostage": BOOL, "experiments": BOOL,
        "check_update": BOOL, "site_cache_dir": TEXT, "machine": LOWER,
    },
    "cache": {
        "local": TEXT, "s3": TEXT, "gs": TEXT, "hdfs": TEXT, "webhdfs": TEXT, "ssh": TEXT,
        "azure": TEXT, "dir": DIR, "type": LINKS, "protected": BOOL, "shared": ("group",),
        "slow_link_warning": BOOL, "verify": BOOL,
    },
    "state": {"dir": TEXT, "row_limit": COUNT, "row_cleanup_quota": PERCENT},
    "index": {"dir": TEXT},
    "feature": {"machine": BOOL},
    "plots": {"html_template": TEXT, "auto_open": BOOL, "out_dir": TEXT},
    "exp": {
        "code": TEXT, "data": TEXT, "models": TEXT, "metrics": TEXT, "params": TEXT,
        "plots": TEXT, "live": TEXT, "auto_push": BOOL, "git_remote": TEXT,
    },
    "parsing": {"bool": ("store_true", "boolean_optional"), "list": ("nargs", "append")},
    "hydra": {
        "enabled": BOOL, "config_dir": TEXT, "config_module": TEXT, "config_name": TEXT,
        "plugins_path": TEXT,
    },
    "studio": {"token": SECRET, "url": TEXT, "repo_url": TEXT, "offline": BOOL},
}  # fmt: skip
# Sections of many, each named: `['db "name"']`. A remote's options depend on
# its URL's scheme (`registry.SCHEMES`).
NAMED: dict[str, dict[str, Kind]] = {
    "machine": {
        "cloud": ("aws", "azure"), "region": ("us-west", "us-east", "eu-west", "eu-north"),
        "image": TEXT, "spot": BOOL, "spot_price": NUMBER, "instance_hdd_size": INT,
        "instance_type": LOWER, "instance_gpu": LOWER, "ssh_private": TEXT,
        "startup_script": PATH, "setup_script": PATH,
    },
    "db": {"url": TEXT, "username": TEXT, "password": SECRET},
}  # fmt: skip
# dvc keeps [feature] keys it does not know (it warns and ignores them): so does bale.
OPEN_SECTIONS = frozenset({"feature"})
# At most one key of each group per section (dvc's voluptuous Exclusive).
EXCLUSIVE = {"hydra": ("config_dir", "config_module")}
LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")

_REMOTE_KINDS = [spec.options or {} for spec in SCHEMES.values()]
# dvc resolves and masks these remote options by name, whatever the scheme.
REMOTE_PATHS = frozenset(k for t in _REMOTE_KINDS for k, kind in t.items() if kind in (PATH, URL))
SECRETS = frozenset(
    key
    for table in [*SECTIONS.values(), *NAMED.values(), *_REMOTE_KINDS]
    for key, kind in table.items()
    if kind == SECRET
)


# collections' namedtuple, not typing's, whose annotations cost start-up time.
class Problem(namedtuple("Problem", "section name key text unknown level")):
    """One thing wrong in a config file: which option (`key` None: the whole
    section), what, and at which level. `unknown`: the name itself is wrong."""

    __slots__ = ()

    section: str
    name: str | None
    key: str | None
    text: str
    unknown: bool
    level: str


def dotted(section: str, name: str | None, key: str) -> str:
    """`core.remote`, `remote.NAME.url`: how `bale config` names an option."""
    return f"{section}.{name}.{key}" if name is not None else f"{section}.{key}"


_NUMBERS = {
    COUNT: (int, 1, float("inf"), "a whole number >= 1"),
    INT: (int, 0, float("inf"), "a whole number >= 0"),
    NUMBER: (float, 0, float("inf"), "a number >= 0"),
    PERCENT: (int, 0, 100, "a whole number from 0 to 100"),
    PORT: (int, 1, 65535, "a whole number from 1 to 65535"),
}


def value_problem(kind: Kind, value: str) -> str | None:
    """What is wrong with `value` for an option of `kind`, worded to follow the
    option's name (`core.no_scm must be true or false, not 'maybe'`), or None."""
    if isinstance(kind, tuple):
        return None if value.lower() in kind else f"must be one of {', '.join(kind)}, not '{value}'"
    if kind == BOOL:
        return None if as_bool(value) is not None else f"must be true or false, not '{value}'"
    if kind in _NUMBERS:
        parse, low, high, what = _NUMBERS[kind]
        try:
            number = parse(value)
        except ValueError:
            number = None
        if number is not None and low <= number <= high:
            return None
        return f"must be {what}, not '{value}'"
    if kind == URL:
        problem = url_problem(value)
        return f"'{display_url(value)}': {problem}" if problem else None
    if kind == ENDPOINT:
        problem = endpoint_problem(value)
        return f"'{value}': {problem}" if problem else None
    if kind == LINKS:
        parts = [part.strip() for part in value.split(",")]
        if all(part in LINK_TYPES for part in parts):
            return None
        return f"'{value}' is not valid; use a comma-separated list of {', '.join(LINK_TYPES)}"
    return None


def parse_link_types(name: str, value: str) -> tuple[str, ...]:
    """`reflink,copy` -> ("reflink", "copy").

    Raises:
        ConfigError: empty, or a name that is not a link type.
    """
    problem = value_problem(LINKS, value)
    if problem:
        raise ConfigError(f"{name} {problem}")
    return tuple(part.strip() for part in value.split(","))


def table_of(section: str, name: str | None) -> dict[str, Kind] | None:
    """The keys a plain or named section takes (None: not a section there is)."""
    return NAMED.get(section) if name is not None else SECTIONS.get(section)


def kind_of(section: str, name: str | None, key: str) -> Kind | None:
    """The kind of a plain or named section's key; None if there is no such key
    (or it is a remote's, whose kinds depend on the scheme)."""
    return (table_of(section, name) or {}).get(key)


def normalized(section: str, name: str | None, key: str, value: str) -> str:
    """The value as dvc reads it: lower-cased where dvc lower-cases it."""
    kind = kind_of(section, name, key)
    return value.lower() if kind == LOWER or isinstance(kind, tuple) else value


def section_problems(
    sections: Mapping[tuple[str, str | None], Mapping[str, str]], level: str
) -> Iterator[Problem]:
    """What is wrong in one file's sections, but for remotes' options: those
    depend on the URL, which another level may set (`remote_problems`)."""
    for (section, name), keys in sections.items():
        if section == "remote" and name is not None:
            continue
        if name is None and section in ("remote", *NAMED):
            text = f"[{section}] needs a name, as in ['{section} \"NAME\"']"
            yield Problem(section, None, None, text, True, level)
            continue
        table = table_of(section, name)
        if table is None:
            known = ", ".join(sorted({*SECTIONS, *NAMED, "remote"}))
            text = f"'{section}' is not a config section; known: {known}"
            yield Problem(section, name, None, text, True, level)
            continue
        for key, value in keys.items():
            kind = table.get(key)
            if kind is None and section not in OPEN_SECTIONS:
                where = f"[{section}]" if name is None else f"'{section}' sections"
                text = (
                    f"'{dotted(section, name, key)}' is not a config option; "
                    f"known in {where}: {', '.join(sorted(table))}"
                )
                yield Problem(section, name, key, text, True, level)
            elif kind is not None and (phrase := value_problem(kind, value)):
                text = f"{dotted(section, name, key)} {phrase}"
                yield Problem(section, name, key, text, False, level)
        group = EXCLUSIVE.get(section, ())
        if sum(key in keys for key in group) > 1:
            text = f"[{section}] may set only one of {', '.join(group)}"
            yield Problem(section, name, group[-1], text, False, level)


def remote_problems(
    name: str, options: Mapping[str, str], levels: Mapping[str, str]
) -> Iterator[Problem]:
    """What is wrong with one remote, all levels merged: its URL, and each
    option against what its scheme takes. `levels` says which level set each key."""
    first_level = next(iter(levels.values()), "repo")
    url = options.get("url")
    if url is None:
        yield Problem("remote", name, "url", f"remote '{name}' has no url", False, first_level)
        return
    problem = value_problem(URL, url)
    if problem:
        yield Problem("remote", name, "url", f"remote.{name}.url {problem}", False, levels["url"])
        return
    spec = SCHEMES[scheme_of(url)]
    if spec.options is None:
        return
    for key, value in options.items():
        kind = spec.options.get(key)
        if kind is None:
            text = (
                f"'{key}' is not a remote option for {spec.label} remotes; "
                f"they take: {', '.join(sorted(spec.options))}"
            )
            yield Problem("remote", name, key, text, True, levels[key])
        elif phrase := value_problem(kind, value):
            text = f"remote.{name}.{key} {phrase}"
            yield Problem("remote", name, key, text, False, levels[key])
