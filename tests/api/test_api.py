"""`bale.api` on a registry: two revisions, from the source's cache and from
its remote, beside `dvc.api` on the same repository, and with bad input."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import bale.api
from bale.errors import (
    ArtifactNotFoundError,
    PathIsFolderError,
    PathNotFoundError,
    RemoteObjectCorruptError,
    RemoteObjectMissingError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    TargetError,
    UnknownRemoteError,
    UnsafePathError,
    UsageError,
)
from bale.odb.layout import oid_relpath
from tests.api.conftest import BIG, Registry, dvc_api


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` with its size and mtime: what a read must not change."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        found[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return found


def _user_objects() -> list[Path]:
    """The objects in the user's cache (HOME is the test's own)."""
    cache = Path(os.environ["HOME"]) / ".cache" / "bale" / "objects"
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


def test_reads_both_revisions_and_the_working_tree(registry: Registry, monkeypatch) -> None:
    before = _snapshot(registry.path)
    repo = str(registry.path)
    assert bale.api.read("data/images/000.txt", repo=repo, rev="v1") == "image 0\n"
    assert bale.api.read("data/images/000.txt", repo=repo, rev="v2") == "image 0, relabelled\n"
    assert bale.api.read("data/images/000.txt", repo=repo) == "image 0, relabelled\n"
    with pytest.raises(PathNotFoundError):
        bale.api.read("data/images/new.txt", repo=repo, rev="v1")
    assert bale.api.read("data/images/sub/deep.txt", repo=repo, rev=registry.v1) == "deep\n"
    assert bale.api.read("notes.md", repo=repo, rev="v1") == "a git file\n"
    model = bale.api.read("models/model.bin", repo=repo, rev="v1", mode="rb")
    assert len(model) == BIG
    with bale.api.open("data/table.csv", repo=repo, rev="v1") as fobj:
        assert fobj.readline() == "name,size\n"
    # repo None: the repository around the working folder, at its working tree.
    monkeypatch.chdir(registry.path / "data")
    assert bale.api.read("data/images/new.txt") == "a new image\n"
    assert _snapshot(registry.path) == before
    assert _user_objects() == []  # read in place from the source's own cache


def test_reads_from_the_remote_when_no_cache_holds_the_data(registry: Registry) -> None:
    """A bare clone has no cache: bytes are streamed from the remote, verified,
    and nothing is stored but the folder manifest the path needed."""
    repo = str(registry.bare)
    before = _snapshot(registry.bare)
    assert bale.api.read("data/images/000.txt", repo=repo, rev="v1") == "image 0\n"
    assert bale.api.read("data/images/000.txt", repo=repo, rev="v2") == "image 0, relabelled\n"
    with bale.api.open("models/model.bin", repo=repo, rev="v2", mode="rb") as fobj:
        data = fobj.read()
    expected = bale.api.read("models/model.bin", repo=str(registry.path), rev="v2", mode="rb")
    assert data == expected
    assert _snapshot(registry.bare) == before
    assert all(p.name.endswith(".dir") for p in _user_objects())


def test_dvc_api_reads_the_same(registry: Registry) -> None:
    for rev in ("v1", "v2"):
        for path in ("data/images/000.txt", "data/table.csv", "notes.md"):
            ours = bale.api.read(path, repo=str(registry.bare), rev=rev)
            code = f"dvc.api.read({path!r}, repo={str(registry.bare)!r}, rev={rev!r})"
            assert ours == dvc_api(registry, code, registry.path.parent)


def _tampered(registry: Registry, tmp_path: Path, rev: str, path: str) -> tuple[Path, int]:
    """A copy of the remote with the object of `path` at `rev` changed in one byte."""
    copy = tmp_path / "tampered"
    shutil.copytree(registry.remote, copy)
    md5 = hashlib.md5(bale.api.read(path, repo=str(registry.path), rev=rev, mode="rb"))
    obj = copy / oid_relpath(md5.hexdigest())
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0xFF
    obj.write_bytes(bytes(data))
    return copy, len(data)


def test_a_tampered_object_raises_before_its_last_block(registry: Registry, tmp_path) -> None:
    copy, size = _tampered(registry, tmp_path, "v1", "models/model.bin")
    config = {"url": str(copy)}
    got = bytearray()
    with (
        pytest.raises(RemoteObjectCorruptError, match="is corrupt"),
        bale.api.open("models/model.bin", repo=str(registry.bare), rev="v1",
                      remote_config=config, mode="rb") as fobj,
    ):  # fmt: skip
        while chunk := fobj.read(64 << 10):
            got += chunk
    assert 0 < len(got) < size  # what came was given; the last block never was
    with pytest.raises(RemoteObjectCorruptError):
        bale.api.read("models/model.bin", repo=str(registry.bare), rev="v1",
                      remote_config=config, mode="rb")  # fmt: skip
    # The good copy still reads, and the user's cache holds no bad object.
    assert len(bale.api.read("models/model.bin", repo=str(registry.bare), rev="v1", mode="rb"))
    assert all(p.name.endswith(".dir") for p in _user_objects())


def test_get_url_names_the_object_as_dvc_does(registry: Registry) -> None:
    for path in ("data/images", "data/images/001.txt", "models/model.bin"):
        ours = bale.api.get_url(path, repo=str(registry.bare), rev="v2")
        code = f"dvc.api.get_url({path!r}, repo={str(registry.bare)!r}, rev='v2')"
        assert ours == dvc_api(registry, code, registry.path.parent)
    with pytest.raises(TargetError, match="git file"):
        bale.api.get_url("notes.md", repo=str(registry.bare))


@pytest.mark.parametrize("rev", ["v1", "v2", None])
def test_params_and_metrics_show_as_dvc_api(registry: Registry, rev: str | None) -> None:
    repo = str(registry.path)
    calls = {
        "params_show": {},
        "params_show_stage": {"stages": "train"},
        "metrics_show": {},
    }
    for name, kwargs in calls.items():
        func = getattr(bale.api, name.removesuffix("_stage"))
        ours = func(repo=repo, rev=rev, **kwargs)
        args = ", ".join(f"{k}={v!r}" for k, v in {**kwargs, "repo": repo, "rev": rev}.items())
        theirs = dvc_api(registry, f"dvc.api.{name.removesuffix('_stage')}({args})", registry.path)
        assert ours == theirs, name
    assert bale.api.params_show("params.yaml", repo=repo, rev="v1") == {
        "train": {"epochs": 10, "lr": 0.1}, "unused": 1,
    }  # fmt: skip


def test_artifacts_show_as_dvc_api(registry: Registry) -> None:
    repo = str(registry.path)
    cases = [{}, {"version": "v1.0.0"}, {"version": "v1.1.0"}, {"stage": "prod"},
             {"stage": "staging"}]  # fmt: skip
    for kwargs in cases:
        ours = bale.api.artifacts_show("classifier", repo=repo, **kwargs)
        args = ", ".join(f"{k}={v!r}" for k, v in {**kwargs, "repo": repo}.items())
        assert ours == dvc_api(registry, f"dvc.api.artifacts_show('classifier', {args})",
                               registry.path)  # fmt: skip
    assert bale.api.artifacts_show("classifier", stage="prod", repo=repo)["rev"] == registry.v1
    found = bale.api.artifacts_show("classifier", repo=repo)
    data = bale.api.read(found["path"], repo=repo, rev=found["rev"], mode="rb")
    assert len(data) == BIG


def test_bad_input_is_a_documented_error_with_a_fix(registry: Registry, tmp_path) -> None:
    repo = str(registry.path)
    cases = [
        (dict(path="nothing.txt", repo=repo), PathNotFoundError, "does not exist"),
        (dict(path="data/images/zzz.txt", repo=repo, rev="v1"), PathNotFoundError, "bale list"),
        (dict(path="data/images", repo=repo), PathIsFolderError, "name one of its files"),
        (dict(path="../outside", repo=repo), UnsafePathError, "leaves the repository"),
        (dict(path="/etc/passwd", repo=repo), UnsafePathError, "path from its top"),
        (dict(path="notes.md", repo=repo, rev="v9"), RevisionNotFoundError, "no revision 'v9'"),
        (dict(path="notes.md", repo=str(tmp_path / "none")), RepositoryNotFoundError,
         "does not exist"),
        (dict(path="notes.md", repo=str(tmp_path)), RepositoryNotFoundError,
         "not a git repository"),
        (dict(path="models/model.bin", repo=str(registry.bare), remote="nope"),
         UnknownRemoteError, "its remotes: store"),
        (dict(path="notes.md", repo=repo, mode="w"), UsageError, "use 'r' or 'rb'"),
    ]  # fmt: skip
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            bale.api.read(**kwargs)
    empty = tmp_path / "empty-remote"
    empty.mkdir()
    with pytest.raises(RemoteObjectMissingError, match="not on the remote"):
        bale.api.read(
            "models/model.bin", repo=str(registry.bare), remote_config={"url": str(empty)}
        )
    with pytest.raises(UsageError, match="not both"):
        bale.api.artifacts_show("classifier", version="v1.0.0", stage="prod", repo=repo)
    with pytest.raises(ArtifactNotFoundError, match=r"no version v3\.0\.0"):
        bale.api.artifacts_show("classifier", version="v3.0.0", repo=repo)
    with pytest.raises(ArtifactNotFoundError, match="no version in stage 'dev'"):
        bale.api.artifacts_show("classifier", stage="dev", repo=repo)
    with pytest.raises(UsageError, match="not a version"):
        bale.api.artifacts_show("classifier", version="1.0", repo=repo)
    with pytest.raises(UsageError, match="not an artifact name"):
        bale.api.artifacts_show("-bad name", repo=repo)


def test_artifact_references_name_a_version(registry: Registry) -> None:
    """`classifier@v1.0.0` and `classifier#prod` read the model their tags name."""
    repo = str(registry.bare)
    v1 = bale.api.read("models/model.bin", repo=repo, rev="v1", mode="rb")
    v2 = bale.api.read("models/model.bin", repo=repo, rev="v2", mode="rb")
    assert v1 != v2
    assert bale.api.read("classifier@v1.0.0", repo=repo, mode="rb") == v1
    assert bale.api.read("classifier#prod", repo=repo, mode="rb") == v1
    assert bale.api.read("classifier@latest", repo=repo, mode="rb") == v2
    assert bale.api.get_url("classifier#staging", repo=repo) == bale.api.get_url(
        "models/model.bin", repo=repo, rev="v2"
    )
    with pytest.raises(ArtifactNotFoundError):
        bale.api.read("classifier#dev", repo=repo)
