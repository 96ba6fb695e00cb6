"""remote add / modify / list / remove / rename / default."""

from __future__ import annotations

import argparse
import os
import sys

from bale.cli.args import add_level_flags
from bale.errors import UsageError


def _level_flags(parser: argparse.ArgumentParser) -> None:
    add_level_flags(parser)
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


def cmd_remote(args: argparse.Namespace) -> int:
    from bale.repo import config_edit as edit

    levels = edit.levels_at(os.getcwd(), args.level)
    action = args.action
    if action == "add":
        name = edit.add_remote(levels, args.name, args.url, default=args.default, force=args.force)
        if args.default and not args.quiet:
            print(f"Setting '{name}' as a default remote.")
    elif action == "modify":
        if not args.unset and args.value is None:
            raise UsageError(f"give a value for {args.option}, or -u to unset it")
        edit.modify_remote(levels, args.name, args.option, None if args.unset else args.value)
    elif action == "list":
        from bale.remotes.base import display_url

        remotes = edit.list_remotes(levels)
        for remote in remotes:
            mark = "\t(default)" if remote.default else ""
            print(f"{remote.name}\t{display_url(remote.url)}{mark}")
        for remote in remotes:
            if remote.problem:
                print(f"WARNING: {remote.problem}", file=sys.stderr)
    elif action == "remove":
        edit.remove_remote(levels, args.name)
    elif action == "rename":
        edit.rename_remote(levels, args.name, args.new)
    elif action == "default":
        if args.unset or args.name:
            edit.set_default_remote(levels, None if args.unset else args.name)
        else:
            print(edit.default_remote(levels))
    return 0
