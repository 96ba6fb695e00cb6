"""Bad input through the command line: one `ERROR:` line that says what and
where (and the fix), exit 1 (2 for usage), no traceback, nothing half-written
and nothing written outside the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.util import assert_error, snapshot


@pytest.mark.parametrize(
    ("dest", "problem"),
    [(".dvc/stolen.txt", "cannot be tracked"), ("copy.txt.dvc", "is a .dvc file")],
)
def test_add_copy_refused_after_copying_leaves_no_copy(
    repo: Path, outside: Path, bale, dest: str, problem: str
):
    before, before_parent = snapshot(repo), snapshot(repo.parent, skip=("repo",))
    proc = bale("add", outside / "secret.txt", "-o", dest, cwd=repo, ok=False)
    assert_error(proc, problem)
    assert snapshot(repo) == before
    assert snapshot(repo.parent, skip=("repo",)) == before_parent
