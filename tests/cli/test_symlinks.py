"""Symlinks must never let a command read a tree from, or write into, a folder
outside the workspace; symlinks that stay inside are data like any other."""

from __future__ import annotations

import os
from pathlib import Path

from tests.cli.util import assert_error, cache_objects, snapshot, write_tree

FILE_MD5 = "401b30e3b8b5d629635a5c613cdb7919"  # b"x\n"


def test_add_of_a_symlink_to_a_file_outside_is_refused(repo: Path, outside: Path, bale):
    os.symlink(outside / "secret.txt", repo / "link.txt")
    before, before_out = snapshot(repo), snapshot(outside)
    proc = bale("add", "link.txt", cwd=repo, ok=False)
    assert_error(proc, "link.txt", "outside the repository")
    assert snapshot(repo) == before
    assert snapshot(outside) == before_out


def test_add_of_a_folder_holding_a_symlink_out_is_refused_and_stores_nothing(
    repo: Path, outside: Path, bale
):
    write_tree(repo, {"data/a.txt": "a\n", "data/deep/b.txt": "b\n"})
    os.symlink(outside, repo / "data" / "deep" / "escape")
    before, before_out = snapshot(repo), snapshot(outside)
    proc = bale("add", "data", cwd=repo, ok=False)
    assert_error(proc, "escape", "outside the repository")
    assert snapshot(repo) == before
    assert cache_objects(repo) == {}
    assert snapshot(outside) == before_out


def test_add_of_several_targets_writes_nothing_when_a_later_one_is_refused(
    repo: Path, outside: Path, bale
):
    write_tree(repo, {"good/g.txt": "g\n", "bad/a.txt": "a\n"})
    os.symlink(outside, repo / "bad" / "escape")
    before = snapshot(repo)
    assert_error(bale("add", "good", "bad", cwd=repo, ok=False), "outside the repository")
    assert snapshot(repo) == before
    assert cache_objects(repo) == {}


def test_add_through_a_symlinked_folder_is_refused(repo: Path, outside: Path, bale):
    os.symlink(outside, repo / "esc")
    before, before_out = snapshot(repo), snapshot(outside)
    proc = bale("add", "esc/secret.txt", cwd=repo, ok=False)
    assert_error(proc, "esc/secret.txt", "outside the repository", "symlink")
    assert snapshot(repo) == before
    assert snapshot(outside) == before_out  # no secret.txt.dvc, no .gitignore there


def test_add_copy_into_a_symlinked_folder_is_refused(repo: Path, outside: Path, bale):
    os.symlink(outside, repo / "esc")
    (repo / "src.txt").write_text("src\n")
    before, before_out = snapshot(repo), snapshot(outside)
    proc = bale("add", "src.txt", "-o", "esc/copy.txt", cwd=repo, ok=False)
    assert_error(proc, "esc/copy.txt", "outside the repository")
    assert snapshot(repo) == before
    assert snapshot(outside) == before_out


def test_checkout_through_a_symlinked_folder_writes_nothing_outside(
    tracked: Path, outside: Path, bale
):
    # A .dvc file and a symlink both come from git: a hostile commit can hold them.
    os.symlink(outside, tracked / "esc")
    (tracked / "esc.dvc").write_text(
        f"outs:\n- md5: {FILE_MD5}\n  size: 2\n  hash: md5\n  path: esc/planted\n"
    )
    write_tree(tracked, {"x.txt": "x\n"})
    bale("add", "x.txt", cwd=tracked)  # the object exists in the cache
    before_out = snapshot(outside)
    proc = bale("checkout", "esc.dvc", cwd=tracked, ok=False)
    assert_error(proc, "esc/planted", "outside the repository")
    assert snapshot(outside) == before_out


def test_checkout_of_a_folder_output_that_is_a_symlink_out_is_refused(
    tracked: Path, outside: Path, bale
):
    os.symlink(outside, tracked / "data2")
    text = (tracked / "data.dvc").read_text().replace("path: data", "path: data2")
    (tracked / "data2.dvc").write_text(text)
    before_out = snapshot(outside)
    for args in (["checkout", "data2.dvc"], ["checkout"], ["checkout", "-f", "data2"]):
        assert_error(bale(*args, cwd=tracked, ok=False), "data2", "outside the repository")
        assert snapshot(outside) == before_out


def test_move_into_a_symlinked_folder_is_refused(tracked: Path, outside: Path, bale):
    os.symlink(outside, tracked / "esc")
    before, before_out = snapshot(tracked), snapshot(outside)
    for dst in ("esc", "esc/data"):
        assert_error(bale("move", "data", dst, cwd=tracked, ok=False), "outside the repository")
        assert snapshot(tracked) == before
        assert snapshot(outside) == before_out


def test_remove_outs_of_a_symlinked_output_removes_only_the_link(
    tracked: Path, outside: Path, bale
):
    os.symlink(outside, tracked / "data2")
    text = (tracked / "data.dvc").read_text().replace("path: data", "path: data2")
    (tracked / "data2.dvc").write_text(text)
    before_out = snapshot(outside)
    bale("remove", "--outs", "data2.dvc", cwd=tracked)
    assert not os.path.lexists(tracked / "data2")
    assert snapshot(outside) == before_out


def test_symlinks_inside_the_repository_are_read_as_dvc_reads_them(repo: Path, bale):
    # dvc 3.67.1 reads a symlinked file and skips a symlinked folder (and so a
    # loop): this is its manifest for the same tree.
    write_tree(repo, {"real/a.txt": "a\n", "data/b.txt": "b\n", "other.txt": "o\n"})
    os.symlink("../other.txt", repo / "data" / "to_file")
    os.symlink("../real", repo / "data" / "to_dir")
    os.symlink(".", repo / "data" / "loop")
    bale("add", "data", cwd=repo)
    assert (repo / "data.dvc").read_text() == (
        "outs:\n- md5: ee28123161860c3e8b22c8edf95301bf.dir\n  size: 4\n  nfiles: 2\n"
        "  hash: md5\n  path: data\n"
    )
    assert bale("status", cwd=repo).stdout.strip() == "Data and pipelines are up to date."


def test_a_dangling_symlink_in_a_folder_is_named(repo: Path, tmp_path: Path, bale):
    write_tree(repo, {"data/a.txt": "a\n"})
    os.symlink("gone.txt", repo / "data" / "link")
    before = snapshot(tmp_path)
    assert_error(bale("add", "data", cwd=repo, ok=False), "gone.txt", "data/link")
    assert snapshot(tmp_path) == before
