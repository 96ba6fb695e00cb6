"""push, pull, fetch, gc, fsck."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from bale.cli.args import add_jobs
from bale.cli.output import plural
from bale.errors import ConfirmationError, CorruptObjectsError, TransferError, UsageError


def _scope_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-a", "--all-branches", action="store_true", help="all branches")
    parser.add_argument("-T", "--all-tags", action="store_true", help="all tags")
    parser.add_argument("-A", "--all-commits", action="store_true", help="all commits")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-r", "--remote", help="remote name (default: core.remote)")
    add_jobs(parser, help="parallel transfers")
    if name in ("push", "pull", "fetch"):
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        _scope_flags(parser)
        if name == "pull":
            parser.add_argument("-f", "--force", action="store_true", help="discard local changes")
        parser.add_argument(
            "--run-cache", action=argparse.BooleanOptionalAction, default=False,
            help="also the run cache: saved runs of stages and the outputs they name",
        )  # fmt: skip
        if name != "fetch":
            parser.add_argument("--all", action="store_true", dest="all_areas",
                                help="also every synced area of bale.yaml (bale sync)")  # fmt: skip
        parser.set_defaults(func={"push": cmd_push, "pull": cmd_pull, "fetch": cmd_fetch}[name])
    elif name == "gc":
        parser.add_argument("-w", "--workspace", action="store_true", help="keep the workspace's")
        _scope_flags(parser)
        parser.add_argument("-c", "--cloud", action="store_true", help="also the remote")
        parser.add_argument("-p", "--projects", nargs="+", default=[], metavar="PATH",
                            help="other repositories sharing the cache or remote")  # fmt: skip
        parser.add_argument("--dry", action="store_true", help="only show what would go")
        parser.add_argument("-f", "--force", action="store_true", help="do not ask")
        parser.add_argument(
            "--grace", metavar="AGE", type=_age,
            help="keep remote (and shared cache) objects younger than AGE, e.g. 30m, 2h, "
            f"1d; 0 keeps none (default ${GRACE_VARIABLE}, else 1h)",
        )  # fmt: skip
        parser.set_defaults(func=cmd_gc)
    elif name == "fsck":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("-c", "--cloud", action="store_true", help="check the remote")
        parser.add_argument(
            "--repair", action="store_true", help="replace corrupt objects from a good copy"
        )
        parser.set_defaults(func=cmd_fsck)


GRACE_VARIABLE = "BALE_GC_GRACE"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _age(text: str) -> float:
    """`30m`, `2h`, `1d`, `90s`, `1w` or a number of seconds; argparse's usage
    error for anything else."""
    value = text.strip().lower()
    scale = _UNITS.get(value[-1:], 0)
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        seconds = -1.0
    if not (0 <= seconds < float("inf")):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age; give a number and a unit, e.g. 30m, 2h, 1d, or 0"
        )
    return seconds


def _grace(args: argparse.Namespace) -> float:
    """--grace, else $BALE_GC_GRACE, else an hour (dvc's config has no place for it:
    dvc refuses a .dvc/config with a section it does not know)."""
    from bale.workspace.gc import GRACE

    if args.grace is not None:
        return args.grace
    value = os.environ.get(GRACE_VARIABLE, "")
    if not value:
        return GRACE
    try:
        return _age(value)
    except argparse.ArgumentTypeError as err:
        raise UsageError(f"{GRACE_VARIABLE}: {err}") from None


def _shown_age(seconds: float) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]:g}{unit}"
    return f"{seconds:g}s"


def _workspace(args: argparse.Namespace):
    from bale.cli.output import progress_for
    from bale.repo.repository import Repo
    from bale.workspace.context import Workspace

    return Workspace(Repo.open(os.getcwd()), jobs=args.jobs, progress=progress_for(args))


def _scope(args: argparse.Namespace):
    from bale.workspace.sync import Scope

    return Scope(
        getattr(args, "targets", None) or None,
        args.all_branches,
        args.all_tags,
        args.all_commits,
    )


def _report(result, verb: str, quiet: bool) -> None:
    if result.failed:
        # Each is about one object (missing or corrupt, with its fix); retrying
        # the same command would not help, so name the first.
        count = len(result.failed)
        _oid, why = result.failed[0]
        first = "" if count == 1 else ", the first: "
        raise TransferError(f"{plural(count, 'file')} failed to {verb}{first or ': '}{why}")
    if not quiet:
        if result.transferred:
            print(f"{plural(result.transferred, 'file')} {verb}ed")
        else:
            print("Everything is up to date.")


def _warn_unreadable(result) -> None:
    for unreadable in result.unreadable:
        print(
            f"WARNING: {unreadable} could not be read; the data it records was left out",
            file=sys.stderr,
        )
    for warning in result.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)


def cmd_push(args: argparse.Namespace) -> int:
    """Holds the repository lock throughout, as dvc's push does: what goes up is
    one moment's state, never a half-done add's, and no gc deletes under it."""
    from bale.repo.lock import repo_lock
    from bale.workspace.sync import push

    with _workspace(args) as ws, repo_lock(ws.repo.tmp_dir):
        result = push(ws, _scope(args), remote=args.remote, run_cache=args.run_cache)
        _warn_unreadable(result)
        if result.missing:
            first = result.missing[0]
            print(
                f"WARNING: {plural(len(result.missing), 'object')} not in the cache, not pushed "
                f"(e.g. {first.oid}), needed by '{os.path.relpath(ws.repo.abs(first.path))}'",
                file=sys.stderr,
            )
        _report(result, "push", args.quiet)
        return _areas(ws, args, "push")


def _areas(ws, args: argparse.Namespace, action: str) -> int:
    """`--all`: the synced areas after the versioned data, in the same lock."""
    if not args.all_areas:
        return 0
    from bale.cli.area_cmds import sync_areas

    return sync_areas(ws, action, [], force=getattr(args, "force", False), quiet=args.quiet)


def cmd_fetch(args: argparse.Namespace) -> int:
    """Holds the repository lock: it writes the cache (dvc's fetch locks too)."""
    from bale.repo.lock import repo_lock
    from bale.workspace.sync import fetch

    with _workspace(args) as ws, repo_lock(ws.repo.tmp_dir):
        result = fetch(ws, _scope(args), remote=args.remote, run_cache=args.run_cache)
    _warn_unreadable(result)
    _report(result, "fetch", args.quiet)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    """Holds the repository lock from the fetch to the checkout: a gc between
    them would delete what was just fetched."""
    from bale.cli.data_cmds import print_changes
    from bale.repo.lock import repo_lock
    from bale.workspace.checkout import checkout
    from bale.workspace.sync import fetch

    with _workspace(args) as ws, repo_lock(ws.repo.tmp_dir):
        result = fetch(ws, _scope(args), remote=args.remote, run_cache=args.run_cache)
        _warn_unreadable(result)
        if result.failed:
            _report(result, "fetch", args.quiet)
        changes = checkout(ws, args.targets or None, force=args.force)
        nothing = not (result.transferred or changes.added or changes.modified or changes.deleted)
        if nothing and not changes.failed and not args.quiet:
            print("Everything is up to date.")
        print_changes(ws, changes, quiet=args.quiet, fetched=result.transferred)
        return _areas(ws, args, "pull")


def cmd_gc(args: argparse.Namespace) -> int:
    from bale.repo.lock import repo_lock
    from bale.workspace.gc import gc_apply, gc_plan

    if not (args.workspace or args.all_branches or args.all_tags or args.all_commits):
        raise UsageError(
            "gc needs a scope of what to keep: -w (workspace), -a, -T or -A; "
            "everything else in the cache is deleted"
        )
    grace = _grace(args)
    with _workspace(args) as ws, repo_lock(ws.repo.tmp_dir):  # an add between plan and apply
        plan = gc_plan(
            ws, _scope(args), projects=args.projects, cloud=args.cloud, remote=args.remote,
            grace=grace,
        )  # fmt: skip
        on_remotes = sum(len(objs) for objs in plan.remote.values())
        names = "', '".join(plan.remote)
        where = "the cache" + (f" and remote '{names}'" if args.cloud else "")
        if plan.young and (not args.quiet or args.dry):
            them = "it" if plan.young == 1 else "them"
            print(
                f"Kept {plural(plan.young, 'unused object')} younger than the grace period "
                f"({_shown_age(grace)}); --grace 0 deletes {them} too"
            )
        if not plan.local and not on_remotes:
            if not args.dry:
                gc_apply(ws, plan)  # the temporary files killed commands left, never data
            if not args.quiet:
                print("No unused objects to remove.")
            return 0
        if not args.quiet or args.dry:
            print(
                f"{plural(len(plan.local), 'object')} in the cache"
                + (f" and {plural(on_remotes, 'object')} on remote '{names}'" if args.cloud else "")
                + " are not used by the chosen revisions"
            )
        if args.dry:
            for oid, _ in plan.local:
                print(f"cache: {oid}")
            for name, objs in plan.remote.items():
                label = "remote" if len(plan.remote) == 1 else f"remote {name}"
                for oid, _ in objs:
                    print(f"{label}: {oid}")
            return 0
        if not args.force:
            if not sys.stdin.isatty():
                raise ConfirmationError(
                    f"gc would delete objects from {where}; rerun with -f to confirm"
                )
            answer = input(f"Delete them from {where}? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                print("Nothing deleted.")
                return 0
        gc_apply(ws, plan)
    if not args.quiet:
        print(f"Removed {plural(len(plan.local) + on_remotes, 'object')}.")
    return 0


def cmd_fsck(args: argparse.Namespace) -> int:
    from bale.repo.lock import repo_lock
    from bale.workspace.fsck import fsck

    cloud = args.cloud or (bool(args.remote) and not args.repair)
    with _workspace(args) as ws:
        # Only a repair writes; a check reads objects, which are never rewritten.
        held = repo_lock(ws.repo.tmp_dir) if args.repair else contextlib.nullcontext()
        with held:
            result = fsck(
                ws, remote=args.remote, cloud=cloud, targets=args.targets, repair=args.repair
            )
    for oid, actual in result.corrupt:
        print(f"corrupt: {oid} (content hashes to {actual})")
    where, source = ("on the remote", "the cache") if cloud else ("in the cache", "the remote")
    for oid in result.repaired:
        print(f"repaired: {oid} (a good copy from {source})")
    for oid in result.dropped:
        print(f"dropped: {oid} (no good copy in {source})")
    if args.repair and result.dropped:
        raise CorruptObjectsError(
            f"{plural(len(result.dropped), 'corrupt object')} {where} had no good copy in "
            f"{source} and {'was' if len(result.dropped) == 1 else 'were'} removed; "
            "add the data again from a good copy (bale add / bale commit)"
        )
    if result.corrupt and not args.repair:
        one = len(result.corrupt) == 1
        fix = "push a good copy" if cloud else "fetch a good copy"
        raise CorruptObjectsError(
            f"{plural(len(result.corrupt), 'object')} {where} "
            + ("does not match its name; delete it" if one else "do not match their names; "
               "delete them")
            + f" and {fix} (bale fsck --repair{' -c' if cloud else ''} does both)"
        )  # fmt: skip
    if not args.quiet and not result.corrupt:
        print("All objects match their names.")
    return 0
