"""diff: tracked files added, deleted, modified and renamed between
revisions, printed as `dvc diff` prints them (`dvc/commands/diff.py`: text
sections and a summary, `--json` with dvc's keys, `--md` a GitHub table)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from bale.cli.args import add_jobs
from bale.cli.output import print_json

if TYPE_CHECKING:
    from bale.view.diff import Changed, Diff

# dvc's order of the groups, and its keys for them.
GROUPS = ("added", "deleted", "modified", "renamed", "not in cache")
SHOWN = ("added", "deleted", "renamed", "modified", "not in cache")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--targets", nargs="*", metavar="PATH",
        help="outputs, paths inside them, .dvc files or stages to compare (default: all)",
    )  # fmt: skip
    parser.add_argument("a_rev", nargs="?", default="HEAD", metavar="A_REV",
                        help="the old revision (default: HEAD)")  # fmt: skip
    parser.add_argument("b_rev", nargs="?", metavar="B_REV",
                        help="the new revision (default: the workspace)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--md", action="store_true", dest="markdown",
                        help="a Markdown (GitHub) table")  # fmt: skip
    parser.add_argument("--show-hash", action="store_true", help="show each entry's hash")
    parser.add_argument("--hide-missing", action="store_true",
                        help="leave out what the cache lacks ('not in cache')")  # fmt: skip
    add_jobs(parser)
    parser.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    """Takes no repository lock: it only reads (`bale.repo.lock` lists who locks)."""
    from bale.repo.repository import Repo
    from bale.view.diff import diff

    repo = Repo.open(os.getcwd())
    found = diff(repo, args.a_rev, args.b_rev, targets=args.targets, jobs=args.jobs)
    if args.quiet:
        return 0
    for folder, why in found.unreadable:
        print(f"WARNING: the files in '{folder}/' were not compared (its manifest is not in "
              f"the cache): {why}", file=sys.stderr)  # fmt: skip
    hide_missing = bool(args.b_rev) or args.hide_missing
    shown = _as_dvc(found, show_hash=args.show_hash)
    if hide_missing:
        shown.pop("not in cache", None)
    if args.json:
        print_json(shown)
    elif args.markdown:
        _print_markdown(shown, show_hash=args.show_hash)
    elif shown:
        _print_text(shown)
    return 0


def _as_dvc(found: Diff, *, show_hash: bool) -> dict[str, list[dict[str, Any]]]:
    """dvc's result: each group's entries, `path` (and `hash` with
    `show_hash`); {} when nothing differs at all."""
    if found.empty():
        return {}
    groups = dict(zip(GROUPS, (found.added, found.deleted, found.modified, found.renamed,
                               found.missing), strict=True))  # fmt: skip
    shown: dict[str, list[dict[str, Any]]] = {}
    for name, entries in groups.items():
        shown[name] = [_entry(name, c, show_hash) for c in entries]
    return shown


def _entry(group: str, change: Changed, show_hash: bool) -> dict[str, Any]:
    path: Any = change.path
    oid: Any = change.oid
    if group == "renamed":
        path = {"old": change.path, "new": change.new_path}
    elif group == "modified":
        oid = {"old": change.oid, "new": change.new_oid}
    return {"path": path, "hash": oid} if show_hash else {"path": path}


def _path_text(entry: dict[str, Any]) -> str:
    path = entry["path"]
    return f"{path['old']} -> {path['new']}" if isinstance(path, dict) else path


def _digest(oid: Any) -> str:
    if isinstance(oid, dict):
        return f"{(oid['old'] or '')[:8]}..{(oid['new'] or '')[:8]}"
    return oid[:8]


def _print_text(shown: dict[str, list[dict[str, Any]]]) -> None:
    """Each group that has entries under its header, then a blank line;
    last, how many files (folders not counted) each group has."""
    lines = []
    counts = []
    for group in SHOWN:
        entries = shown.get(group)
        if group not in shown:
            continue
        files = 0
        if entries:
            lines.append(f"{group.capitalize()}:")
            for entry in entries:
                path = _path_text(entry)
                oid = entry.get("hash")
                lines.append(f"    {_digest(oid) + '  ' if oid else ''}{path}")
                files += 0 if path.endswith("/") else 1
            lines.append("")
        if files:
            counts.append(f"{files} {group}")
    if counts:
        lines.append(f"files summary: {', '.join(counts)}")
    if lines:
        print("\n".join(lines))


def _print_markdown(shown: dict[str, list[dict[str, Any]]], *, show_hash: bool) -> None:
    """tabulate's `github` table as dvc calls it: columns left-aligned, each
    at least two wider than its header, cells stripped, then an empty line."""
    headers = ["Status", "Hash", "Path"] if show_hash else ["Status", "Path"]
    rows = []
    for group in SHOWN:
        for entry in shown.get(group, []):
            cells = [group, _digest(entry.get("hash") or "")] if show_hash else [group]
            rows.append([cell.strip() for cell in [*cells, _path_text(entry)]])
    widths = [max([len(h) + 2, *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    table = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    print("\n".join([*table, *(line(row) for row in rows)]) + "\n")
