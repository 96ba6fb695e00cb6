"""Remotes shared with the real dvc: what one pushes, the other pulls.

Over a folder remote, moto's S3 server, fake-gcs-server and Azurite
(endpoints in .dvc/config, keys and connection strings in config.local, which
dvc reads the same way; dvc-gs and dvc-azure are installed by make dvc-venv).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.test_sync import LOCAL_OPTIONS, Remote, clone, commit_all, folder_remote, s3_remote
from tests.compat.data import DATASET, md5, snapshot, write_dataset
from tests.fixtures.servers import AzureServer, GCSServer

pytestmark = pytest.mark.dvc


@dataclass
class CloudRemote(Remote):
    """A GCS or Azure remote on an emulator, read raw through the emulator's API."""

    cloud: GCSServer | AzureServer | None = None

    def configure(self, tool, repo: Path, *, default: bool = True, name: str = "") -> None:
        name = name or self.name
        tool("remote", "add", *(["-d"] if default else []), name, self.url, cwd=repo)
        for key, value in self.options.items():
            local = ["--local"] if key in LOCAL_OPTIONS | {"connection_string"} else []
            tool("remote", "modify", *local, name, key, value, cwd=repo)

    def stored_keys(self) -> list[str]:
        assert self.cloud is not None
        keys = self.cloud.stored_keys(self.bucket, self.prefix + "/")
        return sorted(key[len(self.prefix) + 1 :] for key in keys)

    def read(self, key: str) -> bytes:
        assert self.cloud is not None
        return self.cloud.read(self.bucket, f"{self.prefix}/{key}")


def cloud_remote(cloud: GCSServer | AzureServer, kind: str) -> CloudRemote:
    bucket = cloud.new_bucket()
    return CloudRemote(
        kind, "storage", cloud.url(bucket), cloud.options(), bucket=bucket, prefix="store",
        cloud=cloud,
    )  # fmt: skip


@pytest.fixture(params=["folder", "s3", "gs", "azure"])
def remote(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Remote:
    if request.param == "folder":
        return folder_remote(tmp_path)
    if request.param == "s3":
        return s3_remote(request.getfixturevalue("s3_server"))
    if request.param == "gs":
        # dvc-gs's gcsfs would first ask a gRPC control plane about each bucket,
        # which the emulator does not serve (a minute's wait per bucket); bale
        # never asks it.
        monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        return cloud_remote(request.getfixturevalue("gcs_server"), "gs")
    return cloud_remote(request.getfixturevalue("azure_server"), "azure")


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
