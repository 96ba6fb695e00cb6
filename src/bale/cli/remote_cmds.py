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


def cmd_remote(args: argparse.Namespace) -> int:
    from bale.repo.config import (
        edit_config,
        load_config,
        remove_section,
        rename_section,
        stored_path,
    )
    from bale.repo.schema import check_value, option_kind

    dvc_dir, path = _paths(args)
    config = load_config(dvc_dir)
    remotes = config.remotes()
    action = args.action
    if action == "add":
        _check_name(args.name)
        _check_url(args.url)
        if args.name in remotes and not args.force:
            raise ConfigError(
                f"remote '{args.name}' already exists; use -f to overwrite, "
                f"or: bale remote modify {args.name} url URL"
            )
        edits = [("remote", args.name, "url", stored_path(args.url, path))]
        if args.default:
            edits.append(("core", None, "remote", args.name))
        edit_config(path, edits)
    elif action == "modify":
        _need(remotes, args.name)
        kind = option_kind("remote", args.name, args.option.lower())
        if args.unset:
            edit_config(path, [("remote", args.name, args.option.lower(), None)])
        else:
            if args.value is None:
                raise UsageError(f"give a value for {args.option}, or -u to unset it")
            if args.option.lower() == "url":
                _check_url(args.value)
                args.value = stored_path(args.value, path)
            value = check_value(f"remote.{args.name}.{args.option}", kind, args.value)
            edit_config(path, [("remote", args.name, args.option.lower(), value)])
    elif action == "list":
        level = {"project": "repo"}.get(args.level, args.level)
        shown = load_config(dvc_dir, levels=(level,)) if level else config
        for name, opts in shown.remotes().items():
            print(f"{name}\t{opts.get('url', '')}")
    elif action == "remove":
        _need(remotes, args.name)
        for level_path in _all_paths(dvc_dir):
            remove_section(level_path, "remote", args.name)
            if os.path.exists(level_path) and load_config_file_default(level_path) == args.name:
                edit_config(level_path, [("core", None, "remote", None)])
    elif action == "rename":
        _need(remotes, args.name)
        _check_name(args.new)
        if args.new in remotes:
            raise ConfigError(f"remote '{args.new}' already exists")
        for level_path in _all_paths(dvc_dir):
            rename_section(level_path, "remote", args.name, args.new)
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


def _all_paths(dvc_dir: str | None) -> list[str]:
    from bale.repo.config import level_paths

    return list(level_paths(dvc_dir).values())


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
