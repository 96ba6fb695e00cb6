"""init, config, doctor."""

from __future__ import annotations

import argparse
import os
import sys

from bale.errors import ConfigError, UsageError


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "init":
        parser.add_argument("--subdir", action="store_true", help="create in a git subfolder")
        parser.add_argument("--no-scm", action="store_true", help="without git")
        parser.add_argument("-f", "--force", action="store_true", help="overwrite .dvc/")
        parser.set_defaults(func=cmd_init)
    elif name == "config":
        level = parser.add_mutually_exclusive_group()
        for flag in ("--global", "--system", "--project", "--local"):
            level.add_argument(flag, dest="level", action="store_const", const=flag[2:])
        parser.add_argument("-u", "--unset", action="store_true", help="remove the option")
        parser.add_argument("-l", "--list", action="store_true", help="list all options")
        parser.add_argument("--show-origin", action="store_true", help="show the source file")
        parser.add_argument("name", nargs="?", help="SECTION.KEY or remote.NAME.OPTION")
        parser.add_argument("value", nargs="?")
        parser.set_defaults(func=cmd_config)
    elif name == "doctor":
        parser.set_defaults(func=cmd_doctor)


def cmd_init(args: argparse.Namespace) -> int:
    from bale.repo.init import init

    init(os.getcwd(), subdir=args.subdir, no_scm=args.no_scm, force=args.force)
    if not args.quiet:
        print(f"Initialized bale repository in {os.getcwd()}.")
        if not args.no_scm:
            print("You can now commit the changes to git.")
    return 0


def _level_path(level: str) -> str:
    from bale.repo.config import level_paths
    from bale.repo.repository import find_root

    dvc_dir = None
    if level in ("repo", "local"):
        dvc_dir = os.path.join(find_root(os.getcwd()), ".dvc")
    return level_paths(dvc_dir)[level]


def mask(key: str, value: str) -> str:
    from bale.repo.config import SECRET_KEYS

    option = key.rsplit(".", 1)[-1]
    if option in SECRET_KEYS:
        return "***"
    if option == "url":
        from bale.remotes.base import display_url

        return display_url(value)
    return value


def cmd_config(args: argparse.Namespace) -> int:
    from bale.repo.config import (
        PATH_KEYS,
        edit_config,
        level_paths,
        load_config,
        parse_name,
        stored_path,
    )
    from bale.repo.repository import find_root
    from bale.repo.schema import check_value, option_kind

    level = {"project": "repo", None: None}.get(args.level, args.level)
    if args.list:
        if args.name:
            raise UsageError("-l takes no NAME")
        dvc_dir = None
        try:
            dvc_dir = os.path.join(find_root(os.getcwd()), ".dvc")
        except Exception:
            if level in ("repo", "local"):
                raise
        config = load_config(
            dvc_dir, levels=(level,) if level else ("system", "global", "repo", "local")
        )
        for key, value in config.items():
            line = f"{key}={mask(key, value)}"
            if args.show_origin:
                kind, _, rest = key.partition(".")
                sub_name, _, opt = rest.rpartition(".")
                origin = level_paths(dvc_dir)[config.sources[(kind, sub_name or None, opt)]]
                line = f"{os.path.relpath(origin)}\t{line}"
            print(line)
        return 0
    if not args.name:
        raise UsageError("name a config option (e.g. core.remote), or use -l")
    section, sub, key = parse_name(args.name)
    if args.unset:
        path = _level_path(level or "repo")
        edit_config(path, [(section, sub, key, None)])
        return 0
    if args.value is None:
        dvc_dir = os.path.join(find_root(os.getcwd()), ".dvc") if level != "global" else None
        config = load_config(
            dvc_dir, levels=(level,) if level else ("system", "global", "repo", "local")
        )
        option_kind(section, sub, key)  # an unknown name is an error, not "unset"
        value = config.values.get((section, sub), {}).get(key)
        if value is None:
            raise ConfigError(f"option '{args.name}' is not set")
        if args.show_origin:
            origin = level_paths(dvc_dir)[config.sources[(section, sub, key)]]
            print(f"{os.path.relpath(origin)}\t{value}")
        else:
            print(value)
        return 0
    kind = option_kind(section, sub, key)
    value = check_value(args.name, kind, args.value)
    path = _level_path(level or "repo")
    if key in PATH_KEYS:
        value = stored_path(value, path)
    edit_config(path, [(section, sub, key, value)])
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import platform

    from bale import __version__

    print(f"bale version: {__version__}")
    print(f"Python {platform.python_version()} on {platform.platform()}")
    try:
        from bale.repo.repository import Repo

        repo = Repo.open(os.getcwd())
    except Exception as exc:
        print(f"Repository: none ({exc})")
        return 0
    print(f"Repository: {repo.root}")
    print(f"Git: {repo.git.root if repo.git else 'not used (no_scm)'}")
    print(f"Cache: {repo.cache_dir}")
    print(f"Cache types: {', '.join(repo.link_types)}")
    print(f"State: {repo.state_path}")
    for name, opts in repo.config.remotes().items():
        print(f"Remote {name}: {mask('url', opts.get('url', '(no url)'))}")
    extras = []
    for module, extra in (("s3fs", "s3"), ("sshfs", "ssh"), ("gcsfs", "gs"), ("adlfs", "azure")):
        import importlib.util

        extras.append(f"{extra} ({'installed' if importlib.util.find_spec(module) else 'missing'})")
    print("Remote support: local, " + ", ".join(extras))
    sys.stdout.flush()
    return 0
