"""`BaleFileSystem` and `bale://` URLs beside dvc's `DVCFileSystem`, and with
the readers people use them with (pandas, pyarrow)."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pandas
import pyarrow.parquet as pq
import pytest

import bale.api
from bale.api import BaleFileSystem
from bale.errors import (
    PathIsFolderError,
    PathNotFoundError,
    RemoteObjectCorruptError,
    UnsafePathError,
    UsageError,
)
from tests.api.conftest import BIG, Registry, dvc_api
from tests.api.test_api import _tampered

DIRS = ["", "data", "data/images", "data/images/sub", "models"]


def _dvc_listing(registry: Registry, repo: Path, rev: str) -> dict:
    """What dvc's DVCFileSystem says of the repository: find, ls of each of
    DIRS, info of a few paths and du, with its leading slashes removed."""
    code = (
        f"(lambda fs: {{'find': [p.lstrip('/') for p in fs.find('/')],"
        f" 'ls': {{d: sorted(fs.ls(d or '/', detail=False)) for d in {DIRS!r}}},"
        " 'info': {p: [fs.info(p)['type'], fs.info(p)['size']] for p in"
        " ['data/images', 'models/model.bin', 'notes.md', 'data/table.csv']},"
        " 'du': [fs.du('data/images'), fs.du('models')]})"
        f"(dvc.api.DVCFileSystem({str(repo)!r}, rev={rev!r}))"
    )
    return dvc_api(registry, code, repo.parent)  # type: ignore[return-value]


@pytest.mark.parametrize("rev", ["v1", "v2"])
def test_listing_is_dvcs(registry: Registry, rev: str) -> None:
    theirs = _dvc_listing(registry, registry.path, rev)
    fs = BaleFileSystem(repo=str(registry.path), rev=rev)
    assert fs.find("") == sorted(theirs["find"])
    for folder in DIRS:
        assert sorted(p.lstrip("/") for p in fs.ls(folder, detail=False)) == [
            p.lstrip("/") for p in theirs["ls"][folder]
        ], folder
    for path, (kind, size) in theirs["info"].items():
        info = fs.info(path)
        assert (info["type"], info["size"]) == (kind, size), path
    assert [fs.du("data/images"), fs.du("models")] == theirs["du"]
    walked = {top: (sorted(dirs), sorted(files)) for top, dirs, files in fs.walk("data")}
    assert walked["data/images"] == (["sub"], sorted(p.rsplit("/", 1)[1]
        for p in theirs["find"] if p.startswith("data/images/") and p.count("/") == 2))  # fmt: skip
    assert fs.glob("data/images/00*.txt") == [f"data/images/00{i}.txt" for i in range(10)]
    assert fs.find("data/images", maxdepth=1) == sorted(
        p for p in theirs["find"] if p.startswith("data/images/") and p.count("/") == 2
    )
    assert "data/images.dvc" in fs.ls("data", detail=False, dvcfiles=True)


def test_files_read_from_the_cache_and_the_remote(registry: Registry) -> None:
    local = BaleFileSystem(repo=str(registry.path), rev="v2")
    remote = BaleFileSystem(repo=str(registry.bare), rev="v2")
    expected = local.cat_file("models/model.bin")
    assert len(expected) == BIG
    with remote.open("models/model.bin", block_size=1 << 20) as fobj:
        got = b"".join(iter(lambda: fobj.read(300_000), b""))
    assert got == expected
    assert remote.cat_file("models/model.bin", start=10, end=20) == expected[10:20]
    with remote.open("models/model.bin") as fobj:  # out of order: fetched whole, verified
        fobj.seek(BIG - 5)
        assert fobj.read() == expected[-5:]
        fobj.seek(0)
        assert fobj.read(4) == expected[:4]
    assert remote.cat_file("notes.md") == b"a git file\n"
    assert remote.cat_file("data/images/sub/deep.txt") == b"deep\n"


def test_pandas_and_pyarrow_read_bale_urls(registry: Registry) -> None:
    for repo in (registry.path, registry.bare):
        url = f"bale://data/table.csv?repo={repo}&rev=v1"
        assert pandas.read_csv(url)["name"].tolist() == ["alpha", "beta"]
        fs = bale.api.filesystem(str(repo), rev="v1")
        with fs.open("data/table.csv") as fobj:
            assert pandas.read_csv(fobj)["size"].tolist() == [1, 2]
        with fs.open("data/table.parquet") as fobj:
            assert pq.read_table(fobj).num_rows == 1000
        assert pq.read_table("data/table.parquet", filesystem=fs).column("id")[999].as_py() == 999
        frame = pandas.read_parquet(f"bale://data/table.parquet?repo={repo}&rev=v1")
        assert frame["name"].iloc[3] == "row 3"
    with fsspec.open(f"bale://metrics.json?repo={registry.path}&rev=v2", "rt") as fobj:
        assert json.load(fobj)["accuracy"] == 0.95
    storage = {"repo": str(registry.bare), "rev": "v1"}
    assert pandas.read_csv("bale://data/table.csv", storage_options=storage).shape == (2, 2)


def test_get_downloads_verified(registry: Registry, tmp_path: Path) -> None:
    fs = BaleFileSystem(repo=str(registry.bare), rev="v2")
    fs.get("data/images", str(tmp_path / "images"), recursive=True)
    got = sorted(p.relative_to(tmp_path / "images").as_posix()
                 for p in (tmp_path / "images").rglob("*") if p.is_file())  # fmt: skip
    assert got == sorted(p[len("data/images/") :] for p in fs.find("data/images"))
    assert (tmp_path / "images" / "000.txt").read_text() == "image 0, relabelled\n"
    (tmp_path / "one").mkdir()
    fs.get("data/images/sub/deep.txt", str(tmp_path / "one"))
    assert (tmp_path / "one" / "deep.txt").read_text() == "deep\n"
    with pytest.raises(PathIsFolderError, match="recursive=True"):
        fs.get("data/images", str(tmp_path / "again"))


def test_a_tampered_object_is_refused_by_the_filesystem(registry: Registry, tmp_path) -> None:
    copy, size = _tampered(registry, tmp_path, "v1", "models/model.bin")
    fs = BaleFileSystem(repo=str(registry.bare), rev="v1", remote_config={"url": str(copy)})
    got = bytearray()
    with pytest.raises(RemoteObjectCorruptError), fs.open("models/model.bin") as fobj:
        while chunk := fobj.read(1 << 20):
            got += chunk
    assert len(got) < size
    with pytest.raises(RemoteObjectCorruptError), fs.open("models/model.bin") as fobj:
        fobj.seek(size - 10)  # out of order: the whole object is fetched and checked first
        fobj.read()


def test_bad_input(registry: Registry) -> None:
    fs = BaleFileSystem(repo=str(registry.path), rev="v1")
    with pytest.raises(PathNotFoundError, match="does not exist"):
        fs.ls("nothing")
    with pytest.raises(FileNotFoundError):
        fs.info("data/images/none.txt")
    with pytest.raises(PathIsFolderError):
        fs.open("data/images")
    with pytest.raises(UsageError, match="read-only"):
        fs.open("notes.md", "wb")
    with pytest.raises(UnsafePathError, match="leaves the repository"):
        fs.cat_file("../outside")
    with pytest.raises(UsageError, match="not a bale:// URL key"):
        fsspec.open(f"bale://notes.md?repository={registry.path}").open()
    assert fs.find("nothing") == []
