"""The user documentation builds with `mkdocs build --strict`, its command
reference has every command, subcommand and option of bale's parser, and
every test the pages cite exists."""

from __future__ import annotations

import argparse
import ast
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bale.cli.main import COMMANDS, command_parser

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r'<h([23]) id="(bale[^"]*)">(bale [^<]*)')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def _parser_commands() -> dict[str, set[str]]:
    """Every command and subcommand of the parser, with its option strings,
    read from argparse directly (not through the tree the reference uses)."""
    found: dict[str, set[str]] = {}

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        found[name] = set(parser._option_string_actions)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(f"{name} {sub}", subparser)

    for name in COMMANDS:
        walk(f"bale {name}", command_parser(name))
    return found


def _reference_sections(site: Path) -> dict[str, str]:
    """Each command's section of the built reference page: its name -> HTML."""
    page = (site / "reference" / "cli" / "index.html").read_text()
    heads = list(HEADING.finditer(page))
    ends = [h.start() for h in heads[1:]] + [len(page)]
    pairs = zip(heads, ends, strict=True)
    return {html.unescape(h.group(3)).strip(): page[h.end() : end] for h, end in pairs}


def test_every_command_and_subcommand_is_in_the_reference(site: Path):
    documented = set(_reference_sections(site))
    expected = set(_parser_commands())
    assert documented - expected == set(), "documented but not in the parser"
    assert expected - documented == set(), "in the parser but not documented"


def test_every_option_is_in_its_commands_section(site: Path):
    sections = _reference_sections(site)
    for name, options in _parser_commands().items():
        for option in options:
            assert f"<code>{option}" in sections[name], (name, option)


def test_the_api_reference_has_the_public_functions(site: Path):
    page = (site / "reference" / "api" / "index.html").read_text()
    for name in ("open", "read", "get_url", "params_show", "metrics_show", "artifacts_show"):
        assert f'id="bale.api.{name}"' in page, name
    assert 'id="bale.api.balefs.BaleFileSystem"' in page


def test_every_cited_test_exists():
    """`tests/...py::test_name` in a page names a test function of that file."""
    cited = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
    count = 0
    for page in (ROOT / "docs").rglob("*.md"):
        for path, name in cited.findall(page.read_text()):
            source = ROOT / path
            assert source.is_file(), (page.name, path)
            tree = ast.parse(source.read_text())
            names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert name in names, (page.name, path, name)
            count += 1
    assert count > 0
