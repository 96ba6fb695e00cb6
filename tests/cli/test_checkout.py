"""`bale checkout`: make the workspace match the `.dvc` files, never losing unsaved work."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from tests.cli.conftest import TRACKED_FILES
from tests.cli.util import assert_error, read_tree, status_json, write_tree

UP_TO_DATE = "Data and pipelines are up to date."
DATA = {k.removeprefix("data/"): v.encode() for k, v in TRACKED_FILES.items()}


def test_checkout_restores_deleted_outputs(tracked: Path, bale):
    shutil.rmtree(tracked / "data")
    (tracked / "model.bin").unlink()
    proc = bale("checkout", cwd=tracked)
    assert proc.stdout.splitlines() == ["A\tdata/", "A\tmodel.bin", "2 files added"]
    assert read_tree(tracked / "data") == DATA
    assert (tracked / "model.bin").read_bytes() == b"\x00\x01model"
    assert bale("status", cwd=tracked).stdout.strip() == UP_TO_DATE
    # Nothing to do the second time: nothing printed.
    assert bale("checkout", cwd=tracked).stdout == ""


def test_checkout_of_targets_restores_only_them(tracked: Path, bale):
    shutil.rmtree(tracked / "data")
    (tracked / "model.bin").unlink()
    bale("checkout", "data/sub/c.txt", cwd=tracked)  # a file inside a tracked folder
    assert read_tree(tracked / "data") == {"sub/c.txt": b"c\n"}
    assert not (tracked / "model.bin").exists()
    bale("checkout", "model.bin.dvc", cwd=tracked)
    assert (tracked / "model.bin").exists()
    assert not (tracked / "data" / "a.txt").exists()
    bale("checkout", "data", cwd=tracked)
    assert read_tree(tracked / "data") == DATA


def test_checkout_from_a_subfolder_takes_paths_relative_to_it(tracked: Path, bale):
    (tracked / "data" / "sub" / "c.txt").unlink()
    (tracked / "data" / "a.txt").unlink()
    bale("checkout", "c.txt", cwd=tracked / "data" / "sub")
    assert (tracked / "data" / "sub" / "c.txt").read_bytes() == b"c\n"
    assert not (tracked / "data" / "a.txt").exists()


def test_unsaved_changes_are_kept_unless_forced(tracked: Path, bale):
    (tracked / "model.bin").write_bytes(b"unsaved work")
    (tracked / "data" / "a.txt").write_text("unsaved a\n")
    (tracked / "data" / "new.txt").write_text("unsaved new\n")
    for args in (["checkout"], ["checkout", "model.bin"], ["checkout", "data"]):
        line = assert_error(bale(*args, cwd=tracked, ok=False), "not saved in the cache")
        assert "bale commit" in line and "-f" in line
    assert (tracked / "model.bin").read_bytes() == b"unsaved work"
    assert (tracked / "data" / "a.txt").read_text() == "unsaved a\n"
    assert (tracked / "data" / "new.txt").exists()

    proc = bale("checkout", "-f", cwd=tracked)
    assert sorted(proc.stdout.splitlines()[:2]) == ["M\tdata/", "M\tmodel.bin"]
    assert read_tree(tracked / "data") == DATA
    assert (tracked / "model.bin").read_bytes() == b"\x00\x01model"
    assert status_json(bale, tracked) == {}


def test_changes_saved_in_the_cache_are_replaced_without_force(tracked: Path, bale, git):
    # Version 2 is added (so its bytes are in the cache); the .dvc files go
    # back to version 1 with git, and checkout brings version 1 back.
    (tracked / "model.bin").write_bytes(b"model v2")
    write_tree(tracked, {"data/a.txt": "a v2\n", "data/new.txt": "new in v2\n"})
    bale("add", "data", "model.bin", cwd=tracked)
    git("commit", "-qam", "v2", cwd=tracked)
    git("checkout", "-q", "HEAD~1", "--", "data.dvc", "model.bin.dvc", cwd=tracked)
    assert status_json(bale, tracked) == {
        "data.dvc": [{"changed outs": {"data": "modified"}}],
        "model.bin.dvc": [{"changed outs": {"model.bin": "modified"}}],
    }
    bale("checkout", cwd=tracked)
    assert read_tree(tracked / "data") == DATA  # new.txt, absent from v1, is gone
    assert (tracked / "model.bin").read_bytes() == b"\x00\x01model"
    git("checkout", "-q", "HEAD", "--", "data.dvc", "model.bin.dvc", cwd=tracked)
    bale("checkout", cwd=tracked)
    assert (tracked / "data" / "new.txt").read_text() == "new in v2\n"


def test_a_missing_object_fails_that_output_and_places_the_others(tracked: Path, bale):
    oid = (tracked / "model.bin.dvc").read_text().split("md5: ")[1].split()[0]
    obj = tracked / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.unlink()
    (tracked / "model.bin").unlink()
    shutil.rmtree(tracked / "data")
    proc = bale("checkout", cwd=tracked, ok=False)
    line = assert_error(proc, "model.bin", "not in the cache")
    assert "bale pull" in line
    assert read_tree(tracked / "data") == DATA


def test_an_object_missing_from_a_folder_once_whole_in_the_cache_is_named(tracked: Path, bale):
    assert status_json(bale, tracked) == {}  # the state now knows the cache holds data whole
    oid = hashlib.md5(DATA["a.txt"]).hexdigest()
    obj = tracked / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.unlink()
    shutil.rmtree(tracked / "data")
    proc = bale("checkout", "data", cwd=tracked, ok=False)
    assert "bale pull" in assert_error(proc, "data", "not in the cache")
    assert not (tracked / "data").exists()


def test_leftovers_of_a_killed_checkout_are_removed(tracked: Path, bale):
    # What a checkout killed between creating and filling a file leaves behind.
    (tracked / "data" / "a.txt").unlink()
    (tracked / "data" / "a.txt.0123456789ab-7.tmp").write_bytes(b"")
    (tracked / "data" / "sub" / "c.txt.ba9876543210-3.tmp").write_bytes(b"c")
    bale("checkout", cwd=tracked)
    assert read_tree(tracked / "data") == DATA
    assert status_json(bale, tracked) == {}


def test_a_user_file_that_looks_temporary_is_still_protected(tracked: Path, bale):
    (tracked / "data" / "notes.tmp").write_text("mine\n")
    (tracked / "data" / "a.txt.12345.tmp").write_text("mine too\n")
    assert_error(bale("checkout", cwd=tracked, ok=False), "not saved in the cache")
    assert (tracked / "data" / "notes.tmp").exists()


def test_executable_bit_is_restored(repo: Path, bale):
    write_tree(repo, {"tools/run.sh": "#!/bin/sh\n", "run2.sh": "#!/bin/sh\necho\n"})
    (repo / "tools" / "run.sh").chmod(0o755)
    (repo / "run2.sh").chmod(0o755)
    bale("add", "run2.sh", "tools", cwd=repo)
    assert "isexec: true" in (repo / "run2.sh.dvc").read_text()
    (repo / "run2.sh").unlink()
    shutil.rmtree(repo / "tools")
    bale("checkout", cwd=repo)
    assert os.access(repo / "run2.sh", os.X_OK)
    assert (repo / "tools" / "run.sh").read_text() == "#!/bin/sh\n"


def test_relink_changes_copies_into_links_after_cache_type_changes(tracked: Path, bale):
    a = tracked / "data" / "a.txt"
    assert a.stat().st_nlink == 1  # the default (reflink, copy) made copies here
    bale("config", "cache.type", "hardlink", cwd=tracked)
    bale("checkout", cwd=tracked)
    assert a.stat().st_nlink == 1  # unchanged content: left alone
    bale("checkout", "--relink", cwd=tracked)
    assert a.stat().st_nlink == 2
    bale("checkout", "--relink", cwd=tracked)  # links again over the same links
    assert read_tree(tracked / "data") == DATA
    assert not os.access(a, os.W_OK) or os.geteuid() == 0
    assert oct(a.stat().st_mode & 0o777) == "0o444"
    assert status_json(bale, tracked) == {}


def test_a_folder_where_a_file_belongs_is_replaced(tracked: Path, bale):
    (tracked / "data" / "a.txt").unlink()
    write_tree(tracked, {"data/a.txt/deep/z.txt": "unsaved\n"})
    assert_error(bale("checkout", cwd=tracked, ok=False), "data/a.txt/deep/z.txt")
    assert (tracked / "data" / "a.txt" / "deep" / "z.txt").exists()
    bale("checkout", "-f", cwd=tracked)
    assert read_tree(tracked / "data") == DATA
    # A file .dvcignore hides is not checked, so it is not deleted either.
    (tracked / "data" / "a.txt").unlink()
    write_tree(tracked, {".dvcignore": "*.log\n", "data/a.txt/x/hidden.log": "keep\n"})
    line = assert_error(bale("checkout", "-f", cwd=tracked, ok=False), "data/a.txt", "x/hidden.log")
    assert "move that away" in line
    assert (tracked / "data" / "a.txt" / "x" / "hidden.log").read_text() == "keep\n"


def test_an_object_changed_in_the_cache_is_not_placed_or_trusted(tracked: Path, bale):
    """An object that is no longer read-only (an edited hardlink, a hand copy)
    is re-hashed before it is placed: a wrong one is refused, and status
    does not call the workspace up to date."""
    oid = hashlib.md5(b"\x00\x01model").hexdigest()
    obj = tracked / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"tampered")
    (tracked / "model.bin").unlink()
    line = assert_error(bale("checkout", cwd=tracked, ok=False), "model.bin", oid, "corrupt")
    assert "bale fsck --repair" in line
    assert not (tracked / "model.bin").exists()
    assert "Data and pipelines are up to date" not in bale("status", cwd=tracked).stdout


def test_an_object_made_writable_but_intact_is_verified_and_protected(tracked: Path, bale):
    oid = hashlib.md5(b"\x00\x01model").hexdigest()
    obj = tracked / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    obj.chmod(0o644)
    (tracked / "model.bin").unlink()
    bale("checkout", cwd=tracked)
    assert (tracked / "model.bin").read_bytes() == b"\x00\x01model"
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444  # trusted again, as dvc protects it


def test_a_shared_cache_makes_group_writable_folders(repo: Path, bale):
    bale("config", "cache.shared", "group", cwd=repo)
    (repo / "x.txt").write_text("x\n")
    bale("add", "x.txt", cwd=repo)
    oid = hashlib.md5(b"x\n").hexdigest()
    folder = repo / ".dvc" / "cache" / "files" / "md5" / oid[:2]
    for path in (folder, folder.parent, folder.parent.parent):
        assert stat.S_IMODE(path.stat().st_mode) == 0o2775, path
