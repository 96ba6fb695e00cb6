"""Fixtures for end-to-end tests of the `bale` command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.util import can_drop_privileges, unprivileged, write_tree


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository (the repo fixture lives in tmp_path/repo)."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("outside\n")
    return path


@pytest.fixture
def tracked(repo: Path, bale, git) -> Path:
    """`repo` with a folder `data` (3 files) and a file `model.bin` added and committed."""
    write_tree(repo, {"data/a.txt": "a\n", "data/b.txt": "b\n", "data/sub/c.txt": "c\n"})
    write_tree(repo, {"model.bin": b"\x00\x01model"})
    bale("add", "data", "model.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)
    return repo


@pytest.fixture
def as_user():
    """subprocess options that make file permissions bind (see util.unprivileged)."""
    if not can_drop_privileges():
        pytest.skip("running as root without CAP_SETPCAP: cannot make a file unreadable")
    return unprivileged()


def run_raw(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, **kw)
