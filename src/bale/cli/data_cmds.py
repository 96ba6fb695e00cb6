"""add, status, checkout, commit, remove, move."""

from __future__ import annotations

import argparse
import os

from bale.cli.output import plural, progress_for
from bale.errors import CheckoutError


def _jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel jobs")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "add":
        parser.add_argument("targets", nargs="+", metavar="TARGET")
        parser.add_argument("-o", "--out", help="copy the target to OUT and track OUT")
        parser.add_argument("--no-commit", action="store_true", help="do not store in the cache")
        parser.add_argument("--glob", action="store_true", help="expand wildcards in targets")
        parser.add_argument(
            "--to-remote", action="store_true", help="upload to the remote, not to the cache"
        )
        parser.add_argument("-r", "--remote", help="remote for --to-remote")
        _jobs(parser)
        parser.set_defaults(func=cmd_add)
    elif name == "status":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("-c", "--cloud", action="store_true", help="compare with a remote")
        parser.add_argument("-r", "--remote", help="remote for -c (default: core.remote)")
        parser.add_argument("-a", "--all-branches", action="store_true", help="with -c")
        parser.add_argument("-T", "--all-tags", action="store_true", help="with -c")
        parser.add_argument("-A", "--all-commits", action="store_true", help="with -c")
        _jobs(parser)
        parser.set_defaults(func=cmd_status)
    elif name == "checkout":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("-f", "--force", action="store_true", help="discard local changes")
        parser.add_argument("--relink", action="store_true", help="recreate links and copies")
        _jobs(parser)
        parser.set_defaults(func=cmd_checkout)
    elif name == "commit":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("-f", "--force", action="store_true", help="commit without asking")
        _jobs(parser)
        parser.set_defaults(func=cmd_commit)
    elif name == "remove":
        parser.add_argument("targets", nargs="+", metavar="TARGET")
        parser.add_argument("--outs", action="store_true", help="also delete the data")
        parser.set_defaults(func=cmd_remove)
    elif name == "move":
        parser.add_argument("src")
        parser.add_argument("dst")
        parser.set_defaults(func=cmd_move)


def _workspace(args: argparse.Namespace):
    from bale.repo.repository import Repo
    from bale.workspace.context import Workspace

    repo = Repo.open(os.getcwd())
    return Workspace(repo, jobs=getattr(args, "jobs", None), progress=progress_for(args))


def _locked(ws):
    from bale.repo.lock import repo_lock

    return repo_lock(ws.repo.tmp_dir)


def cmd_add(args: argparse.Namespace) -> int:
    from bale.errors import UsageError
    from bale.workspace.add import add

    if args.to_remote:
        if args.out or args.no_commit:
            raise UsageError("--to-remote takes neither -o nor --no-commit")
        from bale.workspace.sync import add_to_remote

        with _workspace(args) as ws, _locked(ws):
            added, uploaded = add_to_remote(
                ws, args.targets, remote=args.remote, use_glob=args.glob
            )
        if not args.quiet:
            print(f"{plural(uploaded, 'file')} uploaded")
    else:
        with _workspace(args) as ws, _locked(ws):
            added = add(
                ws, args.targets, out=args.out, no_commit=args.no_commit, use_glob=args.glob
            )
    if not args.quiet and ws.repo.git is not None and added:
        ignores = {os.path.join(os.path.dirname(a.out), ".gitignore").lstrip("/") for a in added}
        files = sorted({a.dvcfile for a in added} | ignores)
        rels = " ".join(
            os.path.relpath(ws.repo.abs(f)) for f in files if os.path.exists(ws.repo.abs(f))
        )
        if not ws.repo.config.get_bool("core", "autostage"):
            print(f"\nTo track the changes with git, run:\n\n\tgit add {rels}")
    return 0


UP_TO_DATE = "Data and pipelines are up to date."


def _show_status(status: dict) -> None:
    for dvcfile, changes in status.items():
        print(f"{dvcfile}:")
        for change in changes:
            for group, outs in change.items():
                print(f"\t{group}:")
                for path, state in outs.items():
                    print(f"\t\t{(state + ':'):<20}{path}")


def cmd_status(args: argparse.Namespace) -> int:
    if args.cloud or args.remote:
        return _cloud_status(args)
    from bale.workspace.status import status

    with _workspace(args) as ws:
        result = status(ws, args.targets or None)
    if args.json:
        import json

        print(json.dumps(result))
    elif args.quiet:
        pass
    elif result:
        _show_status(result)
    else:
        print(UP_TO_DATE)
    return 1 if (args.quiet and result) else 0


def _cloud_status(args: argparse.Namespace) -> int:
    from bale.workspace.sync import Scope, cloud_status

    scope = Scope(args.targets or None, args.all_branches, args.all_tags, args.all_commits)
    with _workspace(args) as ws:
        name, result = cloud_status(ws, scope, remote=args.remote)
    if args.json:
        import json

        print(json.dumps(result))
    elif not args.quiet:
        if not result:
            print(f"Cache and remote '{name}' are in sync.")
        for path, state in result.items():
            print(f"\t{(state + ':'):<20}{os.path.relpath(ws.repo.abs(path))}")
    return 1 if (args.quiet and result) else 0


def _summary(changes) -> str:
    parts = []
    if changes.added:
        parts.append(f"{plural(len(changes.added), 'file')} added")
    if changes.modified:
        parts.append(f"{plural(len(changes.modified), 'file')} modified")
    if changes.deleted:
        parts.append(f"{plural(len(changes.deleted), 'file')} deleted")
    return " and ".join(parts)


def print_changes(ws, changes, *, quiet: bool) -> None:
    if not quiet:
        for letter, paths in (
            ("M", changes.modified),
            ("A", changes.added),
            ("D", changes.deleted),
        ):
            for path in paths:
                suffix = "/" if os.path.isdir(ws.repo.abs(path)) else ""
                print(f"{letter}\t{os.path.relpath(ws.repo.abs(path))}{suffix}")
        summary = _summary(changes)
        if summary:
            print(summary)
    if changes.failed:
        raise CheckoutError(
            "checkout failed for: "
            + ", ".join(os.path.relpath(ws.repo.abs(p)) for p in changes.failed)
            + "; their data is not in the cache: run bale pull (or bale fetch)"
        )


def cmd_checkout(args: argparse.Namespace) -> int:
    from bale.workspace.checkout import checkout

    with _workspace(args) as ws, _locked(ws):
        changes = checkout(ws, args.targets or None, force=args.force, relink=args.relink)
    print_changes(ws, changes, quiet=args.quiet)
    return 0


def cmd_commit(args: argparse.Namespace) -> int:
    from bale.workspace.commit import commit

    with _workspace(args) as ws, _locked(ws):
        changed = commit(ws, args.targets or None)
    if not args.quiet and changed:
        for path in changed:
            print(f"Committed {os.path.relpath(ws.repo.abs(path))}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from bale.workspace.remove import remove

    with _workspace(args) as ws, _locked(ws):
        removed = remove(ws, args.targets, outs=args.outs)
    if not args.quiet:
        for rel in removed:
            print(f"Removed {os.path.relpath(ws.repo.abs(rel))}")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    from bale.workspace.remove import move

    with _workspace(args) as ws, _locked(ws):
        new = move(ws, args.src, args.dst)
    if not args.quiet:
        print(f"Moved {args.src} to {args.dst} ({os.path.relpath(ws.repo.abs(new))})")
    return 0
