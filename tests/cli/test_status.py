"""`bale status`: DVC's words and grouping, human and --json, from anywhere in the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.util import status_json, write_tree

UP_TO_DATE = "Data and pipelines are up to date."


def _blocks(stdout: str) -> dict[str, list[str]]:
    """Human status output as {dvcfile line: its indented lines} (files in any order)."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in stdout.splitlines():
        if line.startswith("\t"):
            blocks[current].append(line)
        else:
            current = line
            blocks[current] = []
    return blocks


def test_clean(tracked: Path, bale):
    assert bale("status", cwd=tracked).stdout == UP_TO_DATE + "\n"
    assert bale("status", "--json", cwd=tracked).stdout.strip() == "{}"
    assert bale("status", "-q", cwd=tracked).stdout == ""


def test_modified_deleted_and_not_in_cache(tracked: Path, bale):
    write_tree(tracked, {"data/a.txt": "changed\n", "x.txt": "x\n"})
    (tracked / "model.bin").unlink()
    bale("add", "--no-commit", "x.txt", cwd=tracked)
    expected = {
        "data.dvc": [{"changed outs": {"data": "modified"}}],
        "model.bin.dvc": [{"changed outs": {"model.bin": "deleted"}}],
        "x.txt.dvc": [{"changed outs": {"x.txt": "not in cache"}}],
    }
    assert status_json(bale, tracked) == expected
    # The words and tabs dvc prints (checked against dvc 3.67.1).
    assert _blocks(bale("status", cwd=tracked).stdout) == {
        "data.dvc:": ["\tchanged outs:", "\t\tmodified:           data"],
        "model.bin.dvc:": ["\tchanged outs:", "\t\tdeleted:            model.bin"],
        "x.txt.dvc:": ["\tchanged outs:", "\t\tnot in cache:       x.txt"],
    }
    proc = bale("status", "-q", cwd=tracked, ok=False)  # as dvc: quiet, exit 1 on changes
    assert (proc.returncode, proc.stdout) == (1, "")


def test_every_kind_of_folder_change_is_a_modification(tracked: Path, bale):
    for change in ("edit", "add", "remove", "rename"):
        shutil.rmtree(tracked / "data")
        bale("checkout", "data", cwd=tracked)
        data = tracked / "data"
        if change == "edit":
            (data / "sub" / "c.txt").write_text("C\n")
        elif change == "add":
            (data / "sub" / "d.txt").write_text("d\n")
        elif change == "remove":
            (data / "b.txt").unlink()
        else:
            os.rename(data / "b.txt", data / "B.txt")
        assert status_json(bale, tracked) == {"data.dvc": [{"changed outs": {"data": "modified"}}]}


def test_status_of_targets(tracked: Path, bale):
    write_tree(tracked, {"data/a.txt": "changed\n"})
    (tracked / "model.bin").unlink()
    assert set(status_json(bale, tracked, "model.bin")) == {"model.bin.dvc"}
    assert set(status_json(bale, tracked, "data.dvc")) == {"data.dvc"}
    assert set(status_json(bale, tracked, "data/sub")) == {"data.dvc"}


def test_paths_are_relative_to_the_current_folder(tracked: Path, bale):
    write_tree(tracked, {"data/a.txt": "changed\n", "elsewhere/x": "x"})
    (tracked / "model.bin").unlink()
    assert status_json(bale, tracked / "elsewhere") == {
        "../data.dvc": [{"changed outs": {"../data": "modified"}}],
        "../model.bin.dvc": [{"changed outs": {"../model.bin": "deleted"}}],
    }


def test_touched_but_unchanged_files_are_clean(tracked: Path, bale):
    bale("status", cwd=tracked)  # the state learns the files
    for path in (tracked / "model.bin", tracked / "data" / "a.txt"):
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data)  # a new inode and mtime, the same bytes
    os.utime(tracked / "data" / "b.txt", ns=(1, 1))
    assert status_json(bale, tracked) == {}


@pytest.mark.parametrize("placed_by", ["add", "checkout"])
def test_edits_are_told_and_undoing_them_is_clean(tracked: Path, bale, placed_by: str):
    if placed_by == "add":
        bale("add", "data", cwd=tracked)
    else:
        shutil.rmtree(tracked / "data")
        bale("checkout", "data", cwd=tracked)
        assert status_json(bale, tracked) == {}
    target = tracked / "data" / "a.txt"
    original = target.read_bytes()
    for _ in range(2):  # the second time the state already knows the edit
        target.write_bytes(original + b"more\n")
        assert status_json(bale, tracked) == {"data.dvc": [{"changed outs": {"data": "modified"}}]}
        target.write_bytes(original)
        assert status_json(bale, tracked) == {}


@pytest.mark.parametrize("entry", ["script", "module"])
def test_a_reader_that_stops_early_gets_no_error(tracked: Path, entry: str):
    """`bale status | head -0`: no message, the exit status of SIGPIPE (as git and dvc)."""
    write_tree(tracked, {"data/a.txt": "changed\n"})
    argv = [sys.executable, "-m", "bale"]
    if entry == "script":
        script = shutil.which("bale", path=os.path.dirname(sys.executable))
        if script is None:
            pytest.skip("the bale console script is not installed beside this interpreter")
        argv = [script]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [*argv, "status"], cwd=tracked, stdout=write_end, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")
