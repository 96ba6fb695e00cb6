"""Fixtures for the compatibility tests: repositories built by the real dvc.

Set BALE_COMPAT_ORACLE=1 to run these tests with dvc standing in for bale. Every
test must then pass: that checks the tests' own expectations against dvc.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.compat.data import write_dataset, write_legacy_repo


@pytest.fixture
def bale(bale, dvc):
    """The `bale` command, or dvc itself when checking the tests (BALE_COMPAT_ORACLE=1)."""
    return dvc if os.environ.get("BALE_COMPAT_ORACLE") == "1" else bale


@pytest.fixture
def dvc_repo(tmp_path: Path, git, dvc) -> Path:
    """An empty git repository with `dvc init` done and committed."""
    root = tmp_path / "dvc-repo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    dvc("init", "-q", cwd=root)
    git("commit", "-qm", "dvc init", cwd=root)
    return root


@pytest.fixture
def dvc_added(dvc_repo: Path, git, dvc) -> Path:
    """`dvc_repo` with the standard data set added by dvc and committed to git."""
    targets = write_dataset(dvc_repo)
    dvc("add", "-q", *targets, cwd=dvc_repo)
    git("add", "-A", cwd=dvc_repo)
    git("commit", "-qm", "dvc add", cwd=dvc_repo)
    return dvc_repo


@pytest.fixture
def legacy_repo(tmp_path: Path, git) -> Path:
    """A DVC 2.x registry, written by hand (see `write_legacy_repo`) and committed."""
    root = tmp_path / "legacy"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    write_legacy_repo(root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "a registry from the DVC 2 days", cwd=root)
    return root
