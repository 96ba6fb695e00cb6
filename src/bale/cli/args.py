"""Flags several commands share, with their value checks."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


class _Jobs(argparse.Action):
    """`-j N`: a whole number of at least 1; anything else is a usage error (exit 2)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        try:
            number = int(str(values))
        except ValueError:
            number = 0
        if number < 1:
            parser.error(f"-j/--jobs must be at least 1, not {values!r}")
        setattr(namespace, self.dest, number)


def add_jobs(parser: argparse.ArgumentParser, help: str = "parallel jobs") -> None:
    parser.add_argument("-j", "--jobs", action=_Jobs, default=None, metavar="N", help=help)


def sub_quiet_flags(
    parser: argparse.ArgumentParser, quiet: str = "print nothing but errors"
) -> None:
    """`-q`/`-v` on a sub-command too (`bale stage add -q`); SUPPRESS keeps
    the ones the parent parser read (`bale stage -q add`)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=quiet)
    group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="print details and tracebacks")  # fmt: skip


# Which config file a config or remote command reads and writes, as dvc's help says.
_LEVEL_HELP = {
    "system": "the system-wide config file (/etc/xdg/dvc/config)",
    "global": "the user's config file (~/.config/dvc/config)",
    "repo": "the project's .dvc/config, kept in git (the default)",
    "local": "the project's .dvc/config.local, kept out of git (for secrets)",
}


def add_level_flags(parser: argparse.ArgumentParser) -> None:
    """--system, --global, --project, --local: one at most, stored as `level`."""
    from bale.repo.config import LEVEL_FLAGS

    group = parser.add_mutually_exclusive_group()
    for level, flag in LEVEL_FLAGS.items():
        group.add_argument(
            flag, dest="level", action="store_const", const=level, help=_LEVEL_HELP[level]
        )
