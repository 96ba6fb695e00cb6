"""Every command and subcommand of bale with its options, read from the
argparse parsers themselves, so the CLI reference and the completion scripts
cannot drift from what `bale` accepts. Imports every command module: only for
`bale completion` and the docs build, never at start-up."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bale.cli.main import COMMANDS, command_parser

# The width the usage lines are wrapped at, whatever the terminal: the
# reference must come out the same on every machine.
USAGE_WIDTH = 76


@dataclass(frozen=True, slots=True)
class Option:
    """A flag, or an option with a value (`metavar` None: a flag)."""

    flags: tuple[str, ...]
    metavar: str | None
    help: str
    choices: tuple[str, ...]
    repeatable: bool


@dataclass(frozen=True, slots=True)
class Positional:
    """An argument given by its place (`many`: any number of them)."""

    name: str
    help: str
    choices: tuple[str, ...]
    many: bool
    required: bool


@dataclass(frozen=True, slots=True)
class Command:
    """`words` after `bale` (empty for bale itself), e.g. ("remote", "add")."""

    words: tuple[str, ...]
    help: str
    usage: str
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...]
    subcommands: tuple[Command, ...]

    @property
    def name(self) -> str:
        return " ".join(("bale", *self.words))

    def walk(self) -> list[Command]:
        """This command and every command under it, depth first."""
        return [self, *(c for sub in self.subcommands for c in sub.walk())]


def command_tree() -> Command:
    """bale and every command of COMMANDS, built from their parsers."""
    commands = tuple(
        _command((name,), help, command_parser(name)) for name, (_, help) in COMMANDS.items()
    )
    # main() reads these itself, before any parser exists.
    options = (
        Option(("-h", "--help"), None, "show the commands and exit", (), False),
        Option(("-V", "--version"), None, "show bale's version and exit", (), False),
    )
    usage = "bale [-h] [--version] COMMAND [ARGS]"
    return Command((), "bale's commands.", usage, options, (), commands)


def _command(words: tuple[str, ...], help: str, parser: argparse.ArgumentParser) -> Command:
    options, positionals, subcommands = [], [], []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                text = helps.get(name) or sub.description or ""
                subcommands.append(_command((*words, name), text, sub))
        elif action.option_strings:
            options.append(_option(action))
        else:
            positionals.append(_positional(action))
    return Command(
        words, help, _usage(parser), tuple(options), tuple(positionals), tuple(subcommands)
    )


def _option(action: argparse.Action) -> Option:
    takes_value = action.nargs != 0
    metavar = None
    if takes_value:
        metavar = action.metavar or action.dest.upper()
        if isinstance(metavar, tuple):
            metavar = " ".join(metavar)
    repeatable = isinstance(action, argparse._AppendAction | argparse._ExtendAction)
    return Option(
        tuple(action.option_strings),
        metavar,
        action.help or "",
        tuple(map(str, action.choices or ())),
        repeatable or action.nargs in ("*", "+"),
    )


def _positional(action: argparse.Action) -> Positional:
    name = action.metavar or action.dest
    if isinstance(name, tuple):
        name = " ".join(name)
    return Positional(
        name,
        action.help or "",
        tuple(map(str, action.choices or ())),
        action.nargs in ("*", "+", argparse.REMAINDER),
        # not action.required: argparse marks a "*" without a default required
        action.nargs not in ("?", "*", argparse.REMAINDER),
    )


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, "")
    return formatter.format_help().strip()
