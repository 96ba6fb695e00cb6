"""params diff, metrics show, metrics diff: parameters and metrics of
revisions, printed as dvc prints them (`dvc/compare.py`, tabulate's
`plain` and `github` tables, `--json` with dvc's keys)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from bale.cli.args import sub_quiet_flags
from bale.cli.output import print_json, warn_revisions

if TYPE_CHECKING:
    from bale.pipeline.metrics import Collected, Diff
    from bale.repo.repository import Repo

DEFAULT_PRECISION = 5  # dvc's, for metrics


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    subs = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True)
    if name == "params":
        diff = _sub(subs, "diff", "Show changes in params between two revisions, or a revision "
                    "and the workspace.")  # fmt: skip
        _revs(diff)
        diff.add_argument(
            "--targets",
            nargs="*",
            metavar="PATH",
            help="params files to compare, whole (default: what stages use)",
        )
        diff.add_argument("--all", action="store_true", help="show unchanged params too")
        diff.add_argument("--deps", action="store_true", help="only params stages depend on")
        _formats(diff)
        diff.add_argument("--no-path", action="store_true", help="leave out the Path column")
        diff.set_defaults(func=cmd_params_diff)
        return
    show = _sub(subs, "show", "Print metrics.")
    show.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="metrics files or folders (default: every stage's and dvc.yaml's)",
    )
    show.add_argument("-a", "--all-branches", action="store_true", help="of every branch")
    show.add_argument("-T", "--all-tags", action="store_true", help="of every tag")
    show.add_argument("-A", "--all-commits", action="store_true", help="of every commit")
    _formats(show)
    _recursive(show)
    _precision(show)
    show.set_defaults(func=cmd_metrics_show)
    diff = _sub(subs, "diff", "Show changes in metrics between two revisions, or a revision "
                "and the workspace.")  # fmt: skip
    _revs(diff)
    diff.add_argument(
        "--targets",
        nargs="*",
        metavar="PATH",
        help="metrics files or folders (default: every stage's and dvc.yaml's)",
    )
    _recursive(diff)
    diff.add_argument("--all", action="store_true", help="show unchanged metrics too")
    _formats(diff)
    diff.add_argument("--no-path", action="store_true", help="leave out the Path column")
    _precision(diff)
    diff.set_defaults(func=cmd_metrics_diff)


def _sub(subs: Any, name: str, text: str) -> argparse.ArgumentParser:
    sub = subs.add_parser(name, help=text, description=text)
    sub_quiet_flags(sub, "print nothing but errors and the result")
    return sub


def _revs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "a_rev", nargs="?", default="HEAD", metavar="A_REV", help="the old revision (default: HEAD)"
    )
    parser.add_argument("b_rev", nargs="?", default="workspace", metavar="B_REV",
                        help="the new revision (default: the workspace)")  # fmt: skip


def _formats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--md", action="store_true", dest="markdown",
                        help="a Markdown (GitHub) table")  # fmt: skip


def _recursive(parser: argparse.ArgumentParser) -> None:
    # dvc's flag; folders always stand for the files inside them.
    parser.add_argument("-R", "--recursive", action="store_true",
                        help="a folder target stands for the metrics files inside it")  # fmt: skip


def _precision(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--precision",
        type=int,
        metavar="N",
        help=f"round to N digits after the point (default: {DEFAULT_PRECISION})",
    )


# -- commands ---------------------------------------------------------------


def _repo() -> Repo:
    from bale.repo.repository import Repo

    return Repo.open(os.getcwd())


def _targets(repo: Repo, targets: list[str] | None) -> list[str] | None:
    """Targets as given (relative to here), made root-relative."""
    return [repo.rel(t) for t in targets] if targets else None


def cmd_params_diff(args: argparse.Namespace) -> int:
    from functools import partial

    from bale.pipeline.metrics import compare, params_of

    repo = _repo()
    what = partial(params_of, targets=_targets(repo, args.targets), deps_only=args.deps)
    done = compare(repo, args.a_rev, args.b_rev, what, unchanged=args.all)
    _warn(args, [(args.a_rev, done.old), (args.b_rev, done.new)], "params")
    _print_diff(args, repo, done.diff, "Param", precision=None, changes=False)
    return 0


def cmd_metrics_diff(args: argparse.Namespace) -> int:
    from functools import partial

    from bale.pipeline.metrics import compare, metrics_of

    repo = _repo()
    what = partial(metrics_of, targets=_targets(repo, args.targets))
    done = compare(repo, args.a_rev, args.b_rev, what, unchanged=args.all)
    _warn(args, [(args.a_rev, done.old), (args.b_rev, done.new)], "metrics")
    precision = args.precision or DEFAULT_PRECISION
    _print_diff(args, repo, done.diff, "Metric", precision=precision, changes=True)
    return 0


def cmd_metrics_show(args: argparse.Namespace) -> int:
    from functools import partial

    from bale.pipeline.metrics import WORKSPACE, active_branch, collect, metrics_of, revisions, same

    repo = _repo()
    what = partial(metrics_of, targets=_targets(repo, args.targets))
    by_rev: dict[str, Collected] = {}
    several = args.all_branches or args.all_tags or args.all_commits
    if not several:
        by_rev[""] = collect(repo, WORKSPACE, what)  # dvc names it "" then
    else:
        by_rev[WORKSPACE] = collect(repo, WORKSPACE, what)
        revs = revisions(repo, branches=args.all_branches, tags=args.all_tags,
                         commits=args.all_commits)  # fmt: skip
        for name, commit in revs:
            by_rev[name] = collect(repo, commit, what)
        # dvc leaves the workspace out when it holds what its branch holds.
        branch = active_branch(repo)
        if branch is not None and branch in by_rev and same(by_rev[WORKSPACE], by_rev[branch]):
            del by_rev[WORKSPACE]
    _warn(args, [(rev or WORKSPACE, c) for rev, c in by_rev.items()], "metrics")
    if args.json:
        print_json({rev: _show_json(repo, c) for rev, c in by_rev.items()})
        return 0
    precision = args.precision or DEFAULT_PRECISION
    _print_show(by_rev, repo, markdown=args.markdown, revision=several, precision=precision)
    return 0


# -- printing ---------------------------------------------------------------


def _shown(repo: Repo, rel: str) -> str:
    """A root-relative path as dvc shows it: relative to here."""
    return os.path.relpath(repo.abs(rel))


def _warn(args: argparse.Namespace, sides: list[tuple[str, Collected]], what: str) -> None:
    """One line per file (or revision) that could not be read; dvc says only
    that some revision failed."""
    from bale.pipeline.metrics import WORKSPACE

    if getattr(args, "quiet", False):
        return
    problems = [(rev, exc) for rev, collected in sides for exc in collected.errors()]
    warn_revisions(what, problems, WORKSPACE)


def _error_json(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "msg": str(exc)}


def _show_json(repo: Repo, collected: Collected) -> dict[str, Any]:
    """One revision as `dvc metrics show --json` has it."""
    if collected.error is not None:
        return {"error": _error_json(collected.error)}
    data = {}
    for rel, loaded in collected.files.items():
        if loaded.error is not None:
            data[_shown(repo, rel)] = {"error": _error_json(loaded.error)}
        else:
            data[_shown(repo, rel)] = {"data": loaded.data}
    return {"data": data}


def _cell(value: Any, precision: int | None) -> str:
    """A value as dvc's `_format_field` writes it: None as '-', floats
    rounded to `precision` digits."""
    if value is None:
        return "-"
    if isinstance(value, float) and precision:
        value = round(value, precision)
    return str(value)


def _print_diff(
    args: argparse.Namespace, repo: Repo, diff: Diff, title: str, *, precision: int | None,
    changes: bool,
) -> None:  # fmt: skip
    if args.json:
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for rel, keys in diff.items():
            out[_shown(repo, rel)] = {
                key: {"old": c.old, "new": c.new, **({} if c.diff is None else {"diff": c.diff})}
                for key, c in keys.items()
            }
        print_json(out)
        return
    headers = ["Path", title, args.a_rev, args.b_rev, "Change"]
    rows = []
    for rel, keys in diff.items():
        for key, c in keys.items():
            rows.append([_shown(repo, rel), key, _cell(c.old, precision), _cell(c.new, precision),
                         _cell(c.diff, precision)])  # fmt: skip
    keep = [i for i, h in enumerate(headers)
            if not (i == 0 and args.no_path) and not (i == 4 and not changes)]  # fmt: skip
    _table([headers[i] for i in keep], [[r[i] for i in keep] for r in rows],
           markdown=args.markdown)  # fmt: skip


def _print_show(
    by_rev: dict[str, Collected], repo: Repo, *, markdown: bool, revision: bool, precision: int
) -> None:
    from bale.pipeline.metrics import flatten

    rows: list[dict[str, str]] = []
    keys: dict[str, None] = {}
    for rev, collected in by_rev.items():
        for rel, loaded in collected.files.items():
            values = {k: _cell(v, precision) for k, v in flatten(loaded.data or {}).items()}
            keys.update(dict.fromkeys(values))
            rows.append({"Revision": rev, "Path": _shown(repo, rel), **values})
    headers = (["Revision"] if revision else []) + ["Path"] + sorted(keys)
    _table(headers, [[row.get(h, "-") for h in headers] for row in rows], markdown=markdown)


def _table(headers: list[str], rows: list[list[str]], *, markdown: bool) -> None:
    """tabulate's `plain` (or, with `markdown`, `github`) table as dvc calls it:
    every column left-aligned and at least two wider than its header, cells
    stripped, plain lines stripped at the end; an empty plain table prints
    nothing, an empty Markdown table its header."""
    if not rows and not markdown:
        return
    rows = [[cell.strip() for cell in row] for row in rows]
    widths = [max([len(h) + 2, *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells, widths, strict=True)]
        return "| " + " | ".join(padded) + " |" if markdown else "  ".join(padded).rstrip()

    lines = [line(headers)]
    if markdown:
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [line(row) for row in rows]
    # dvc ends a Markdown table with an empty line ("incomplete without it").
    print("\n".join(lines) + ("\n" if markdown else ""))
