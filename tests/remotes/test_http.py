"""HTTP(S) remotes are read-only: existence, fetch and verification over a real server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bale.errors import (
    RemoteConfigError,
    RemoteObjectCorruptError,
    RemoteObjectMissingError,
    RemoteUnavailableError,
)
from bale.odb.layout import oid_relpath
from bale.odb.store import ObjectStore
from bale.remotes import open_remote, transfer
from bale.remotes.base import READ_CHUNK, read_range
from tests.fixtures.servers import start_http_server
from tests.remotes.conftest import make_objects


def test_http_remote_reads_and_refuses_writes(cache: ObjectStore, tmp_path: Path) -> None:
    folder = tmp_path / "published"
    items = make_objects(cache, 20)
    transfer.push(cache, open_remote(str(folder)), items)
    bad = items[3][0]
    (folder / oid_relpath(bad)).chmod(0o644)
    (folder / oid_relpath(bad)).write_bytes(b"not the object")
    server = start_http_server(folder)
    try:
        backend = open_remote(server.url + "/", {})
        ghost = ("a" * 32, False)
        assert transfer.present(backend, [*items, ghost]) == set(items)
        other = ObjectStore(str(tmp_path / "other"))
        result = transfer.fetch(other, backend, [*items, ghost])
        failed = dict(result.failed)
        assert isinstance(failed[bad], RemoteObjectCorruptError)
        assert isinstance(failed[ghost[0]], RemoteObjectMissingError)
        assert len(result.transferred) == 19 and not other.exists(bad)
        fresh = make_objects(other, 1, seed=7)
        with pytest.raises(RemoteConfigError) as info:
            transfer.push(other, backend, fresh)
        assert "read-only" in str(info.value)
        with pytest.raises(RemoteConfigError):
            transfer.list_objects(backend)
    finally:
        server.stop()


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges", "no-ranges"])
def test_http_read_chunks_full_ranged_and_missing(tmp_path: Path, ranges: bool) -> None:
    """Streamed and ranged reads from a server that answers Range headers and
    from one that ignores them (the whole file, cut here)."""
    site = tmp_path / "site"
    (site / "d").mkdir(parents=True)
    data = os.urandom((5 << 19) + 12_345)
    (site / "d" / "big.bin").write_bytes(data)
    server = start_http_server(site, ranges=ranges)
    try:
        backend = open_remote(server.url + "/", {})
        chunks = list(backend.read_chunks("d/big.bin"))
        assert b"".join(chunks) == data
        assert len(chunks) >= 3 and all(0 < len(c) <= READ_CHUNK for c in chunks)
        size = len(data)
        middle = (READ_CHUNK - 100, READ_CHUNK + 100)
        for start, end in [(0, 1), middle, (size - 10, size), (size - 10, size + 5), (3, 3)]:
            assert read_range(backend, "d/big.bin", start, end) == data[start:end], (start, end)
        assert read_range(backend, "d/big.bin", size, size + 5) == b""
        assert b"".join(backend.read_chunks("d/big.bin", start=size - 7)) == data[-7:]
        missing = backend.read_chunks("d/nothing.bin")
        with pytest.raises(FileNotFoundError):
            next(missing)
        with pytest.raises(FileNotFoundError):
            read_range(backend, "d/nothing.bin", 0, 0)
        abandoned = backend.read_chunks("d/big.bin")
        assert data.startswith(next(abandoned))
        abandoned.close()
        assert read_range(backend, "d/big.bin", 10, 20) == data[10:20]
    finally:
        server.stop()
    # Gone: "could not tell", never "absent".
    with pytest.raises(RemoteUnavailableError):
        next(backend.read_chunks("d/big.bin"))
    with pytest.raises(RemoteUnavailableError):
        read_range(backend, "d/big.bin", 0, 0)
    backend.close()
