"""Fixtures for end-to-end tests of the `bale` command.

`repo` and `tracked` are copies of repositories built once per session by the
real `bale` and `git` (a copy takes milliseconds; building one takes a few
hundred): the tests here run hundreds of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.util import bale_argv, can_drop_privileges, unprivileged, write_tree
from tests.conftest import GIT_ENV

TRACKED_FILES = {"data/a.txt": "a\n", "data/b.txt": "b\n", "data/sub/c.txt": "c\n"}


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("templates")
    env = {**os.environ, **GIT_ENV, "HOME": str(base / "home"), "DVC_NO_ANALYTICS": "1"}
    env["XDG_CONFIG_HOME"] = str(base / "home" / ".config")

    def run(argv: list[str], cwd: Path) -> None:
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)

    empty = base / "empty" / "repo"
    empty.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], empty)
    run([*bale_argv(), "init"], empty)
    run(["git", "commit", "-qm", "init"], empty)

    full = base / "tracked" / "repo"
    shutil.copytree(empty, full, symlinks=True)
    write_tree(full, TRACKED_FILES)
    write_tree(full, {"model.bin": b"\x00\x01model"})
    run([*bale_argv(), "add", "data", "model.bin"], full)
    run(["git", "add", "-A"], full)
    run(["git", "commit", "-qm", "data"], full)
    return {"repo": empty, "tracked": full}


def _copy(template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(template, dest, symlinks=True)
    # bale's state is keyed by inode: a copy would only be re-hashed; drop it.
    shutil.rmtree(dest / ".dvc" / "tmp", ignore_errors=True)
    return dest


@pytest.fixture
def repo(_templates: dict[str, Path], tmp_path: Path) -> Path:
    """An empty git repository with `bale init` done and committed."""
    return _copy(_templates["repo"], tmp_path)


@pytest.fixture
def tracked(_templates: dict[str, Path], tmp_path: Path) -> Path:
    """A repository with a folder `data` (3 files, one in `sub/`) and a file
    `model.bin` added by bale and committed, with the default cache type."""
    return _copy(_templates["tracked"], tmp_path)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository, which no command may write into."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("outside\n")
    return path


@pytest.fixture
def as_user():
    """subprocess options that make file permissions bind (see util.unprivileged)."""
    if not can_drop_privileges():
        pytest.skip("running as root without CAP_SETPCAP: cannot make a file unreadable")
    return unprivileged()
