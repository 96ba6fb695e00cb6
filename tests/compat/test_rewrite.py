"""bale rewrites a `.dvc` file dvc wrote the way dvc does: layout, comments and extra keys kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compat.data import (
    LEGACY_FILES,
    assert_same_files,
    assert_up_to_date,
    cache_tree,
    md5,
    metadata_files,
    snapshot,
    write_tree,
)

pytestmark = pytest.mark.dvc

MODEL = b"weights v1"


def _annotate(root: Path) -> None:
    """Edits users make by hand to dvc's files: comments, descriptions, meta, key order."""
    (root / "model.bin.dvc").write_text(
        "# the production model\n"
        "desc: Random forest, trained on data/\n"
        "meta:\n"
        "  owner: ml-team\n"
        "  tags: [prod, rf]\n"
        "outs:\n"
        "- path: model.bin   # path first, on purpose\n"
        f"  md5: {md5(MODEL)}\n"
        f"  size: {len(MODEL)}\n"
        "  hash: md5\n"
        "  desc: serialised weights\n"
        "  type: model\n"
        "  labels:\n"
        "  - rf\n"
        "  meta:\n"
        "    framework: sklearn\n",
        encoding="utf-8",
    )
    data = root / "data.dvc"
    text = data.read_text(encoding="utf-8")
    text = text.replace(
        "  path: data\n",
        "  path: data\n  desc: 'raw: inputs'\n  meta: {source: survey, year: 2024}\n",
    )
    data.write_text(f"desc: survey answers\n{text}meta:\n  custom: 1\n", encoding="utf-8")


@pytest.fixture
def annotated(dvc_repo: Path, git, dvc) -> Path:
    """A dvc-built repository whose `.dvc` files a user then annotated by hand."""
    write_tree(dvc_repo, {"data/a.txt": b"a\n", "data/sub/b.txt": b"b\n", "model.bin": MODEL})
    dvc("add", "-q", "data", "model.bin", cwd=dvc_repo)
    _annotate(dvc_repo)
    git("add", "-A", cwd=dvc_repo)
    git("commit", "-qm", "annotate", cwd=dvc_repo)
    return dvc_repo


def test_commit_and_add_with_unchanged_data_leave_dvc_files_byte_identical(
    annotated: Path, bale, dvc
):
    before = metadata_files(annotated)
    assert_up_to_date(dvc("status", cwd=annotated))

    bale("commit", "-f", cwd=annotated)
    assert_same_files(metadata_files(annotated), before, labels=("after-commit", "dvc"))
    bale("add", "data", "model.bin", cwd=annotated)
    assert_same_files(metadata_files(annotated), before, labels=("after-add", "dvc"))
    assert_up_to_date(dvc("status", cwd=annotated))


def test_new_data_is_written_into_the_existing_layout_as_dvc_does(
    annotated: Path, tmp_path: Path, bale, dvc
):
    ours = tmp_path / "bale-copy"
    shutil.copytree(annotated, ours, symlinks=True)
    for root, tool in ((annotated, dvc), (ours, bale)):
        (root / "model.bin").unlink()  # a copy or a read-only link: replace, don't write into
        write_tree(root, {"model.bin": b"weights v2", "data/c.txt": b"c\n"})
        tool("add", "model.bin", cwd=root)
        tool("commit", "-f", "data.dvc", cwd=root)

    # New md5/size/nfiles in place; comments, key order, desc/meta/labels/type untouched.
    assert_same_files(metadata_files(ours), metadata_files(annotated), labels=("bale", "dvc"))
    assert cache_tree(ours / ".dvc" / "cache") == cache_tree(annotated / ".dvc" / "cache")
    assert_up_to_date(dvc("status", cwd=ours))


def test_legacy_entries_stay_legacy_until_their_data_changes(
    legacy_repo: Path, tmp_path: Path, bale, dvc
):
    before = metadata_files(legacy_repo)
    bale("add", "crlf.txt", "data", cwd=legacy_repo)
    bale("commit", "-f", cwd=legacy_repo)
    # No `hash: md5` appears and the md5s stay dos2unix ones: a no-op shows no git diff.
    assert_same_files(metadata_files(legacy_repo), before, labels=("after", "before"))

    ours = tmp_path / "bale-copy"
    shutil.copytree(legacy_repo, ours, symlinks=True)
    for root, tool in ((legacy_repo, dvc), (ours, bale)):
        (root / "data" / "a.txt").write_bytes(b"lf only, edited\n")
        (root / "crlf.txt").write_bytes(LEGACY_FILES["crlf.txt"] + b"more\r\n")
        tool("commit", "-f", "data.dvc", cwd=root)
        tool("add", "crlf.txt", cwd=root)
    # Changed data is re-hashed as DVC 3 md5, `hash: md5` appended after the old keys.
    assert_same_files(metadata_files(ours), metadata_files(legacy_repo), labels=("bale", "dvc"))
    assert b"hash: md5" in (ours / "data.dvc").read_bytes()
    assert_up_to_date(dvc("status", cwd=ours))


def test_move_and_remove_leave_what_dvc_leaves(dvc_repo: Path, tmp_path: Path, git, bale, dvc):
    files = {"data/a.txt": b"a\n", "model.bin": MODEL, "keep.txt": b"k\n"}
    write_tree(dvc_repo, files)
    (dvc_repo / "models").mkdir()
    dvc("add", "-q", "data", "model.bin", "keep.txt", cwd=dvc_repo)
    git("add", "-A", cwd=dvc_repo)
    git("commit", "-qm", "add", cwd=dvc_repo)
    ours = tmp_path / "bale-copy"
    shutil.copytree(dvc_repo, ours, symlinks=True)

    for root, tool in ((dvc_repo, dvc), (ours, bale)):
        tool("move", "model.bin", "models/model.bin", cwd=root)
        tool("move", "data", "dataset", cwd=root)
        tool("remove", "keep.txt.dvc", cwd=root)
    # .dvc files renamed and re-pointed, .gitignore entries moved or dropped.
    assert_same_files(metadata_files(ours), metadata_files(dvc_repo), labels=("bale", "dvc"))
    assert snapshot(ours) == snapshot(dvc_repo)
    assert_up_to_date(dvc("status", cwd=ours))
