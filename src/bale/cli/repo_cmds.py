"""init, config, doctor."""

from __future__ import annotations

import argparse
import os
import sys

from bale.cli.args import add_level_flags
from bale.errors import ConfigError, UsageError


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "init":
        parser.add_argument("--subdir", action="store_true", help="create in a git subfolder")
        parser.add_argument("--no-scm", action="store_true", help="without git")
        parser.add_argument("-f", "--force", action="store_true", help="overwrite .dvc/")
        parser.set_defaults(func=cmd_init)
    elif name == "config":
        add_level_flags(parser)
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


def cmd_config(args: argparse.Namespace) -> int:
    from bale.remotes.base import display_url
    from bale.repo import config_edit as edit
    from bale.repo.config import shown_path

    levels = edit.levels_at(os.getcwd(), args.level)
    if args.list:
        if args.name:
            raise UsageError("-l takes no NAME")
        for option in edit.list_options(levels):
            # A listing hides secrets, and a password inside a URL.
            shown = "***" if option.secret else display_url(option.value)
            line = f"{option.name}={shown}"
            print(f"{shown_path(option.path)}\t{line}" if args.show_origin else line)
        for problem in edit.config_problems(levels):
            print(f"WARNING: {problem}", file=sys.stderr)
        return 0
    if not args.name:
        raise UsageError("name a config option (e.g. core.remote), or use -l")
    if args.unset:
        edit.unset_option(levels, args.name)
    elif args.value is None:
        # What was asked for, secrets too, as git config prints them.
        option = edit.get_option(levels, args.name)
        print(f"{shown_path(option.path)}\t{option.value}" if args.show_origin else option.value)
    else:
        edit.set_option(levels, args.name, args.value)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import importlib.util
    import platform

    from bale import __version__
    from bale.errors import NotARepoError
    from bale.remotes.base import display_url
    from bale.repo import config_edit as edit
    from bale.repo.config import load_config
    from bale.repo.repository import DVC_DIR, Repo, find_root

    print(f"bale version: {__version__}")
    print(f"Python {platform.python_version()} on {platform.platform()}")
    try:
        root = find_root(os.getcwd())
    except NotARepoError as exc:
        print(f"Repository: none ({exc})")
        return 0
    # Read unchecked: a broken config is shown, and what it breaks marked.
    repo = Repo(root, load_config(os.path.join(root, DVC_DIR), check=False))
    print(f"Repository: {repo.root}")
    for label, read in (
        ("Git", lambda: repo.git.root if repo.git else "not used (no_scm)"),
        ("Cache", lambda: repo.cache_dir),
        ("Cache types", lambda: ", ".join(repo.link_types)),
    ):
        try:
            print(f"{label}: {read()}")
        except ConfigError:
            print(f"{label}: unknown (the config is invalid; see below)")
    print(f"State: {repo.state_path}")
    levels = edit.levels_at(os.getcwd())
    for remote in edit.list_remotes(levels):
        mark = " (invalid; see below)" if remote.problem else ""
        print(f"Remote {remote.name}: {display_url(remote.url) or '(no url)'}{mark}")
    problems = edit.config_problems(levels)
    for problem in problems:
        print(f"Config problem: {problem}")
    if not problems:
        print("Config: valid")
    extras = []
    clients = (("obstore", "s3"), ("asyncssh", "ssh"), ("gcsfs", "gs"), ("adlfs", "azure"))
    for module, extra in clients:
        extras.append(f"{extra} ({'installed' if importlib.util.find_spec(module) else 'missing'})")
    print("Remote support: local, " + ", ".join(extras))
    sys.stdout.flush()
    return 0
