"""model: a model registry on git tags, in GTO's format (register,
deregister, assign, unassign, deprecate, list, show)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from bale.cli.args import sub_quiet_flags
from bale.cli.main import Parser
from bale.cli.output import print_json

if TYPE_CHECKING:
    from bale.registry.models import Created


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    subs = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True,
                                 parser_class=_Intermixed)  # fmt: skip

    register = _sub(subs, "register", "Register a version of an artifact: tag NAME@vX.Y.Z on a "
                    "commit (the greatest version bumped, or v0.0.1, by default).")  # fmt: skip
    _name(register)
    _rev(register, "the commit to register (default: HEAD)", default="HEAD")
    how = register.add_mutually_exclusive_group()
    how.add_argument("--version", help="the version: v and SemVer, like v1.2.3")
    for part in ("major", "minor", "patch"):
        how.add_argument(f"--bump-{part}", dest="bump", action="store_const", const=part,
                         help=f"bump the greatest version's {part} number")  # fmt: skip
    _message(register)
    register.set_defaults(func=cmd_register)

    deregister = _sub(subs, "deregister", "Cancel a registered version: tag NAME@vX.Y.Z!.")
    _name(deregister)
    _rev(deregister, "the commit of the version (or give --version)")
    deregister.add_argument("--version", help="the version to cancel")
    _message(deregister)
    deregister.set_defaults(func=cmd_deregister)

    assign = _sub(subs, "assign", "Put a version in a stage: tag NAME#STAGE#N (a commit not "
                  "registered yet is registered first).")  # fmt: skip
    _name(assign)
    _rev(assign, "a commit to assign (default: HEAD); --version then names the version "
         "it is registered as")  # fmt: skip
    _stage(assign)
    assign.add_argument("--version", help="a registered version to assign (without REV)")
    assign.add_argument("--sr", "--skip-registration", dest="skip_registration",
                        action="store_true", help="do not register REV first")  # fmt: skip
    assign.add_argument("-f", "--force", action="store_true",
                        help="tag it even if the version holds the stage already")  # fmt: skip
    _message(assign)
    assign.set_defaults(func=cmd_assign)

    unassign = _sub(subs, "unassign", "Take a stage off a version: tag NAME#STAGE!#N (default: "
                    "off the version holding it).")  # fmt: skip
    _name(unassign)
    _rev(unassign, "the commit of the version")
    _stage(unassign)
    unassign.add_argument("--version", help="the version to take the stage off")
    _message(unassign)
    unassign.set_defaults(func=cmd_unassign)

    deprecate = _sub(subs, "deprecate", "Deprecate an artifact: tag NAME@deprecated.")
    _name(deprecate)
    _message(deprecate)
    deprecate.set_defaults(func=cmd_deprecate)

    listing = _sub(subs, "list", "Show every artifact: its greatest version and what each "
                   "stage holds.")  # fmt: skip
    _shown(listing)
    listing.set_defaults(func=cmd_list)

    show = _sub(subs, "show", "Show an artifact's versions, their commits and stages.")
    show.add_argument("name", metavar="NAME",
                      help="an artifact, or NAME@vX.Y.Z, NAME@latest, NAME#STAGE")  # fmt: skip
    _shown(show)
    show.set_defaults(func=cmd_show)


class _Intermixed(Parser):
    """A sub-command's parser that takes REV after the options too
    (`assign rf --stage prod HEAD~1`, as GTO's click does); plain argparse
    stops filling positionals at the first option."""

    _inside = False

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._inside:  # parse_known_intermixed_args calls back in here
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def _sub(subs: Any, name: str, text: str) -> argparse.ArgumentParser:
    sub = subs.add_parser(name, help=text, description=text)
    sub_quiet_flags(sub)
    return sub


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME",
                        help="the artifact, as dvc.yaml's artifacts: name it (dir:name in a "
                        "folder's dvc.yaml)")  # fmt: skip


def _rev(parser: argparse.ArgumentParser, text: str, default: str | None = None) -> None:
    parser.add_argument("rev", nargs="?", default=default, metavar="REV", help=text)


def _stage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the stage, like prod")


def _message(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--message", help="the tag's message (default: GTO's)")


def _shown(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--deprecated", action="store_true",
                        help="include deprecated artifacts")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="gto show --json's output")


# -- commands ---------------------------------------------------------------


def _git() -> tuple[str, str]:
    """The git work tree around the working folder and its git directory."""
    from bale.errors import GitRequiredError
    from bale.repo.git import Git, find_git_root

    top = find_git_root(os.getcwd())
    if top is None:
        raise GitRequiredError(
            f"'{os.getcwd()}' is inside no git repository, and the model registry is git tags; "
            "run: git init"
        )
    return top, Git(top).run("rev-parse", "--absolute-git-dir").decode().strip()


def _report(args: argparse.Namespace, made: list[Created]) -> int:
    """GTO's words for what was tagged, and how to push it."""
    if args.quiet:
        return 0
    import shlex

    for created in made:
        print(f"Created git tag '{created.tag}' that {created.what}")
    print("To push the changes upstream, run:")
    print(f"    git push origin {' '.join(shlex.quote(c.tag) for c in made)}")
    print("(or every tag at once: git push --tags)")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from bale.registry.models import register

    _top, git_dir = _git()
    made = register(git_dir, args.name, args.rev, version=args.version, bump=args.bump,
                    message=args.message)  # fmt: skip
    return _report(args, [made])


def cmd_deregister(args: argparse.Namespace) -> int:
    from bale.registry.models import deregister

    _top, git_dir = _git()
    made = deregister(git_dir, args.name, version=args.version, rev=args.rev,
                      message=args.message)  # fmt: skip
    return _report(args, [made])


def cmd_assign(args: argparse.Namespace) -> int:
    from bale.registry.models import allowed_stages, assign

    top, git_dir = _git()
    # As `gto assign`: with REV, --version names the version REV is registered as.
    version, new_version = (None, args.version) if args.rev else (args.version, None)
    made = assign(
        git_dir, args.name, args.stage, version=version, rev=args.rev, new_version=new_version,
        skip_registration=args.skip_registration, message=args.message, force=args.force,
        allowed=allowed_stages(top),
    )  # fmt: skip
    return _report(args, made)


def cmd_unassign(args: argparse.Namespace) -> int:
    from bale.registry.models import unassign

    _top, git_dir = _git()
    made = unassign(git_dir, args.name, args.stage, version=args.version, rev=args.rev,
                    message=args.message)  # fmt: skip
    return _report(args, [made])


def cmd_deprecate(args: argparse.Namespace) -> int:
    from bale.registry.models import deprecate

    _top, git_dir = _git()
    return _report(args, [deprecate(git_dir, args.name, message=args.message)])


def cmd_list(args: argparse.Namespace) -> int:
    from bale.registry.models import allowed_stages, registry_json, registry_state, used_stages

    top, git_dir = _git()
    allowed = allowed_stages(top)
    state = registry_state(git_dir)
    shown = registry_json(state, allowed=allowed, deprecated=args.deprecated)
    if args.json:
        print_json(shown)
        return 0
    if not shown:
        if not args.quiet:
            print("No artifact in the registry tags; register one: bale model register NAME")
        return 0
    stages = used_stages(state, allowed)
    rows = [["name", "latest", *(f"#{s}" for s in stages)]]
    for name, item in sorted(shown.items()):
        rows.append([name if item["active"] else f"{name} (deprecated)", item["version"] or "-",
                     *(item["stage"][s] or "-" for s in stages)])  # fmt: skip
    _table(rows)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from bale.registry.models import registry_state, versions_json

    _top, git_dir = _git()
    shown = versions_json(registry_state(git_dir), args.name, deprecated=args.deprecated)
    if args.json:
        print_json(shown)
        return 0
    rows = [["version", "stage", "commit", "created_at", "ref"]]
    for item in shown:
        stages = ", ".join(s["stage"] for s in item["stages"]) or "-"
        rows.append([item["version"], stages, item["commit_hexsha"][:8],
                     item["created_at"] or "-", item["ref"] or "-"])  # fmt: skip
    if len(rows) > 1:
        _table(rows)
    elif not args.quiet:
        print(f"No version of '{args.name}' in effect")
    return 0


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
