"""One remote per backend kind, with raw access for tests to inspect or damage it.

`remote` is parametrized over a folder, moto's S3 server and an SFTP server;
each case can list the raw keys under the remote and overwrite one, without
going through bale's backend.
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
from tests.fixtures.servers import S3Server, SFTPServer


@dataclass
class RemoteCase(RawAccess):
    kind: str
    url: str
    options: dict[str, str]
    backends: list[Any] = field(default_factory=list)

    def open(self, **extra: str) -> Any:
        backend = open_remote(self.url, {**self.options, **extra})
        self.backends.append(backend)
        return backend


@pytest.fixture(params=["folder", "s3", "sftp"])
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
