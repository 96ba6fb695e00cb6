"""`bale completion bash|zsh`: the scripts load in a real shell and complete
commands, subcommands, options, option values and file names."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from bale.cli.main import COMMANDS, command_parser
from tests.cli.util import assert_error, bale_argv


def _script(shell: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    proc = subprocess.run([*bale_argv(), "completion", shell], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    path = tmp_path_factory.mktemp("completion") / f"bale.{shell}"
    path.write_text(proc.stdout)
    return path


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _script("bash", tmp_path_factory)


def _complete(script: Path, line: str, cwd: Path | None = None) -> list[str]:
    """What TAB offers at the end of `line` in bash (COMPREPLY of `_bale`)."""
    program = (
        f"source {script}\n"
        'read -ra COMP_WORDS <<< "$LINE"\n'
        '[[ $LINE == *" " ]] && COMP_WORDS+=("")\n'
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
        "_bale\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True, text=True, cwd=cwd, env={"LINE": line, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [word for word in proc.stdout.splitlines() if word]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_bash_script_is_valid_bash(bash_script: Path):
    proc = subprocess.run(["bash", "-n", str(bash_script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_bash_registers_the_function_for_bale(bash_script: Path):
    proc = subprocess.run(
        ["bash", "--norc", "-c", f"source {bash_script}; complete -p bale"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout.strip().endswith("-F _bale bale")


def test_bash_completes_a_command_from_its_start(bash_script: Path):
    assert _complete(bash_script, "bale ad") == ["add"]
    assert _complete(bash_script, "bale imp") == ["import", "import-url"]


def test_bash_offers_every_command(bash_script: Path):
    assert _complete(bash_script, "bale ") == list(COMMANDS)


def test_bash_completes_the_options_of_the_command(bash_script: Path):
    longs = [s for s in command_parser("push")._option_string_actions if s.startswith("--")]
    assert sorted(_complete(bash_script, "bale push --")) == sorted(longs)
    assert _complete(bash_script, "bale push --ru") == ["--run-cache"]
    assert "--to-remote" in _complete(bash_script, "bale add --")


def test_bash_completes_subcommands_and_their_options(bash_script: Path):
    for name in ("remote", "stage", "model", "sync", "git-hook"):
        expected = list(_subparsers(command_parser(name)))
        assert _complete(bash_script, f"bale {name} ") == expected, name
    assert _complete(bash_script, "bale remote -q ") == list(_subparsers(command_parser("remote")))
    assert "--default" in _complete(bash_script, "bale remote add --")
    assert "--default" not in _complete(bash_script, "bale remote modify --")


def test_bash_completes_the_choices_of_an_argument(bash_script: Path):
    assert _complete(bash_script, "bale catalog --kind ") == ["dataset", "model"]
    assert _complete(bash_script, "bale completion ") == ["bash", "zsh"]
    assert _complete(bash_script, "bale completion z") == ["zsh"]


def test_bash_completes_a_value_given_after_an_equals_sign(bash_script: Path, tmp_path: Path):
    # bash splits `--kind=da` into `--kind`, `=` and `da`
    assert _complete(bash_script, "bale catalog --kind = da") == ["dataset"]
    assert _complete(bash_script, "bale catalog --kind =") == ["dataset", "model"]
    (tmp_path / "params.yaml").write_text("a: 1\n")
    assert _complete(bash_script, "bale add --out = add pa", tmp_path) == ["params.yaml"]


def test_bash_completes_file_names_for_targets_and_option_values(bash_script: Path, tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data.csv").write_text("a\n")
    (tmp_path / "params.yaml").write_text("a: 1\n")
    assert sorted(_complete(bash_script, "bale add da", tmp_path)) == ["data", "data.csv"]
    assert sorted(_complete(bash_script, "bale stage add -d da", tmp_path)) == ["data", "data.csv"]
    # the value of -o is a path, not a command: the target after it is a file too
    assert _complete(bash_script, "bale add -o add pa", tmp_path) == ["params.yaml"]


def test_unknown_shell_is_a_usage_error(bale, tmp_path: Path):
    proc = bale("completion", "fish", cwd=tmp_path, ok=False)
    assert_error(proc, "fish", "bash", "zsh", code=2)
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def zsh_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    return _script("zsh", tmp_path_factory)


def test_zsh_script_is_valid_zsh(zsh_script: Path):
    proc = subprocess.run(["zsh", "-n", str(zsh_script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_zsh_script_registers_its_function_once_loaded(zsh_script: Path, tmp_path: Path):
    program = f"autoload -U compinit && compinit -u -D && source {zsh_script}; print $_comps[bale]"
    proc = subprocess.run(
        ["zsh", "-f", "-c", program], capture_output=True, text=True, cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.strip() == "_bale"


def test_zsh_script_has_a_function_for_every_command(zsh_script: Path):
    text = zsh_script.read_text()
    for name in COMMANDS:
        assert f"_bale_{name.replace('-', '_')}() {{" in text, name
        for sub in _subparsers(command_parser(name)):
            assert f"_bale_{name}_{sub}".replace("-", "_") + "() {" in text, (name, sub)
