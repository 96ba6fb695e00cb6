"""A DVC 3 repository and cache that the real dvc built work under bale."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.compat.data import (
    TARGETS,
    assert_up_to_date,
    cache_path,
    md5,
    remove_outputs,
    snapshot,
    status_blocks,
    status_json,
    write_tree,
)

pytestmark = pytest.mark.dvc


def _change_workspace(root: Path) -> None:
    """Edits a user makes: modify, add into and delete from outputs; one not in cache."""
    (root / "data" / "a.txt").write_bytes(b"lower, edited\n")
    (root / "data" / "sub" / "new.txt").write_bytes(b"new\n")
    (root / "crlf.txt").write_bytes(b"hello\r\nworld\r\nagain\r\n")
    (root / "single.bin").unlink()
    (root / "sub" / "deep" / "x.txt").unlink()
    (root / "data" / "ü.txt").unlink()


def test_bale_status_is_clean_on_a_dvc_repo(dvc_added: Path, bale):
    assert_up_to_date(bale("status", cwd=dvc_added))
    assert status_json(bale("status", "--json", cwd=dvc_added)) == {}


def test_bale_status_reports_changes_as_dvc_does(dvc_added: Path, bale, dvc):
    root = dvc_added
    _change_workspace(root)
    write_tree(root, {"pending.txt": b"committed later\n"})
    dvc("add", "-q", "--no-commit", "pending.txt", cwd=root)

    theirs = status_json(dvc("status", "--json", cwd=root))
    assert theirs  # the edits are visible to dvc
    assert status_json(bale("status", "--json", cwd=root)) == theirs
    # The human form: same blocks, groups, states and paths (dvc's order varies).
    assert status_blocks(bale("status", cwd=root).stdout) == status_blocks(
        dvc("status", cwd=root).stdout
    )
    # Targets narrow the report, by .dvc file or by output path.
    targets = ("data.dvc", "crlf.txt", "pending.txt.dvc", "run.sh.dvc")
    assert status_json(bale("status", "--json", *targets, cwd=root)) == status_json(
        dvc("status", "--json", *targets, cwd=root)
    )


def test_bale_checkout_restores_from_the_dvc_cache(dvc_added: Path, bale, dvc):
    root = dvc_added
    added = snapshot(root)
    remove_outputs(root, TARGETS)
    assert status_json(bale("status", "--json", cwd=root)) == status_json(
        dvc("status", "--json", cwd=root)
    )

    bale("checkout", cwd=root)
    assert snapshot(root) == added
    assert_up_to_date(dvc("status", cwd=root))
    assert_up_to_date(bale("status", cwd=root))


def test_bale_checkout_keeps_unsaved_edits_unless_forced(dvc_added: Path, bale, dvc):
    root = dvc_added
    added = snapshot(root)
    (root / "crlf.txt").write_bytes(b"unsaved work\n")
    (root / "data" / "a.txt").write_bytes(b"unsaved too\n")

    # dvc refuses to drop changes nobody committed, and so must bale.
    bale("checkout", cwd=root, ok=False)
    assert (root / "crlf.txt").read_bytes() == b"unsaved work\n"
    assert (root / "data" / "a.txt").read_bytes() == b"unsaved too\n"

    bale("checkout", "-f", cwd=root)
    assert snapshot(root) == added
    assert_up_to_date(dvc("status", cwd=root))


@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_bale_checkout_follows_the_link_type_dvc_configured(
    dvc_repo: Path, git, bale, dvc, link: str
):
    root = dvc_repo
    files = {"data/a.txt": b"a\n", "data/sub/b.txt": b"b\n", "model.bin": b"weights"}
    dvc("config", "cache.type", link, cwd=root)
    write_tree(root, files)
    dvc("add", "-q", "data", "model.bin", cwd=root)
    added = snapshot(root, exec_bits=False)

    remove_outputs(root, ["data", "model.bin"])
    bale("checkout", cwd=root)
    assert snapshot(root, exec_bits=False) == added
    for rel, content in files.items():
        workspace, obj = root / rel, cache_path(root, md5(content))
        if link == "hardlink":
            assert not workspace.is_symlink(), rel
            assert os.stat(workspace).st_ino == os.stat(obj).st_ino, rel
        else:
            assert workspace.is_symlink(), rel
            assert workspace.resolve() == obj.resolve(), rel
    assert_up_to_date(dvc("status", cwd=root))


def test_bale_checkout_relink_applies_the_link_type_set_later(dvc_added: Path, bale, dvc):
    root = dvc_added
    added = snapshot(root, exec_bits=False)
    dvc("config", "cache.type", "symlink", cwd=root)
    bale("checkout", "--relink", cwd=root)
    assert snapshot(root, exec_bits=False) == added
    for rel in ("crlf.txt", "single.bin", "data/a.txt", "data/sub/deep/b.txt"):
        workspace = root / rel
        assert workspace.is_symlink(), rel
        assert workspace.resolve() == cache_path(root, md5(workspace.read_bytes())).resolve()
    assert_up_to_date(dvc("status", cwd=root))
