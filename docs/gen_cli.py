"""MkDocs hook: writes reference/cli.md from bale's argparse parsers at build
time, so the command reference cannot drift from what `bale` accepts."""

from __future__ import annotations

import html

from mkdocs.structure.files import File, Files

from bale.cli.command_tree import Command, Option, Positional, command_tree

PAGE = "reference/cli.md"


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, PAGE, content=cli_reference(command_tree())))
    return files


def cli_reference(tree: Command) -> str:
    """The page: an index of the commands, then one section per command."""
    lines = [
        "# Command line",
        "",
        "Every command and subcommand of `bale` with its usage and options, written",
        "from bale's own parser when these pages are built. `bale COMMAND -h` prints",
        "the same. Every command takes `-q` (print nothing but errors) and `-v`",
        "(details and tracebacks); errors are one `ERROR:` line on stderr, exit",
        "status 1 (2 for a wrong command line). `bale completion bash` (or `zsh`)",
        "prints a completion script for these commands and options.",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    for command in tree.walk()[1:]:
        lines.append(f"| [`{command.name}`](#{_anchor(command)}) | {_cell(command.help)} |")
    lines.append("")
    for command in tree.walk()[1:]:
        lines += _section(command)
    return "\n".join(lines)


def _section(command: Command) -> list[str]:
    level = "#" * (len(command.words) + 1)
    lines = [f"{level} {command.name} {{#{_anchor(command)}}}", "", _text(command.help), ""]
    lines += ["```text", command.usage, "```", ""]
    if command.subcommands:
        subs = ", ".join(f"[`{s.words[-1]}`](#{_anchor(s)})" for s in command.subcommands)
        lines += [f"Subcommands: {subs}.", ""]
    if command.positionals:
        lines += ["| argument | what it is |", "| --- | --- |"]
        lines += [f"| `{p.name}`{_count(p)} | {_cell(p.help)} |" for p in command.positionals]
        lines.append("")
    if command.options:
        lines += ["| option | what it does |", "| --- | --- |"]
        lines += [f"| {_flags(o)} | {_option_help(o)} |" for o in command.options]
        lines.append("")
    return lines


def _anchor(command: Command) -> str:
    return "-".join(("bale", *command.words))


def _count(positional: Positional) -> str:
    if positional.many:
        return " (one or more)" if positional.required else " (any number)"
    return "" if positional.required else " (optional)"


def _flags(option: Option) -> str:
    value = f" {option.metavar}" if option.metavar else ""
    return ", ".join(f"`{flag}{value}`" for flag in option.flags)


def _option_help(option: Option) -> str:
    parts = [_cell(option.help)]
    if option.choices:
        parts.append("one of " + ", ".join(f"`{c}`" for c in option.choices))
    if option.repeatable:
        parts.append("may be given more than once")
    return "; ".join(p for p in parts if p)


def _text(text: str) -> str:
    """Help text as Markdown: HTML and emphasis characters shown as typed."""
    text = html.escape(text, quote=False)
    for char in "*_":
        text = text.replace(char, "\\" + char)
    return text


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|")
