"""`bale --version` starts without importing anything heavy (STYLE.md, "Start-up"):
the command table is read and nothing else of bale, and no third-party module."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

HEAVY = {"yaml", "rich", "configobj", "fsspec", "pathspec", "ruamel", "obstore", "sqlite3"}


def _imported(*args: str) -> tuple[set[str], str]:
    """Modules Python imports for `python -X importtime ARGS` (from its stderr)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    return names, proc.stdout


@pytest.fixture(scope="module")
def baseline() -> set[str]:
    """What the interpreter imports before any of bale runs (site, .pth hooks)."""
    return _imported("-c", "pass")[0]


def _check(names: set[str], baseline: set[str], expected_bale: set[str]) -> None:
    assert {n for n in names if n == "bale" or n.startswith("bale.")} == expected_bale
    extra = names - baseline - expected_bale
    foreign = sorted(n for n in extra if n.split(".")[0] not in sys.stdlib_module_names)
    assert not foreign, f"bale --version imports third-party modules: {foreign}"
    assert not {n.split(".")[0] for n in names} & HEAVY


def test_console_script_version_imports_only_the_command_table(baseline: set[str]):
    script = shutil.which("bale", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the bale console script is not installed beside this interpreter")
    names, out = _imported(script, "--version")
    assert out.strip() == __import__("bale").__version__
    _check(names, baseline, {"bale", "bale.cli", "bale.cli.main"})


def test_module_version_imports_only_the_command_table(baseline: set[str]):
    names, out = _imported("-m", "bale", "--version")
    assert out.strip() == __import__("bale").__version__
    _check(names, baseline, {"bale", "bale.cli", "bale.cli.main"})  # __main__ is run, not imported


def test_help_imports_no_command_module(baseline: set[str]):
    names, out = _imported("-m", "bale", "--help")
    assert "usage: bale" in out
    _check(names, baseline, {"bale", "bale.cli", "bale.cli.main"})  # __main__ is run, not imported


def test_import_bale_api_is_light(baseline: set[str]):
    """Notebooks import the API first: it must not pull in fsspec, YAML or a client."""
    names, _ = _imported("-c", "import bale.api")
    assert {n for n in names if n == "bale" or n.startswith("bale.")} == {
        "bale", "bale.api", "bale.errors",
    }  # fmt: skip
    foreign = sorted(n for n in names - baseline
                     if n.split(".")[0] not in {*sys.stdlib_module_names, "bale"})  # fmt: skip
    assert not foreign, f"import bale.api imports third-party modules: {foreign}"
