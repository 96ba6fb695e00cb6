"""sync: mirror the synced areas of bale.yaml to their remotes, file by file."""

from __future__ import annotations

import argparse
import os

from bale.cli.args import add_jobs, sub_quiet_flags
from bale.cli.output import plural, print_json


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="{push,pull,status}", required=True)
    helps = [("push", "upload what changed in the areas"),
             ("pull", "download what changed on the remote"),
             ("status", "what push would upload; what only the remote has")]  # fmt: skip
    for action, text in helps:
        cmd = sub.add_parser(action, help=text)
        cmd.add_argument("areas", nargs="*", metavar="AREA", help="area folders (default: all)")
        if action != "status":
            cmd.add_argument("--delete", action="store_true", help="also delete what the "
                             "other side does not have (never done without it)")  # fmt: skip
            add_jobs(cmd, help="parallel transfers")
        if action == "pull":
            cmd.add_argument("-f", "--force", action="store_true",
                             help="replace files changed here since the last sync")  # fmt: skip
        if action == "status":
            cmd.add_argument("--json", action="store_true", help="print JSON")
        sub_quiet_flags(cmd)
        cmd.set_defaults(func=cmd_sync)


def load_areas(ws) -> list:
    """The areas the repository's bale.yaml declares.

    Raises:
        ConfigError: bale.yaml is malformed.
    """
    from bale.registry.settings import SETTINGS_FILE, parse_settings

    path = ws.repo.abs(SETTINGS_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as fobj:
        return parse_settings(fobj.read()).areas()


def sync_areas(ws, action: str, names: list[str], *, delete: bool = False,
               force: bool = False, quiet: bool = False) -> int:  # fmt: skip
    """Push or pull the chosen areas, one line each; 1 when a pull kept local changes."""
    from bale.registry.areas import chosen_areas, pull_area, push_area

    code = 0
    for area in chosen_areas(load_areas(ws), names):
        if action == "push":
            moved = push_area(ws, area, delete=delete)
        else:
            moved = pull_area(ws, area, delete=delete, force=force)
        if moved.kept:
            code = 1
            print(f"WARNING: {area.folder}: {plural(len(moved.kept), 'file')} changed here "
                  f"and on the remote were kept (e.g. {moved.kept[0]}); push them, or pull "
                  "with -f to take the remote's")  # fmt: skip
        if not quiet:
            verb = "uploaded" if action == "push" else "downloaded"
            gone = f", {moved.deleted} deleted" if moved.deleted else ""
            what = f"{plural(moved.transferred, 'file')} {verb}{gone}"
            moved_any = moved.transferred or moved.deleted
            print(f"{area.folder}: {what if moved_any else 'up to date'}")
    return code


def cmd_sync(args: argparse.Namespace) -> int:
    from bale.repo.lock import repo_lock
    from bale.repo.repository import Repo
    from bale.workspace.context import Workspace

    ws = Workspace(Repo.open(os.getcwd()), jobs=getattr(args, "jobs", None))
    with ws:
        if args.action != "status":
            with repo_lock(ws.repo.tmp_dir):
                force = getattr(args, "force", False)
                return sync_areas(ws, args.action, args.areas, delete=args.delete, force=force,
                                  quiet=args.quiet)  # fmt: skip
        return _status(ws, args)


def _status(ws, args: argparse.Namespace) -> int:
    from bale.registry.areas import changes, chosen_areas, open_area_backend

    found = []
    for area in chosen_areas(load_areas(ws), args.areas):
        backend = open_area_backend(ws, area)
        try:
            found.append(changes(ws, area, backend))
        finally:
            backend.close()
    if args.json:
        print_json({c.area: {"new": c.new, "modified": c.modified, "remote only": c.remote_only}
                    for c in found})  # fmt: skip
        return 0
    for c in found:
        if not (c.new or c.modified or c.remote_only):
            print(f"{c.area}: up to date")
            continue
        print(f"{c.area}:")
        for label, paths in (("new", c.new), ("modified", c.modified),
                             ("only on the remote", c.remote_only)):  # fmt: skip
            for path in paths:
                print(f"\t{label}:{' ' * (20 - len(label))}{path}")
    return 0
