"""DVC's config files: `.dvc/config`, `.dvc/config.local`, global and system.

Files are configobj INI, read and written as DVC does: section names and keys
are lower-cased on read (`[Core]` is `[core]`, `['remote "MyStore"']` is remote
`mystore`), named sections look like `['remote "name"']`, values with commas
are quoted. Every file is checked against `bale.repo.schema` as it is read;
a remote's problems stop only the commands that use that remote.
Rewriting a file keeps every section, key and comment it does not change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bale.errors import ConfigError
from bale.fsutil import atomic_write
from bale.remotes.base import as_bool
from bale.repo import schema
from bale.repo.schema import Problem

LEVELS = ("system", "global", "repo", "local")
# The command-line flag naming each level, as dvc spells them.
LEVEL_FLAGS = {"system": "--system", "global": "--global", "repo": "--project", "local": "--local"}
Sections = dict[tuple[str, str | None], dict[str, str]]
_NAMED = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')


def level_paths(dvc_dir: str | None) -> dict[str, str]:
    """Where each level's file lives; env overrides as DVC honours them."""
    home_cfg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    paths = {
        "system": os.path.join(os.environ.get("DVC_SYSTEM_CONFIG_DIR", "/etc/xdg/dvc"), "config"),
        "global": os.path.join(
            os.environ.get("DVC_GLOBAL_CONFIG_DIR", os.path.join(home_cfg, "dvc")), "config"
        ),
    }
    if dvc_dir:
        paths["repo"] = os.path.join(dvc_dir, "config")
        paths["local"] = os.path.join(dvc_dir, "config.local")
    return paths


def shown_path(path: str) -> str:
    """A config file's path for messages: relative below the current folder."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


_SECTION = re.compile(r"^\[\s*(?:'([^'\[\]]*)'|\"([^\"\[\]]*)\"|([^'\"\[\]]*?))\s*\]$")
_KEY = re.compile(r"^([A-Za-z0-9_.-]+)\s*=\s*(.*)$")


def _read_simple(text: str) -> dict[str, dict[str, str]] | None:
    """Read the plain INI DVC writes without importing configobj (start-up
    time); None for anything fancier, which configobj then reads."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SECTION.match(line)
        if match:
            name = next(g for g in match.groups() if g is not None)
            if name in sections:
                return None  # configobj refuses it, with the line
            current = sections[name] = {}
            continue
        match = _KEY.match(line)
        if match is None or current is None or match.group(1) in current:
            return None
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
            if "'" in value or '"' in value:
                return None
        elif any(c in value for c in ",#'\""):
            return None
        current[key] = value
    return sections


def _parse_obj(source: Any, path: str) -> Any:
    from configobj import ConfigObj, ConfigObjError

    try:
        return ConfigObj(source, encoding="utf-8", interpolation=False, write_empty_values=True)
    except (ConfigObjError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown_path(path)}: cannot parse config ({exc}); fix the file") from exc
    except OSError as exc:
        raise _io_error("read", path, exc) from exc


def _io_error(action: str, path: str, exc: OSError) -> ConfigError:
    folder = shown_path(os.path.dirname(path) or ".")
    return ConfigError(
        f"cannot {action} {shown_path(path)}: {exc.strerror or exc}; "
        f"check the permissions of {folder} and the file, then run the command again"
    )


def section_key(name: str) -> tuple[str, str | None]:
    """`remote "s3"` -> ("remote", "s3"); `Core` -> ("core", None). Lower-cased
    whole, as dvc reads them."""
    lowered = name.lower()
    match = _NAMED.match(lowered)
    if match:
        return match.group(1), match.group(2)
    return lowered.strip(), None


def _section_name(kind: str, name: str | None) -> str:
    return f'{kind} "{name}"' if name is not None else kind


