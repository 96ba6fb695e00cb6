"""Remotes shared with the real dvc: what one pushes, the other pulls.

Over a folder remote and moto's S3 server (endpointurl in .dvc/config, keys in
config.local, which dvc reads the same way).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_sync import Remote, clone, commit_all, folder_remote, s3_remote
from tests.compat.data import DATASET, md5, snapshot, write_dataset

pytestmark = pytest.mark.dvc


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    if request.param == "folder":
        return folder_remote(tmp_path)
    return s3_remote(request.getfixturevalue("s3_server"))


def in_sync(proc) -> bool:
    return proc.stdout.strip() == "Cache and remote 'storage' are in sync."


def cache_oids(repo: Path) -> set[str]:
    base = repo / ".dvc" / "cache" / "files" / "md5"
    return {p.parent.name + p.name for p in base.glob("??/*") if not p.name.endswith(".tmp")}


def test_bale_push_then_dvc_pull(repo: Path, remote: Remote, tmp_path: Path, bale, dvc, git):
    targets = write_dataset(repo)
    bale("add", *targets, cwd=repo)
    remote.configure(bale, repo)
    commit_all(git, repo, "data")
    bale("push", cwd=repo)

    other = clone(git, repo, tmp_path / "clone")
    dvc("pull", cwd=other)
    assert snapshot(other) == snapshot(repo)
    assert cache_oids(other) == cache_oids(repo) == remote.oids()
    assert in_sync(dvc("status", "-c", cwd=other))
    assert in_sync(dvc("status", "-c", cwd=repo))


def test_dvc_push_then_bale_pull(dvc_added: Path, remote: Remote, tmp_path: Path, bale, dvc, git):
    remote.configure(dvc, dvc_added)
    commit_all(git, dvc_added, "remote")
    dvc("push", cwd=dvc_added)

    other = clone(git, dvc_added, tmp_path / "clone")
    bale("pull", cwd=other)
    assert snapshot(other) == snapshot(dvc_added)
    assert cache_oids(other) == cache_oids(dvc_added) == remote.oids()
    assert in_sync(bale("status", "-c", cwd=other))
    assert in_sync(bale("status", "-c", cwd=dvc_added))
    assert bale("push", cwd=dvc_added).stdout.strip() == "Everything is up to date."


def test_dvc_pushes_part_bale_the_rest_dvc_fetches_all(
    dvc_added: Path, s3_server, tmp_path: Path, bale, dvc, git
):
    store = s3_remote(s3_server)
    store.configure(bale, dvc_added)
    commit_all(git, dvc_added, "remote")
    dvc("push", "data", "single.bin", cwd=dvc_added)
    part = store.oids()
    assert md5(DATASET["single.bin"]) in part and md5(DATASET["run.sh"]) not in part

    pushed = bale("push", cwd=dvc_added).stdout.strip()
    assert pushed == f"{len(cache_oids(dvc_added) - part)} files pushed"  # only the rest
    assert store.oids() == cache_oids(dvc_added)

    other = clone(git, dvc_added, tmp_path / "clone")
    dvc("fetch", cwd=other)
    assert cache_oids(other) == cache_oids(dvc_added)
    assert in_sync(dvc("status", "-c", cwd=other))
    dvc("checkout", cwd=other)
    assert snapshot(other) == snapshot(dvc_added)
