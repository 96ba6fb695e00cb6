"""git-hook: install or remove git hooks and the merge driver; run a hook; merge as a driver."""

from __future__ import annotations

import argparse
import os
import sys

from bale.cli.args import sub_quiet_flags

_HOOKS = ("post-checkout", "pre-commit", "pre-push")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True,
                                metavar="{install,uninstall,merge-driver,pre-commit,post-checkout,"
                                "pre-push}")  # fmt: skip
    install = sub.add_parser("install", help="write the git hooks (checkout after git checkout, "
                             "push before git push, card check before git commit) and the merge "
                             "driver for .dvc files and dvc.lock")  # fmt: skip
    install.add_argument("-f", "--force", action="store_true",
                         help="replace hooks bale did not write")  # fmt: skip
    sub_quiet_flags(install)
    install.set_defaults(func=cmd_install)
    uninstall = sub.add_parser("uninstall", help="remove what install wrote (other hooks stay)")
    sub_quiet_flags(uninstall)
    uninstall.set_defaults(func=cmd_uninstall)
    driver = sub.add_parser("merge-driver", help="merge three versions of a .dvc file or "
                            "dvc.lock, as git's merge driver (exit 1: a conflict)")  # fmt: skip
    driver.add_argument("--ancestor", required=True, help="the common ancestor's version (%%O)")
    driver.add_argument("--ours", required=True, help="our version, replaced by the result (%%A)")
    driver.add_argument("--theirs", required=True, help="their version (%%B)")
    driver.add_argument("--path", help="the file's path in the repository (%%P)")
    driver.add_argument("--marker-size", type=int, default=7, metavar="N",
                        help="length of conflict markers (%%L)")  # fmt: skip
    sub_quiet_flags(driver)
    driver.set_defaults(func=cmd_merge_driver)
    for hook in _HOOKS:
        run = sub.add_parser(hook, help=f"run the {hook} hook (what the installed hook calls)")
        run.add_argument("args", nargs=argparse.REMAINDER, help="the arguments git passes")
        run.set_defaults(func=cmd_hook, hook=hook)


def _repo():
    from bale.repo.repository import Repo

    return Repo.open(".")


def cmd_install(args: argparse.Namespace) -> int:
    from bale.registry.hooks import ATTRIBUTES, HOOKS, install

    done = install(_repo(), force=args.force)
    if args.quiet:
        return 0
    for hook in done.replaced:
        print(f"Replaced '{os.path.relpath(os.path.join(done.hooks_dir, hook))}' (not bale's)")
    print(f"Installed git hooks in '{os.path.relpath(done.hooks_dir)}': {', '.join(HOOKS)}")
    attributes = os.path.relpath(done.attributes)
    print(f"Merge driver 'bale' set for {' and '.join(a.split()[0] for a in ATTRIBUTES)}"
          + (f"; commit it: git add {attributes}" if done.attributes_changed else ""))  # fmt: skip
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    from bale.registry.hooks import uninstall

    done = uninstall(_repo())
    if args.quiet:
        return 0
    folder = os.path.relpath(done.hooks_dir)
    if done.removed:
        print(f"Removed git hooks from '{folder}': {', '.join(done.removed)}")
    for hook in done.kept:
        print(f"Left '{os.path.join(folder, hook)}': bale did not write it")
    if done.driver or done.attributes_changed:
        print("Removed the merge driver 'bale'")
    if not (done.removed or done.driver or done.attributes_changed):
        print("Nothing to remove: bale's hooks are not installed")
    return 0


def cmd_merge_driver(args: argparse.Namespace) -> int:
    from bale.registry.merge import run_driver

    result = run_driver(args.ancestor, args.ours, args.theirs, path=args.path,
                        marker_size=args.marker_size)  # fmt: skip
    if result.merged:
        return 0
    if result.unreadable:
        print(f"ERROR: {result.conflicts[0]}; left as a conflict", file=sys.stderr)
        return 1
    for line in result.conflicts:
        print(f"CONFLICT: {line}", file=sys.stderr)
    where = args.path or args.ours
    print(f"bale: could not merge '{where}'; conflict markers written: choose a side, "
          "then git add it", file=sys.stderr)  # fmt: skip
    return 1


def cmd_hook(args: argparse.Namespace) -> int:
    from bale.cli.main import main
    from bale.registry.hooks import hook_argv

    argv = hook_argv(args.hook, args.args,
                     checkout_type=os.environ.get("PRE_COMMIT_CHECKOUT_TYPE"))  # fmt: skip
    return 0 if argv is None else main(argv)
