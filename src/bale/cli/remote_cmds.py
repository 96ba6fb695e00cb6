"""remote add / modify / list / remove / rename / default."""

from __future__ import annotations

import argparse
import os

from bale.errors import ConfigError, UsageError

_LEVELS = ("global", "system", "project", "local")


def _level_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    for level in _LEVELS:
        group.add_argument(f"--{level}", dest="level", action="store_const", const=level)
    # -q/-v after the action too, as `dvc remote add -q` takes them; SUPPRESS keeps
    # `bale remote -q add` working (a default here would overwrite the parent's).
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS)
    group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a remote")
    _level_flags(add)
    add.add_argument("-d", "--default", action="store_true", help="make it the default")
    add.add_argument("-f", "--force", action="store_true", help="overwrite an existing remote")
    add.add_argument("name")
    add.add_argument("url")
    mod = sub.add_parser("modify", help="set or unset a remote option")
    _level_flags(mod)
    mod.add_argument("-u", "--unset", action="store_true")
    mod.add_argument("name")
    mod.add_argument("option")
    mod.add_argument("value", nargs="?")
    lst = sub.add_parser("list", help="list remotes")
    _level_flags(lst)
    rem = sub.add_parser("remove", help="remove a remote")
    _level_flags(rem)
    rem.add_argument("name")
    ren = sub.add_parser("rename", help="rename a remote")
    _level_flags(ren)
    ren.add_argument("name")
    ren.add_argument("new")
    dft = sub.add_parser("default", help="show or set the default remote")
    _level_flags(dft)
    dft.add_argument("-u", "--unset", action="store_true")
    dft.add_argument("name", nargs="?")
    parser.set_defaults(func=cmd_remote)


def _paths(args: argparse.Namespace) -> tuple[str | None, str]:
    from bale.repo.config import level_paths
    from bale.repo.repository import find_root

    level = {"project": "repo", None: "repo"}.get(args.level, args.level)
    dvc_dir = None
    if level in ("repo", "local"):
        dvc_dir = os.path.join(find_root(os.getcwd()), ".dvc")
    else:
        try:
            dvc_dir = os.path.join(find_root(os.getcwd()), ".dvc")
        except Exception:
            dvc_dir = None
    return dvc_dir, level_paths(dvc_dir)[level]


def _scope(args: argparse.Namespace, dvc_dir: str | None) -> list[str]:
    """The files remove and rename edit: the chosen level's and, for the
    project's (the default), config.local too, where its keys live; never a
    level the user did not name (DVC 3.67 leaves the local part behind and
    then fails to read its own config)."""
    from bale.repo.config import level_paths

    paths = level_paths(dvc_dir)
    level = {"project": "repo", None: "repo"}.get(args.level, args.level)
    return [paths[level], paths["local"]] if level == "repo" else [paths[level]]


def _default_refs(args: argparse.Namespace, dvc_dir: str | None) -> list[str]:
    """Files whose core.remote may name the remote: the chosen level's and the
    ones that override it (as DVC updates them)."""
    from bale.repo.config import LEVELS, level_paths

    paths = level_paths(dvc_dir)
    level = {"project": "repo", None: "repo"}.get(args.level, args.level)
    return [paths[lv] for lv in LEVELS[LEVELS.index(level) :] if lv in paths]


