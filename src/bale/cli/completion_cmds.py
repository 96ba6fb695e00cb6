"""completion bash / zsh: print a static completion script written from the parsers."""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, help="the shell to write the script for")
    parser.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    from bale.cli.command_tree import command_tree
    from bale.cli.completion import bash_script, zsh_script

    write = {"bash": bash_script, "zsh": zsh_script}[args.shell]
    print(write(command_tree()), end="")
    return 0
