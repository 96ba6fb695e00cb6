"""`add --to-remote SOURCE [-o OUT]` from outside the repository, as dvc has
it: data too large for this disk's cache goes straight to the remote, and
OUT.dvc records it; OUT appears at the next pull. The `.dvc` files are the
ones dvc writes for the same data, and each tool pulls what the other added."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, read_tree, write_tree

OUTSIDE = {"big.bin": "big file\n", "shards/a.txt": "a\n", "shards/sub/b.txt": "b\n"}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    root = tmp_path / "elsewhere"
    write_tree(root, OUTSIDE)
    return root


def _project(root: Path, store: Path, tool, git) -> Path:
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    tool("init", "-q", cwd=root)
    tool("remote", "add", "-d", "storage", str(store), cwd=root)
    return root


def test_outside_data_goes_straight_to_the_remote_as_dvc_sends_it(
    outside: Path, tmp_path: Path, bale, dvc, git
):
    repo = _project(tmp_path / "repo", tmp_path / "store", bale, git)
    twin = _project(tmp_path / "twin", tmp_path / "twin-store", dvc, git)
    for tool, root in ((bale, repo), (dvc, twin)):
        tool("add", "-q", "--to-remote", str(outside / "big.bin"), "-o", "model.bin", cwd=root)
        tool("add", "-q", "--to-remote", str(outside / "shards"), cwd=root)
    for name in ("model.bin.dvc", "shards.dvc"):
        assert (repo / name).read_text() == (twin / name).read_text()
    assert not (repo / "model.bin").exists() and not (repo / "shards").exists()
    assert not (repo / ".dvc" / "cache" / "files").exists()  # nothing went to the cache
    assert set((repo / ".gitignore").read_text().split()) == {"/model.bin", "/shards"}

    git("add", "-A", cwd=repo)
    git("commit", "-qm", "sent", cwd=repo)
    bale("pull", "-q", cwd=repo)
    assert (repo / "model.bin").read_text() == OUTSIDE["big.bin"]
    assert read_tree(repo / "shards") == read_tree(outside / "shards")
    assert "up to date" in bale("status", cwd=repo).stdout
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    dvc("pull", "-q", cwd=clone)
    assert read_tree(clone / "shards") == read_tree(outside / "shards")

    # What dvc sent from outside, bale pulls.
    shutil.rmtree(tmp_path / "store")
    shutil.copytree(tmp_path / "twin-store", tmp_path / "store")
    shutil.rmtree(clone / "shards")
    shutil.rmtree(clone / ".dvc" / "cache")
    bale("pull", "-q", cwd=clone)
    assert read_tree(clone / "shards") == read_tree(outside / "shards")


def test_bad_sources_and_destinations_upload_nothing(outside: Path, tmp_path: Path, bale, git):
    store = tmp_path / "store"
    repo = _project(tmp_path / "repo", store, bale, git)
    write_tree(repo, {"taken.txt": "mine\n", "data/x.txt": "x\n"})
    bale("add", "-q", "data", cwd=repo)
    big = str(outside / "big.bin")
    cases = [
        (["nope", "-o", "x"], "'nope' does not exist"),
        ([str(tmp_path)], "holds this repository itself"),
        ([big, "-o", str(tmp_path / "out.bin")], "outside the repository"),
        ([big, "-o", ".git/hooks/pre-commit"], "cannot be tracked"),
        ([big, "-o", ".dvc/config.local"], "cannot be tracked"),
        ([big, "-o", "taken.txt"], "'taken.txt' already exists"),
        ([big, "-o", "data/y.bin"], "inside an output of data.dvc"),
        ([big, str(outside / "shards"), "-o", "two"], "takes one path"),
        ([big, "--no-commit"], "--no-commit"),
    ]
    guard = Unchanged(tmp_path)
    for args, problem in cases:
        assert_error(bale("add", "--to-remote", *args, cwd=repo, ok=False), problem,
                     code=2 if problem in ("takes one path", "--no-commit") else 1)  # fmt: skip
        guard.check()
    assert not store.exists()
