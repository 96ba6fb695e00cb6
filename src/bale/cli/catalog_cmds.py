"""catalog: every dataset and model of a registry, with its card and versions."""

from __future__ import annotations

import argparse

from bale.cli.output import human_size, print_json


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="*", help="words to find in paths, artifact names, "
                        "card titles and fields")  # fmt: skip
    parser.add_argument("--repo", help="a registry's path or git URL (default: this one); "
                        "read without a checkout")  # fmt: skip
    parser.add_argument("--rev", help="a branch, tag or commit (default: the working tree, "
                        "or a URL's default branch)")  # fmt: skip
    parser.add_argument("--kind", choices=("dataset", "model"), help="only entries of this kind")
    parser.add_argument("--check-remote", action="store_true",
                        help="say whether each entry's data is on its remote")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_catalog)


def cmd_catalog(args: argparse.Namespace) -> int:
    from bale.external.sources import reading_view
    from bale.registry.catalog import catalog

    with reading_view(args.repo, args.rev) as (git_dir, view):
        items = catalog(view, git_dir, kind=args.kind, query=" ".join(args.query) or None,
                        check_remote=args.check_remote)  # fmt: skip
    if args.json:
        print_json([item.as_json() for item in items])
        return 0
    rows = [["Path", "Kind", "Size", "Files", "Title", "Tags / versions"]]
    if args.check_remote:
        rows[0].append("On remote")
    for item in items:
        e = item.entry
        held = item.versions + [f"{s}={v}" for s, v in item.stages.items()] + item.tags
        size = "" if e.size is None else human_size(e.size)
        row = [e.path, e.kind, size, "" if e.files is None else str(e.files),
               item.title or "-", ", ".join(held) or "-"]  # fmt: skip
        if args.check_remote:
            row.append({True: "yes", False: "no", None: "-"}[item.on_remote])
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
