"""A repository and cache that bale built work under the real dvc."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.compat.data import (
    BINARY,
    assert_up_to_date,
    cache_path,
    md5,
    remove_outputs,
    snapshot,
    status_json,
    write_dataset,
    write_tree,
)

pytestmark = pytest.mark.dvc


def test_dvc_status_is_clean_and_dvc_checkout_restores_what_bale_added(repo: Path, bale, dvc):
    targets = write_dataset(repo)
    bale("add", *targets, cwd=repo)
    added = snapshot(repo)

    assert_up_to_date(dvc("status", cwd=repo))

    remove_outputs(repo, targets)
    # dvc reads every .dvc file bale wrote: each output shows as deleted, nothing else.
    assert status_json(dvc("status", "--json", cwd=repo)) == {
        f"{t}.dvc": [{"changed outs": {t: "deleted"}}] for t in targets
    }

    dvc("checkout", cwd=repo)
    # Same bytes, same exec bit on run.sh, empty dir back, .dvc files and .gitignore untouched.
    assert snapshot(repo) == added
    assert_up_to_date(dvc("status", cwd=repo))


@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_dvc_uses_bale_cache_and_config_with_links(repo: Path, bale, dvc, link: str):
    files = {"data/a.txt": b"a\n", "data/sub/b.txt": b"b\r\n", "model.bin": BINARY}
    write_tree(repo, files)
    bale("config", "cache.type", link, cwd=repo)
    bale("add", "data", "model.bin", cwd=repo)

    def assert_linked() -> None:
        for rel, content in files.items():
            workspace, obj = repo / rel, cache_path(repo, md5(content))
            if link == "hardlink":
                assert not workspace.is_symlink(), rel
                assert os.stat(workspace).st_ino == os.stat(obj).st_ino, rel
            else:
                assert workspace.is_symlink(), rel
                assert workspace.resolve() == obj.resolve(), rel

    assert_linked()
    added = snapshot(repo, exec_bits=False)
    assert_up_to_date(dvc("status", cwd=repo))

    remove_outputs(repo, ["data", "model.bin"])
    dvc("checkout", cwd=repo)
    assert snapshot(repo, exec_bits=False) == added
    # dvc read cache.type from the config bale wrote.
    assert_linked()
    assert_up_to_date(dvc("status", cwd=repo))


def test_dvc_works_in_a_subdir_repo_bale_initialised(tmp_path: Path, git, bale, dvc):
    top = tmp_path / "mono"
    project = top / "registry"
    project.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=top)
    bale("init", "--subdir", cwd=project)
    write_tree(project, {"data/a.txt": b"a\n", "data/b/c.txt": b"c\n"})
    bale("add", "data", cwd=project)
    added = snapshot(project)

    assert_up_to_date(dvc("status", cwd=project))
    remove_outputs(project, ["data"])
    dvc("checkout", cwd=project)
    assert snapshot(project) == added
    assert_up_to_date(dvc("status", cwd=project))