def cmd_remote(args: argparse.Namespace) -> int:
    from bale.repo.config import (
        PATH_KEYS,
        edit_config,
        load_config,
        load_file,
        remove_section,
        stored_path,
    )
    from bale.repo.schema import check_value, option_kind

    dvc_dir, path = _paths(args)
    config = load_config(dvc_dir)
    remotes = config.remotes()
    action = args.action
    if getattr(args, "name", None):
        args.name = _known_name(args.name, remotes) if action != "add" else args.name.lower()
    if action == "add":
        _check_name(args.name)
        _check_url(args.url)
        here = load_file(path).get(("remote", args.name))
        if here is not None and not args.force:
            raise ConfigError(
                f"remote '{args.name}' already exists; use -f to overwrite, "
                f"or: bale remote modify {args.name} url URL"
            )
        # -f replaces the remote: its other options at this level go, as with DVC.
        edits = [("remote", args.name, "url", stored_path(args.url, path))]
        edits += [("remote", args.name, key, None) for key in here or {} if key != "url"]
        if args.default:
            edits.append(("core", None, "remote", args.name))
        edit_config(path, edits)
        if args.default and not args.quiet:
            print(f"Setting '{args.name}' as a default remote.")
    elif action == "modify":
        _need(remotes, args.name)
        option = args.option.lower()
        kind = option_kind("remote", args.name, option)
        if args.unset:
            edit_config(path, [("remote", args.name, option, None)], keep_empty=True)
        else:
            if args.value is None:
                raise UsageError(f"give a value for {args.option}, or -u to unset it")
            if option == "url":
                _check_url(args.value)
            check_value(f"remote.{args.name}.{args.option}", kind, args.value)
            # Written as given (DVC keeps 'FALSE' and ' 4'); paths relative to the file.
            value = stored_path(args.value, path) if option in PATH_KEYS else args.value
            edit_config(path, [("remote", args.name, option, value)])
    elif action == "list":
        from bale.remotes.base import display_url

        level = {"project": "repo"}.get(args.level, args.level)
        shown = load_config(dvc_dir, levels=(level,)) if level else config
        default = shown.get("core", "remote")
        for name, opts in shown.remotes().items():
            mark = "\t(default)" if name == default else ""
            print(f"{name}\t{display_url(opts.get('url', ''))}{mark}")
    elif action == "remove":
        _need_in(args, dvc_dir, args.name)
        for level_path in _scope(args, dvc_dir):
            remove_section(level_path, "remote", args.name)
        for level_path in _default_refs(args, dvc_dir):
            if os.path.exists(level_path) and load_config_file_default(level_path) == args.name:
                edit_config(level_path, [("core", None, "remote", None)])
    elif action == "rename":
        _need_in(args, dvc_dir, args.name)
        _check_name(args.new)
        if args.new in remotes:
            raise ConfigError(f"remote '{args.new}' already exists")
        for level_path in _scope(args, dvc_dir):
            section = load_file(level_path).get(("remote", args.name))
            if section is None:
                continue
            # One write: the old section goes, the new one comes last (as DVC writes it).
            edits = [("remote", args.name, key, None) for key in section]
            edits += [("remote", args.new, key, value) for key, value in section.items()]
            edit_config(level_path, edits)
        for level_path in _default_refs(args, dvc_dir):
            if os.path.exists(level_path) and load_config_file_default(level_path) == args.name:
                edit_config(level_path, [("core", None, "remote", args.new)])
    elif action == "default":
        if args.unset:
            edit_config(path, [("core", None, "remote", None)])
        elif args.name:
            _need(remotes, args.name)
            edit_config(path, [("core", None, "remote", args.name)])
        else:
            default = config.get("core", "remote")
            if not default:
                raise ConfigError("no default remote is set; run: bale remote default NAME")
            print(default)
    return 0


def load_config_file_default(path: str) -> str | None:
    """core.remote as set in one file."""
    from bale.repo.config import load_file

    return load_file(path).get(("core", None), {}).get("remote")


def _need_in(args: argparse.Namespace, dvc_dir: str | None, name: str) -> None:
    """The remote must be in the files this command edits.

    Raises:
        ConfigError: it is not; the message names the level where it is, if any.
    """
    from bale.repo.config import load_config, load_file

    scope = _scope(args, dvc_dir)
    if any(("remote", name) in load_file(p) for p in scope):
        return
    elsewhere = load_config(dvc_dir).sources.get(("remote", name, "url"))
    if elsewhere:
        raise ConfigError(
            f"remote '{name}' is set in the {elsewhere} config, not in {scope[0]}; "
            f"add --{elsewhere.replace('repo', 'project')} to change it there"
        )
    _need(load_config(dvc_dir).remotes(), name)


def _known_name(name: str, remotes: dict) -> str:
    """Remote names are lower-cased as DVC does (only the first name of a
    rename); a hand-written section keeps its case, and is still found."""
    if name in remotes:
        return name
    same = [known for known in remotes if known.lower() == name.lower()]
    return same[0] if len(same) == 1 else name.lower()


def _need(remotes: dict, name: str) -> None:
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise ConfigError(f"remote '{name}' does not exist (known: {known}); run: bale remote list")


def _check_name(name: str) -> None:
    if not name or any(c in name for c in '"\n[]') or name != name.strip():
        raise ConfigError(f"{name!r} is not a valid remote name")


SCHEMES = ("s3", "gs", "gcs", "azure", "az", "ssh", "sftp", "http", "https", "file", "hdfs",
           "webhdfs", "webdav", "webdavs", "oss", "gdrive")  # fmt: skip


def _check_url(url: str) -> None:
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in SCHEMES:
            raise ConfigError(
                f"'{scheme}://' is not a supported remote scheme; use a folder path, "
                "s3://, gs://, azure://, ssh://, http(s)://"
            )
    elif not url.strip():
        raise ConfigError("the remote URL is empty")
