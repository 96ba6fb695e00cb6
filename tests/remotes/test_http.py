"""HTTP(S) remotes are read-only: existence, fetch and verification over a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bale.errors import RemoteConfigError, RemoteObjectCorruptError, RemoteObjectMissingError
from bale.odb.layout import oid_relpath
from bale.odb.store import ObjectStore
from bale.remotes import open_remote, transfer
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