def _as_str(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def _sections(raw: Mapping[str, Any], path: str) -> Sections:
    """A file's sections as dvc reads them: names and keys lower-cased."""
    sections: Sections = {}
    for sec_name, section in raw.items():
        if not isinstance(section, Mapping):
            raise ConfigError(
                f"{shown_path(path)}: '{sec_name}' is outside any section; "
                "move it under one (e.g. [core]) or remove it"
            )
        keys = {}
        for key, value in section.items():
            if isinstance(value, Mapping):
                raise ConfigError(
                    f"{shown_path(path)}: [{sec_name}] holds a nested section [[{key}]], "
                    "which DVC does not read; remove it"
                )
            keys[key.lower()] = _as_str(value)
        sections[section_key(sec_name)] = keys
    return sections


def read_file(path: str) -> Sections:
    """One config file's sections, values as written; {} when it is absent.

    Raises:
        ConfigError: it cannot be read or parsed.
    """
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown_path(path)}: cannot parse config ({exc}); fix the file") from exc
    except OSError as exc:
        raise _io_error("read", path, exc) from exc
    return parse_text(text, path)


def parse_text(text: str, path: str) -> Sections:
    """A config file's sections from its text (`path` names it in errors):
    for files read from git, not from disk.

    Raises:
        ConfigError: it cannot be parsed.
    """
    raw = _read_simple(text)
    return _sections(raw if raw is not None else _parse_obj(text.splitlines(), path), path)


