"""One remote per backend kind, with raw access for tests to inspect or damage it.

`remote` is parametrized over a folder, moto's S3 server, an SFTP server,
fake-gcs-server and Azurite; each case can list the raw keys under the remote
and overwrite one, without going through bale's backend.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bale.odb.store import ObjectStore
from bale.remotes import open_remote
from tests.fixtures.raw import RawAccess
from tests.fixtures.servers import AzureServer, GCSServer, S3Server, SFTPServer


@dataclass
class RemoteCase(RawAccess):
    kind: str
    url: str
    options: dict[str, str]
    backends: list[Any] = field(default_factory=list)
    cloud: GCSServer | AzureServer | None = None  # raw access through its own API

    def stored_keys(self) -> list[str]:
        if self.cloud is None:
            return super().stored_keys()
        keys = self.cloud.stored_keys(self.bucket, self.prefix + "/")
        return sorted(key[len(self.prefix) + 1 :] for key in keys)

    def read(self, key: str) -> bytes:
        if self.cloud is None:
            return super().read(key)
        return self.cloud.read(self.bucket, f"{self.prefix}/{key}")

    def write(self, key: str, data: bytes) -> None:
        if self.cloud is None:
            super().write(key, data)
        else:
            self.cloud.write(self.bucket, f"{self.prefix}/{key}", data)

    def open(self, **extra: str) -> Any:
        backend = open_remote(self.url, {**self.options, **extra})
        self.backends.append(backend)
        return backend


@pytest.fixture(params=["folder", "s3", "sftp", "gs", "azure"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RemoteCase]:
    kind = request.param
    if kind == "folder":
        root = tmp_path / "remote"
        case = RemoteCase(kind, str(root), {}, root=root)
    elif kind == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        bucket = server.new_bucket()
        case = RemoteCase(
            kind, f"s3://{bucket}/store", server.options(), s3=server, bucket=bucket, prefix="store"
        )
    elif kind in ("gs", "azure"):
        cloud: GCSServer | AzureServer = request.getfixturevalue(
            "gcs_server" if kind == "gs" else "azure_server"
        )
        bucket = cloud.new_bucket()
        case = RemoteCase(
            kind, cloud.url(bucket), cloud.options(), cloud=cloud, bucket=bucket, prefix="store"
        )
    else:
        sftp: SFTPServer = request.getfixturevalue("sftp_server")
        name = os.path.basename(tmp_path)
        case = RemoteCase(kind, sftp.url(f"/{name}"), sftp.options(), root=sftp.root / name)
    yield case
    for backend in case.backends:
        backend.close()


def make_objects(cache: ObjectStore, count: int, *, seed: int = 0) -> list[tuple[str, bool]]:
    """`count` small distinct objects in `cache`; returns their (oid, legacy)."""
    items = []
    for i in range(count):
        data = f"object {seed}-{i}\n".encode() * (1 + i % 7)
        oid = hashlib.md5(data).hexdigest()
        cache.add_bytes(oid, data)
        items.append((oid, False))
    return items


@pytest.fixture
def cache(tmp_path: Path) -> ObjectStore:
    return ObjectStore(str(tmp_path / "cache"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked `slow_but_folder` is slow on every remote but the folder:
    `make test` keeps the folder's short case, `make test-slow` runs the rest."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        remote = callspec.params.get("remote") if callspec is not None else None
        if item.get_closest_marker("slow_but_folder") and remote not in (None, "folder"):
            item.add_marker(pytest.mark.slow)
