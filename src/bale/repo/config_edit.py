"""Reading and editing config levels: options (`bale config`) and remotes (`bale remote`).

Each function takes the files a command sees (`Levels`) and plain values, and
returns records; printing is the command line's job. Reading is lenient, so a
broken file can still be listed and fixed; an edit is refused, with nothing
written, when the files would hold a problem they did not hold before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from bale.errors import ConfigError, NotARepoError
from bale.remotes.registry import SCHEMES, scheme_of, url_problem
from bale.repo import schema
from bale.repo.config import (
    LEVEL_FLAGS,
    LEVELS,
    Config,
    ConfigFile,
    describe,
    level_paths,
    load_paths,
    parse_name,
    shown_path,
    stored_value,
)
from bale.repo.repository import DVC_DIR, find_root
from bale.repo.schema import Problem


class Levels(NamedTuple):
    """The config files a command sees from `start`, and the level it names
    (`chosen`; None: every level to read, the project's to write)."""

    start: str
    paths: Mapping[str, str]  # level -> file; the project's two only inside a repository
    chosen: str | None


class Option(NamedTuple):
    name: str  # `core.remote`, `remote.NAME.url`
    value: str
    path: str  # the file that sets it
    secret: bool  # never printed in listings


class RemoteInfo(NamedTuple):
    name: str
    url: str
    default: bool
    problem: str | None  # why it cannot be used, with the fix


def levels_at(start: str, chosen: str | None = None) -> Levels:
    """The levels seen from folder `start`.

    Raises:
        NotARepoError: `chosen` is the project's or local level, outside any repository.
    """
    try:
        dvc_dir: str | None = os.path.join(find_root(start), DVC_DIR)
    except NotARepoError:
        if chosen in ("repo", "local"):
            raise
        dvc_dir = None
    return Levels(start, level_paths(dvc_dir), chosen)


def _target(levels: Levels) -> str:
    """The file an edit writes."""
    level = levels.chosen or "repo"
    if level not in levels.paths:
        raise NotARepoError(levels.start)
    return levels.paths[level]


def _read(levels: Levels, *, shown: bool = True) -> Config:
    """The merged config, unchecked: of the chosen level only if `shown`."""
    paths = levels.paths
    if shown and levels.chosen:
        paths = {levels.chosen: paths[levels.chosen]}
    return load_paths(paths, check=False)


Touched = set[tuple[str, str | None, str]]


def _commit(levels: Levels, files: list[ConfigFile], touched: Touched) -> None:
    """Write the edited `files`, unless they would hold a new problem.

    `touched` names the options the command sets: a problem with one of those
    is the command's value, told without a fix (nothing is written).

    Raises:
        ConfigError: the first new problem, the command's own first.
    """
    before = set(_read(levels, shown=False).problems)
    planned = {f.path: f.sections() for f in files}
    after = load_paths(levels.paths, check=False, planned=planned).problems
    new = [p for p in after if p not in before]

    def own(problem: Problem) -> bool:
        # A new url problem of a remote the command edits is the edit's own
        # (`bale config remote.NEW.jobs 4` makes a remote with no url).
        return any(
            (problem.section, problem.name) == (section, name)
            and problem.key in (None, key, "url" if section == "remote" else key)
            for section, name, key in touched
        )

    new.sort(key=lambda p: not own(p))
    if new:
        raise ConfigError(describe(new[0], levels.paths[new[0].level], setting=own(new[0])))
    for config_file in files:
        config_file.write()


# -- options -------------------------------------------------------------------------------


def list_options(levels: Levels) -> list[Option]:
    """Every option set at the chosen level (or all, merged), sorted by section."""
    config = _read(levels)
    return [
        Option(
            schema.dotted(section, name, key),
            value,
            config.paths[config.sources[(section, name, key)]],
            key in schema.SECRETS,
        )
        for section, name, key, value in config.entries()
    ]


def get_option(levels: Levels, name: str) -> Option:
    """One option's value and the file that sets it.

    Raises:
        ConfigError: the name is not a config option, or it is not set.
    """
    section, sub, key = parse_name(name)
    config = _read(levels)
    value = config.values.get((section, sub), {}).get(key)
    if value is None:
        if not _known(section, sub, key, _read(levels, shown=False)):
            raise ConfigError(f"'{name}' is not a config option; see: bale config -l")
        raise ConfigError(f"option '{name}' is not set")
    path = config.paths[config.sources[(section, sub, key)]]
    return Option(name, value, path, key in schema.SECRETS)


def _known(section: str, name: str | None, key: str, config: Config) -> bool:
    if section != "remote":
        return schema.kind_of(section, name, key) is not None or section in schema.OPEN_SECTIONS
    url = config.remotes().get(name or "", {}).get("url")
    tables = [s.options for s in SCHEMES.values()]
    if url is not None and url_problem(url) is None:
        tables = [SCHEMES[scheme_of(url)].options]
    return any(table is None or key in table for table in tables)


def set_option(levels: Levels, name: str, value: str) -> None:
    """Set `name` (`core.remote`, `remote.NAME.OPTION`) at the chosen level.

    Raises:
        ConfigError: not a config option, or a value it does not take.
    """
    section, sub, key = parse_name(name)
    config_file = ConfigFile(_target(levels))
    config_file.set(section, sub, key, stored_value(section, sub, key, value, config_file.path))
    _commit(levels, [config_file], {(section, sub, key)})


def unset_option(levels: Levels, name: str) -> None:
    """Remove `name` from the chosen level's file; any name, so that a typo can go.

    Raises:
        ConfigError: that file does not set it.
    """
    section, sub, key = parse_name(name)
    config_file = ConfigFile(_target(levels))
    if not config_file.unset(section, sub, key):
        raise ConfigError(f"option '{name}' is not set in {shown_path(config_file.path)}")
    _commit(levels, [config_file], set())


def config_problems(levels: Levels) -> list[str]:
    """What is wrong in the files the chosen level's view reads, each with its fix."""
    config = _read(levels, shown=False)
    shown = {levels.chosen} if levels.chosen else set(LEVELS)
    return [describe(p, config.paths[p.level]) for p in config.problems if p.level in shown]


# -- remotes -------------------------------------------------------------------------------


def list_remotes(levels: Levels) -> list[RemoteInfo]:
    """The remotes of the chosen level (or all), each with what keeps it from working."""
    config = _read(levels)
    full = _read(levels, shown=False)
    default = config.get("core", "remote")
    return [
        RemoteInfo(name, opts.get("url", ""), name == default, full.remote_problem(name))
        for name, opts in config.remotes().items()
    ]


def default_remote(levels: Levels) -> str:
    """The default remote's name (`core.remote`).

    Raises:
        ConfigError: none is set.
    """
    default = _read(levels).get("core", "remote")
    if not default:
        raise ConfigError("no default remote is set; run: bale remote default NAME")
    return default


def add_remote(
    levels: Levels, name: str, url: str, *, default: bool = False, force: bool = False
) -> str:
    """Add remote `name` (lower-cased, as dvc does) at the chosen level; return its name.

    `force` replaces a remote of that name there, its other options with it.

    Raises:
        ConfigError: a bad name or URL, or the remote exists and not `force`.
    """
    name = name.lower()
    _check_name(name)
    config_file = ConfigFile(_target(levels))
    here = config_file.section("remote", name)
    if here is not None and not force:
        raise ConfigError(
            f"remote '{name}' already exists; use -f to overwrite, "
            f"or: bale remote modify {name} url URL"
        )
    for key in here or {}:
        if key != "url":
            config_file.unset("remote", name, key, keep_empty=True)
    stored = stored_value("remote", name, "url", url, config_file.path)
    config_file.set("remote", name, "url", stored)
    touched = {("remote", name, "url")}
    if default:
        config_file.set("core", None, "remote", name)
        touched.add(("core", None, "remote"))
    _commit(levels, [config_file], touched)
    return name


def modify_remote(levels: Levels, name: str, option: str, value: str | None) -> None:
    """Set (`value` None: unset) one option of an existing remote at the chosen level.

    Raises:
        ConfigError: no such remote, or an option or value its scheme does not take.
    """
    name, option = name.lower(), option.lower()
    _need(_read(levels, shown=False), name)
    config_file = ConfigFile(_target(levels))
    if value is None:
        config_file.unset("remote", name, option, keep_empty=True)
    else:
        stored = stored_value("remote", name, option, value, config_file.path)
        config_file.set("remote", name, option, stored)
    _commit(levels, [config_file], {("remote", name, option)} if value is not None else set())


def remove_remote(levels: Levels, name: str) -> None:
    """Remove a remote from the chosen level's files, and the default that names it.

    Raises:
        ConfigError: it is not in those files (the message says where it is).
    """
    name = name.lower()
    files = {f.path: f for f in _scope(levels, name) if f.remove("remote", name)}
    _defaults(levels, name, None, files)
    _commit(levels, list(files.values()), set())


def rename_remote(levels: Levels, old: str, new: str) -> None:
    """Rename a remote in the chosen level's files, and the defaults that name it.
    The new name keeps its case in the file, as dvc writes it.

    Raises:
        ConfigError: no such remote there, a bad new name, or one taken.
    """
    old = old.lower()
    _check_name(new)
    if new.lower() in _read(levels, shown=False).remotes():
        raise ConfigError(f"remote '{new}' already exists")
    files = {}
    for config_file in _scope(levels, old):
        section = config_file.section("remote", old)
        if section is None:
            continue
        # One write: the old section goes, the new one comes last (as DVC writes it).
        config_file.remove("remote", old)
        for key, value in section.items():
            config_file.set("remote", new, key, value)
        files[config_file.path] = config_file
    _defaults(levels, old, new, files)
    _commit(levels, list(files.values()), set())


def set_default_remote(levels: Levels, name: str | None) -> None:
    """Make `name` the default remote at the chosen level (None: unset it there).

    Raises:
        ConfigError: no such remote.
    """
    config_file = ConfigFile(_target(levels))
    if name is None:
        config_file.unset("core", None, "remote")
        _commit(levels, [config_file], set())
        return
    name = name.lower()
    _need(_read(levels, shown=False), name)
    config_file.set("core", None, "remote", name)
    _commit(levels, [config_file], {("core", None, "remote")})


def _scope(levels: Levels, name: str) -> list[ConfigFile]:
    """The files remove and rename edit: the chosen level's and, for the
    project's (the default), config.local too, where its keys live; never a
    level the user did not name (dvc 3.67 leaves the local part behind and
    then fails to read its own config).

    Raises:
        ConfigError: the remote is in none of them.
    """
    level = levels.chosen or "repo"
    _target(levels)
    edited = [level, "local"] if level == "repo" else [level]
    files = [ConfigFile(levels.paths[lv]) for lv in edited]
    if any(f.section("remote", name) is not None for f in files):
        return files
    config = _read(levels, shown=False)
    elsewhere = config.sources.get(("remote", name, "url"))
    if elsewhere:
        flag = LEVEL_FLAGS[elsewhere]
        raise ConfigError(
            f"remote '{name}' is set in the {flag[2:]} config, not in "
            f"{shown_path(files[0].path)}; add {flag} to change it there"
        )
    _need(config, name)
    return files


def _defaults(levels: Levels, old: str, new: str | None, files: dict[str, ConfigFile]) -> None:
    """Change core.remote from `old` to `new` (None: unset) in the files whose
    own core.remote names it: the chosen level's and the ones that override
    it, as dvc updates them. `files` (path -> file) are those already edited."""
    start = LEVELS.index(levels.chosen or "repo")
    for level in LEVELS[start:]:
        path = levels.paths.get(level)
        if path is None or not os.path.exists(path):
            continue
        config_file = files.get(path) or ConfigFile(path)
        if (config_file.section("core", None) or {}).get("remote", "").lower() != old:
            continue
        if new is None:
            config_file.unset("core", None, "remote")
        else:
            config_file.set("core", None, "remote", new)
        files[path] = config_file


def _need(config: Config, name: str) -> None:
    remotes = config.remotes()
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise ConfigError(f"remote '{name}' does not exist (known: {known}); run: bale remote list")


def _check_name(name: str) -> None:
    if not name or any(c in name for c in '"\n[]') or name != name.strip():
        raise ConfigError(f"{name!r} is not a valid remote name")