class Config:
    """The merged view of some levels; `sources` tells which level set a key,
    `problems` what the schema found wrong (once `load_config` checked: only
    remotes' problems, which `remote_problem` tells)."""

    def __init__(
        self,
        values: dict[tuple[str, str | None], dict[str, str]],
        sources: dict[tuple[str, str | None, str], str],
        problems: Sequence[Problem] = (),
        paths: Mapping[str, str] | None = None,
    ) -> None:
        self.values = values
        self.sources = sources
        self.problems = list(problems)
        self.paths = dict(paths or {})

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        return self.values.get((section, None), {}).get(key, default)

    def get_bool(self, section: str, key: str, default: bool = False) -> bool:
        value = self.get(section, key)
        if value is None:
            return default
        parsed = as_bool(value)
        if parsed is None:
            raise ConfigError(f"{section}.{key} must be true or false, not '{value}'")
        return parsed

    def remotes(self) -> dict[str, dict[str, str]]:
        return {
            name: opts for (kind, name), opts in self.values.items() if kind == "remote" and name
        }

    def entries(self) -> Iterator[tuple[str, str | None, str, str]]:
        """Every (section, name, key, value), sections in name order."""
        for (kind, name), opts in sorted(
            self.values.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            for key, value in opts.items():
                yield kind, name, key, value

    def messages(self) -> list[str]:
        """Each problem, worded for a person: file, what, and the fix."""
        return [describe(p, self.paths[p.level]) for p in self.problems]

    def remote_problem(self, name: str) -> str | None:
        """Why remote `name` cannot be used, or None."""
        for problem in self.problems:
            if problem.section == "remote" and problem.name == name:
                return describe(problem, self.paths[problem.level])
        return None


def describe(problem: Problem, path: str, *, setting: bool = False) -> str:
    """`problem` as one line naming its file and, unless the command was
    `setting` that very option (nothing written), the command that fixes it."""
    text = f"{shown_path(path)}: {problem.text}"
    if setting:
        return text
    flag = "" if problem.level == "repo" else LEVEL_FLAGS[problem.level] + " "
    if problem.key is None:
        fix = "fix or remove that section"
    elif problem.section == "remote" and problem.key == "url":
        fix = f"run: bale remote modify {flag}{problem.name} url URL"
    elif problem.section == "remote":
        unset = "-u " if problem.unknown else ""
        value = "" if problem.unknown else " VALUE"
        fix = f"run: bale remote modify {flag}{unset}{problem.name} {problem.key}{value}"
    else:
        name = schema.dotted(problem.section, problem.name, problem.key)
        change = f"--unset {name}" if problem.unknown else f"{name} VALUE"
        fix = f"run: bale config {flag}{change}"
    return f"{text}; {fix}"


def merge_files(files: Sequence[tuple[str, str, Sections]]) -> Config:
    """Merge (level, path, sections), lowest precedence first: relative paths
    made absolute against their file's folder, every problem recorded."""
    values: dict[tuple[str, str | None], dict[str, str]] = {}
    sources: dict[tuple[str, str | None, str], str] = {}
    problems: list[Problem] = []
    for level, path, sections in files:
        problems.extend(schema.section_problems(sections, level))
        base = os.path.dirname(path)
        for (kind, name), section in sections.items():
            merged = values.setdefault((kind, name), {})
            for key, value in section.items():
                if _is_path(kind, name, key) and value and _is_relative_path(value):
                    value = os.path.normpath(os.path.join(base, value))
                merged[key] = schema.normalized(kind, name, key, value)
                sources[(kind, name, key)] = level
    for (kind, name), options in values.items():
        if kind == "remote" and name is not None:
            levels = {key: sources[(kind, name, key)] for key in options}
            problems.extend(schema.remote_problems(name, options, levels))
    cache_dir = values.get(("cache", None), {}).get("dir")
    if cache_dir and (problem := folder_problem(cache_dir)):
        level = sources[("cache", None, "dir")]
        problems.append(Problem("cache", None, "dir", f"cache.dir {problem}", False, level))
    return Config(values, sources, problems, {level: path for level, path, _ in files})


def _is_path(kind: str, name: str | None, key: str) -> bool:
    if kind == "remote":
        return key in schema.REMOTE_PATHS
    return schema.kind_of(kind, name, key) in (schema.PATH, schema.DIR)


def folder_problem(path: str) -> str | None:
    """What keeps `path` from being a folder (it need not exist yet), or None."""
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent
    if os.path.isdir(probe):
        return None
    if probe == path:
        return f"'{path}' is a file, not a folder"
    return f"'{path}' lies under '{probe}', which is a file"


def load_paths(
    paths: Mapping[str, str], *, check: bool = True, planned: Mapping[str, Sections] | None = None
) -> Config:
    """Merge these levels' files (`planned`: contents to use instead of a file's).

    A remote's problems are kept in `problems`, not raised: they stop only the
    commands that use that remote (`remote_spec`), so the others, and listing
    and fixing the remote, still work.

    Raises:
        ConfigError: a file cannot be read, or, if `check`, breaks the schema
            outside its remotes.
    """
    planned = planned or {}
    files = [
        (level, path, planned[path] if path in planned else read_file(path))
        for level, path in paths.items()
    ]
    config = merge_files(files)
    if check:
        for problem in config.problems:
            if problem.section != "remote":
                raise ConfigError(describe(problem, config.paths[problem.level]))
    return config


def load_config(
    dvc_dir: str | None, *, levels: tuple[str, ...] = LEVELS, check: bool = True
) -> Config:
    """Merge the levels, lowest precedence first; relative paths made absolute.

    Raises:
        ConfigError: a file cannot be read, or, if `check`, breaks the schema
            outside its remotes (see `load_paths`).
    """
    paths = {lv: p for lv, p in level_paths(dvc_dir).items() if lv in levels}
    return load_paths(paths, check=check)


def stored_path(value: str, config_path: str) -> str:
    """A relative folder path as written into `config_path`: relative to that
    file's folder, as DVC stores it (given relative to the current folder)."""
    if not value or not _is_relative_path(value):
        return value
    return os.path.relpath(os.path.abspath(value), os.path.dirname(config_path))


def stored_value(kind: str, name: str | None, key: str, value: str, config_path: str) -> str:
    """`value` as written into `config_path`: as given (dvc keeps `FALSE` and
    ` 4`), but a relative path made relative to the file's folder."""
    return stored_path(value, config_path) if _is_path(kind, name, key) else value


def _is_relative_path(value: str) -> bool:
    return "://" not in value and not os.path.isabs(value) and not value.startswith("~")


def parse_name(name: str) -> tuple[str, str | None, str]:
    """`core.remote` -> (core, None, remote); `remote.S3.url` -> (remote, s3, url)."""
    parts = name.lower().split(".")
    if len(parts) == 2 and all(parts):
        return parts[0], None, parts[1]
    if len(parts) >= 3 and parts[0] in ("remote", "machine", "db") and all(parts):
        return parts[0], ".".join(parts[1:-1]), parts[-1]
    raise ConfigError(
        f"'{name}' is not a config name; use SECTION.KEY (e.g. core.remote) or remote.NAME.OPTION"
    )


class ConfigFile:
    """One level's file opened for editing; configobj keeps its comments and order."""

    def __init__(self, path: str) -> None:
        self.path = path
        if os.path.lexists(path):
            self._obj = _parse_obj(path, path)
        else:
            self._obj = _parse_obj(None, path)

    def sections(self) -> Sections:
        """What the file would hold, as `read_file` reads it."""
        return _sections(self._obj, self.path)

    def section(self, kind: str, name: str | None) -> dict[str, str] | None:
        """One section's keys (None: the file has no such section)."""
        return self.sections().get((kind, name))

    def set(self, kind: str, name: str | None, key: str, value: str) -> None:
        """Set a key; a new plain section goes before the named ones, where dvc writes it."""
        sec = self._find(kind, name)
        if sec is None:
            sec = _section_name(kind, name)
            self._obj[sec] = {}
            if name is None:
                self._move_before_named(sec)
        self._obj[sec][self._key(sec, key) or key] = value

    def unset(self, kind: str, name: str | None, key: str, *, keep_empty: bool = False) -> bool:
        """Remove a key; a section it empties goes too, unless `keep_empty` (what
        `remote modify -u` does in dvc). False: it was not set."""
        sec = self._find(kind, name)
        found = self._key(sec, key) if sec is not None else None
        if found is None:
            return False
        del self._obj[sec][found]
        if not self._obj[sec] and not keep_empty:
            del self._obj[sec]
        return True

    def remove(self, kind: str, name: str) -> bool:
        """Remove a whole section; False: there was none."""
        sec = self._find(kind, name)
        if sec is not None:
            del self._obj[sec]
        return sec is not None

    def write(self) -> None:
        """Replace the file atomically.

        Raises:
            ConfigError: it cannot be written (the message names the file, not
                the temporary one, which is gone).
        """
        obj = self._obj
        obj.filename = None
        if not obj.indent_type:
            obj.indent_type = "    "  # what DVC's files use
        lines = [ln.decode("utf-8") if isinstance(ln, bytes) else ln for ln in obj.write()]
        text = "\n".join(lines) + "\n" if lines else ""
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            atomic_write(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise _io_error("write", self.path, exc) from exc

    def _find(self, kind: str, name: str | None) -> str | None:
        wanted = (kind, name.lower() if name is not None else None)
        for sec_name in self._obj.sections:
            if section_key(sec_name) == wanted:
                return sec_name
        return None

    def _key(self, sec: str, key: str) -> str | None:
        """The key as the file spells it (keys are read lower-cased)."""
        return next((k for k in self._obj[sec].scalars if k.lower() == key), None)

    def _move_before_named(self, sec: str) -> None:
        order = [s for s in self._obj.sections if s != sec]
        first_named = next((i for i, s in enumerate(order) if section_key(s)[1] is not None), None)
        if first_named is not None:
            order.insert(first_named, sec)
            self._obj.sections[:] = order


def edit_config(path: str, edits: list[tuple[str, str | None, str, str | None]]) -> None:
    """Apply (kind, name, key, value-or-None-to-unset) edits to one file
    atomically, unchecked: for files bale itself creates (`bale init`)."""
    config_file = ConfigFile(path)
    for kind, name, key, value in edits:
        if value is None:
            config_file.unset(kind, name, key)
        else:
            config_file.set(kind, name, key, value)
    config_file.write()
