"""card: write an entry's card from its folder's template; check every card."""

from __future__ import annotations

import argparse
import os
import posixpath
import sys

from bale.cli.args import sub_quiet_flags
from bale.errors import TargetError, UsageError


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="{new,check}", required=True)
    new = sub.add_parser("new", help="write an entry's card from its folder's template.card.md")
    new.add_argument("path", help="a tracked entry (a dataset or model)")
    new.add_argument("--template", help="the template to fill (default: the folder's "
                     "template.card.md, else a short default)")  # fmt: skip
    new.add_argument("-f", "--force", action="store_true", help="replace an existing card")
    sub_quiet_flags(new)
    new.set_defaults(func=cmd_new)
    check = sub.add_parser("check", help="report entries without a valid card, and cards "
                           "without an entry; exit 1 on any")  # fmt: skip
    check.add_argument("paths", nargs="*", help="only these entries, cards or folders")
    check.add_argument("--staged", action="store_true",
                       help="only what is staged to commit (the pre-commit hook)")  # fmt: skip
    check.add_argument("--rev", help="check a revision instead of the working tree")
    sub_quiet_flags(check)
    check.set_defaults(func=cmd_check)


def _top_rel(top: str, path: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), top).replace(os.sep, "/")
    if rel == ".." or rel.startswith("../"):
        raise TargetError(f"'{path}' is outside the repository '{top}'")
    return "" if rel == "." else rel


def cmd_new(args: argparse.Namespace) -> int:
    from bale.external.sources import reading_view
    from bale.fsutil import atomic_write
    from bale.registry.cards import TEMPLATE, card_path, default_template, fields_of, render
    from bale.registry.cards import settings_of as read_settings
    from bale.registry.entries import entries

    with reading_view(None) as (_git_dir, view):
        top = view.local_root
        assert top is not None
        rel = _top_rel(top, args.path)
        settings = read_settings(view)
        found = {e.path: e for e in entries(view, settings)}
        if rel not in found:
            raise TargetError(f"'{args.path}' is not a tracked entry; track it first "
                              "(bale add), or name its output path")  # fmt: skip
        entry = found[rel]
        dest = os.path.join(top, *card_path(rel).split("/"))
        if os.path.lexists(dest) and not args.force:
            raise TargetError(f"'{os.path.relpath(dest)}' already exists; use -f to replace it")
        template_rel = posixpath.join(posixpath.dirname(rel), TEMPLATE)
        if args.template is not None:
            template = _read_text(args.template)
        elif template_rel in view.tree.files():
            template = view.tree.read(template_rel).decode("utf-8", "replace")
        else:
            rules = settings.rules_for(rel)
            template = default_template(rules.required if rules else ())
    atomic_write(dest, render(template, fields_of(entry)).encode("utf-8"))
    if not args.quiet:
        print(f"Wrote '{os.path.relpath(dest)}'; fill it in and git add it")
    return 0


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fobj:
            return fobj.read()
    except FileNotFoundError as exc:
        raise TargetError(f"template '{path}' does not exist") from exc
    except UnicodeDecodeError as exc:
        raise TargetError(f"template '{path}' is not UTF-8 text") from exc


def cmd_check(args: argparse.Namespace) -> int:
    from bale.external.sources import reading_view
    from bale.registry.cards import CARD_SUFFIX, check, settings_of
    from bale.registry.entries import entries

    if args.staged and args.rev:
        raise UsageError("--staged checks what is about to be committed; give it or --rev")
    cwd_top = None
    with reading_view(None) as (_git_dir, work):
        cwd_top = work.local_root
    assert cwd_top is not None
    with reading_view(None if args.rev is None else cwd_top, args.rev) as (git_dir, view):
        found = entries(view, settings := settings_of(view))
        problems = check(view, found, settings)
        tops = [_top_rel(cwd_top, p) for p in args.paths]
        if args.staged:
            tops = [p.removesuffix(CARD_SUFFIX).removesuffix(".dvc") for p in _staged(git_dir)]
    if args.paths or args.staged:
        # A card's problem belongs to its entry too: `check data/x` covers data/x.card.md.
        problems = [p for p in problems
                    if any(_under(p.path.removesuffix(CARD_SUFFIX), t) for t in tops)]  # fmt: skip
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} card problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"Every card of {len(found)} entries is in order")
    return 0


def _staged(git_dir: str) -> list[str]:
    from bale.repo.gittree import run_git

    out = run_git(git_dir, "diff", "--cached", "--name-only", "-z")
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def _under(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")
