"""Reading a registry whose data is on the S3 test server, with no cache:
one file of a 20,000-file folder costs its object and the manifest, counted
in the requests the server received."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pandas
import pytest

import bale.api
from bale.api import BaleFileSystem
from bale.odb.layout import oid_relpath
from bale.odb.store import ObjectStore
from bale.remotes import open_remote, transfer
from tests.api.conftest import bale_exe, run
from tests.conftest import isolated_vars
from tests.fixtures.servers import S3Server

FILES = 20_000


class S3Registry(NamedTuple):
    bare: Path
    bucket: str
    manifest: str  # the big folder's manifest oid
    picked: str  # the one file of it whose object was pushed
    picked_oid: str
    keys: dict[str, str]


@pytest.fixture(scope="module")
def s3_registry(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> S3Registry:
    base = tmp_path_factory.mktemp("api-s3")
    home = base / "home"
    home.mkdir()
    options = s3_server.options()
    keys = {k: options.pop(k) for k in ("access_key_id", "secret_access_key")}
    env = {**os.environ, **isolated_vars(home),
           "AWS_ACCESS_KEY_ID": keys["access_key_id"],
           "AWS_SECRET_ACCESS_KEY": keys["secret_access_key"]}  # fmt: skip
    bucket = s3_server.new_bucket()
    reg = base / "registry"
    bale = bale_exe()
    run(env, "git", "init", "-q", "-b", "main", reg, cwd=base)
    run(env, *bale, "init", "-q", cwd=reg)
    run(env, *bale, "remote", "add", "-d", "s3", f"s3://{bucket}/store", cwd=reg)
    for name, value in options.items():
        run(env, *bale, "remote", "modify", "s3", name, value, cwd=reg)
    big = reg / "data" / "big"
    for i in range(FILES):
        folder = big / f"{i // 1000:02}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"{i:05}.txt").write_bytes(b"row %d\n" % i)
    (reg / "data" / "small.csv").write_text("a,b\n1,2\n")
    run(env, *bale, "add", "-q", "data/big", "data/small.csv", cwd=reg)
    run(env, "git", "add", "-A", cwd=reg)
    run(env, "git", "commit", "-qm", "v1", cwd=reg)
    run(env, "git", "tag", "v1", cwd=reg)
    run(env, *bale, "push", "-q", "data/small.csv", cwd=reg)
    (reg / "data" / "small.csv").write_text("a,b\n3,4\n5,6\n")
    run(env, *bale, "add", "-q", "data/small.csv", cwd=reg)
    run(env, "git", "commit", "-qam", "v2", cwd=reg)
    run(env, *bale, "push", "-q", "data/small.csv", cwd=reg)
    # Of the big folder, only its manifest and one file's object are on the
    # remote: reading that file needs no other.
    manifest = next(line.split(": ")[1] for line in (reg / "data" / "big.dvc").read_text()
                    .splitlines() if "md5:" in line).strip()  # fmt: skip
    picked = "data/big/07/07123.txt"
    import hashlib

    picked_oid = hashlib.md5((reg / picked).read_bytes()).hexdigest()
    backend = open_remote(f"s3://{bucket}/store", {**options, **keys})
    try:
        cache = ObjectStore(str(reg / ".dvc" / "cache"))
        done = transfer.push(cache, backend, [(manifest, False), (picked_oid, False)])
        assert not done.failed
    finally:
        backend.close()
    bare = base / "registry.git"
    run(env, "git", "clone", "-q", "--bare", reg, bare, cwd=base)
    return S3Registry(bare, bucket, manifest, picked, picked_oid, keys)


@pytest.fixture
def s3_keys(s3_registry: S3Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_registry.keys["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_registry.keys["secret_access_key"])


def _object_keys(seen: list, bucket: str) -> list[tuple[str, str]]:
    """(method, key relative to the remote) of requests on objects."""
    return sorted((r.method, r.key.removeprefix("store/")) for r in seen
                  if r.bucket == bucket and r.key)  # fmt: skip


def test_two_revisions_from_s3_with_no_cache(s3_registry: S3Registry, s3_keys: None) -> None:
    repo = str(s3_registry.bare)
    assert bale.api.read("data/small.csv", repo=repo, rev="v1") == "a,b\n1,2\n"
    assert bale.api.read("data/small.csv", repo=repo) == "a,b\n3,4\n5,6\n"
    url = f"bale://data/small.csv?repo={repo}&rev=v1"
    assert pandas.read_csv(url)["b"].tolist() == [2]


def test_keys_in_remote_config(s3_registry: S3Registry, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    text = bale.api.read("data/small.csv", repo=str(s3_registry.bare), rev="v1",
                         remote_config=s3_registry.keys)  # fmt: skip
    assert text == "a,b\n1,2\n"


def test_one_file_of_a_big_folder_costs_its_object_and_the_manifest(
    s3_registry: S3Registry, s3_server: S3Server, s3_keys: None
) -> None:
    repo = str(s3_registry.bare)
    with s3_server.recording() as seen:
        data = bale.api.read(s3_registry.picked, repo=repo, rev="v1")
    assert data == "row 7123\n"
    assert _object_keys(seen, s3_registry.bucket) == sorted([
        ("GET", oid_relpath(s3_registry.manifest)),
        ("GET", oid_relpath(s3_registry.picked_oid)),
    ])  # fmt: skip


def test_find_and_ls_of_the_big_folder(
    s3_registry: S3Registry, s3_server: S3Server, s3_keys: None
) -> None:
    fs = BaleFileSystem(repo=str(s3_registry.bare), rev="v1")
    with s3_server.recording() as seen:
        found = fs.find("data/big")
        assert len(found) == FILES and found[7123] == s3_registry.picked
        assert len(fs.ls("data/big/07", detail=False)) == 1000
        assert fs.info("data/big")["type"] == "directory"
        with fs.open(s3_registry.picked) as fobj:  # a ranged read, verified
            assert fobj.read() == b"row 7123\n"
    requests = _object_keys(seen, s3_registry.bucket)
    assert ("GET", oid_relpath(s3_registry.manifest)) in requests
    others = {key for _method, key in requests} - {
        oid_relpath(s3_registry.manifest), oid_relpath(s3_registry.picked_oid)}  # fmt: skip
    assert not others
    fs.close()
