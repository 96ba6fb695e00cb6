"""add, status, checkout, commit, remove, move."""

from __future__ import annotations

import argparse
import os
import sys

from bale.cli.args import add_jobs
from bale.cli.output import plural, progress_for, summary
from bale.errors import CheckoutError


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "add":
        parser.add_argument("targets", nargs="+", metavar="TARGET")
        parser.add_argument(
            "-o", "--out",
            help="copy the target to OUT and track OUT (with --to-remote: upload it as OUT)",
        )  # fmt: skip
        parser.add_argument("--no-commit", action="store_true", help="do not store in the cache")
        parser.add_argument("--glob", action="store_true", help="expand wildcards in targets")
        parser.add_argument(
            "--to-remote",
            action="store_true",
            help="upload to the remote, not to the cache (the target may lie outside the repo)",
        )
        parser.add_argument("-r", "--remote", help="remote for --to-remote")
        add_jobs(parser)
        parser.set_defaults(func=cmd_add)
    elif name == "status":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("-c", "--cloud", action="store_true", help="compare with a remote")
        parser.add_argument("-r", "--remote", help="remote for -c (default: core.remote)")
        parser.add_argument("-a", "--all-branches", action="store_true", help="with -c")
        parser.add_argument("-T", "--all-tags", action="store_true", help="with -c")
        parser.add_argument("-A", "--all-commits", action="store_true", help="with -c")
        add_jobs(parser)
        parser.set_defaults(func=cmd_status)
    elif name == "checkout":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("-f", "--force", action="store_true", help="discard local changes")
        parser.add_argument("--relink", action="store_true", help="recreate links and copies")
        add_jobs(parser)
        parser.set_defaults(func=cmd_checkout)
    elif name == "commit":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        parser.add_argument("-f", "--force", action="store_true", help="commit without asking")
        add_jobs(parser)
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
    from bale.workspace.add import add

    with _workspace(args) as ws, _locked(ws):
        added = add(
            ws, args.targets, out=args.out, no_commit=args.no_commit, use_glob=args.glob,
            to_remote=args.to_remote, remote=args.remote,
        )  # fmt: skip
    if args.to_remote and not args.quiet:
        print(f"{plural(sum(a.uploaded for a in added), 'file')} uploaded")
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


def _status_dict(ws, result) -> dict[str, list]:
    """DVC's `status --json`: {file or stage: [{"changed deps": {...}},
    {"changed outs": {...}}, "changed command", "always changed"]}, paths
    relative to the current folder as DVC prints them, in file order."""
    by_file: list[tuple[str, str, list]] = []
    shown: dict[str, list] = {}
    for change in result.changes:
        key = os.path.relpath(ws.repo.abs(change.dvcfile))
        if key not in shown:
            by_file.append((change.dvcfile, key, shown.setdefault(key, [])))
        outs = _group(shown[key], "changed outs")
        outs[os.path.relpath(ws.repo.abs(change.path))] = change.state
    for check in result.imports:
        key = os.path.relpath(ws.repo.abs(check.dvcfile))
        if key not in shown:
            by_file.append((check.dvcfile, key, shown.setdefault(key, [])))
        deps = _group(shown[key], "changed deps")
        deps[check.dep] = check.state
    for stage, found in result.stages:
        pipeline = os.path.relpath(ws.repo.abs(stage.pipeline))
        key = stage.name if pipeline == "dvc.yaml" else f"{pipeline}:{stage.name}"
        entry: list = []
        if found.deps:
            entry.append({"changed deps": found.deps})
        if found.outs:
            entry.append({"changed outs": found.outs})
        if found.command:
            entry.append("changed command")
        if found.always:
            entry.append("always changed")
        by_file.append((stage.pipeline, key, entry))
    by_file.sort(key=lambda item: item[0])  # stable: stages keep their file order
    return {key: entry for _file, key, entry in by_file}


def _group(groups: list[dict], name: str) -> dict:
    """The `{name: {...}}` entry of one file's status, deps before outs as dvc orders them."""
    for group in groups:
        if name in group:
            return group[name]
    groups.insert(0 if name == "changed deps" else len(groups), {name: {}})
    return next(g[name] for g in groups if name in g)


def _print_states(states: dict, indent: str) -> None:
    for path, state in states.items():
        if isinstance(state, dict):  # a params file: its keys
            print(f"{indent}{path}:")
            _print_states(state, indent + "\t")
        else:
            print(f"{indent}{(state + ':'):<20}{path}")


def cmd_status(args: argparse.Namespace) -> int:
    """Takes no repository lock: it only reads (`bale.repo.lock` lists who locks)."""
    if args.cloud or args.remote:
        return _cloud_status(args)
    from bale.workspace.status import status

    with _workspace(args) as ws:
        result = status(ws, args.targets or None)
    for folder in result.unreadable:
        print(
            f"WARNING: '{os.path.relpath(ws.repo.abs(folder))}' cannot be read (permission "
            "denied); what it tracks was not checked",
            file=sys.stderr,
        )
    shown = _status_dict(ws, result)
    if args.json:
        import json

        print(json.dumps(shown))
    elif not args.quiet:
        for name, changes in shown.items():
            print(f"{name}:")
            for change in changes:
                if isinstance(change, str):
                    print(f"\t{change}")
                    continue
                for group, states in change.items():
                    print(f"\t{group}:")
                    _print_states(states, "\t\t")
        if not shown:
            print(UP_TO_DATE)
    return 1 if (args.quiet and shown) else 0


def _cloud_status(args: argparse.Namespace) -> int:
    from bale.workspace.sync import Scope, cloud_status

    scope = Scope(args.targets or None, args.all_branches, args.all_tags, args.all_commits)
    with _workspace(args) as ws:
        result = cloud_status(ws, scope, remote=args.remote)
    shown = {os.path.relpath(ws.repo.abs(path)): state for path, state in result.changes.items()}
    # A file of history bale could not read: what it uses is unknown, never "in sync".
    shown.update((str(u), "unreadable") for u in result.unreadable)
    if args.json:
        import json

        print(json.dumps(shown))
    elif not args.quiet:
        if not shown:
            names = "', '".join(result.remotes)
            print(f"Cache and remote '{names}' are in sync.")
        for path, state in shown.items():
            print(f"\t{(state + ':'):<20}{path}")
    return 1 if (args.quiet and shown) else 0


def print_changes(ws, changes, *, quiet: bool, fetched: int = 0) -> None:
    """DVC's lines for a checkout (`M\tpath`), then its summary (`2 files
    fetched and 1 file added`); raises for outputs that could not be placed."""
    if not quiet:
        for letter, paths in (
            ("M", changes.modified),
            ("A", changes.added),
            ("D", changes.deleted),
        ):
            for path in paths:
                suffix = "/" if os.path.isdir(ws.repo.abs(path)) else ""
                print(f"{letter}\t{os.path.relpath(ws.repo.abs(path))}{suffix}")
        line = summary(
            [
                (fetched, "fetched"),
                (len(changes.added), "added"),
                (len(changes.modified), "modified"),
                (len(changes.deleted), "deleted"),
            ]
        )
        if line:
            print(line)
    if changes.corrupt:
        path, oid = changes.corrupt[0]
        raise CheckoutError(
            f"checkout failed for: '{os.path.relpath(ws.repo.abs(path))}': cache object {oid} "
            "does not match its name (corrupt); run: bale fsck --repair, then checkout again"
        )
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
