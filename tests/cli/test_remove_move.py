"""`bale remove` and `bale move`: the .dvc file, the .gitignore entry and the data."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import TRACKED_FILES
from tests.cli.util import read_tree, status_json

DATA = {k.removeprefix("data/"): v.encode() for k, v in TRACKED_FILES.items()}


def test_remove_drops_the_dvc_file_and_gitignore_entry_and_keeps_data(tracked: Path, bale):
    assert (tracked / ".gitignore").read_text() == "/data\n/model.bin\n"
    proc = bale("remove", "data.dvc", cwd=tracked)
    assert proc.stdout == "Removed data.dvc\n"
    assert not (tracked / "data.dvc").exists()
    assert (tracked / ".gitignore").read_text() == "/model.bin\n"
    assert read_tree(tracked / "data") == DATA
    # By the output's name, too; the emptied .gitignore goes away.
    bale("remove", "model.bin", cwd=tracked)
    assert not (tracked / "model.bin.dvc").exists()
    assert not (tracked / ".gitignore").exists()
    assert (tracked / "model.bin").exists()


def test_remove_keeps_other_gitignore_lines(tracked: Path, bale):
    text = "# mine\n/data\n*.pyc\n/model.bin\n"
    (tracked / ".gitignore").write_text(text)
    bale("remove", "data.dvc", "model.bin.dvc", cwd=tracked)
    assert (tracked / ".gitignore").read_text() == "# mine\n*.pyc\n"


def test_remove_outs_deletes_the_data(tracked: Path, bale):
    bale("remove", "--outs", "data.dvc", "model.bin.dvc", cwd=tracked)
    assert not (tracked / "data").exists()
    assert not (tracked / "model.bin").exists()
    assert sorted(p.name for p in tracked.iterdir()) == [".dvc", ".dvcignore", ".git"]


def test_move_renames_data_dvc_file_and_gitignore_entries(tracked: Path, bale):
    proc = bale("move", "data", "dataset", cwd=tracked)
    assert "dataset.dvc" in proc.stdout
    assert read_tree(tracked / "dataset") == DATA
    assert not (tracked / "data").exists() and not (tracked / "data.dvc").exists()
    assert "  path: dataset\n" in (tracked / "dataset.dvc").read_text()
    assert (tracked / ".gitignore").read_text() == "/model.bin\n/dataset\n"
    assert status_json(bale, tracked) == {}


def test_move_into_another_folder(tracked: Path, bale):
    (tracked / "models").mkdir()
    bale("move", "model.bin", "models", cwd=tracked)  # into an existing folder
    bale("move", "data", "inputs/raw", cwd=tracked)  # to a new path
    assert (tracked / "models" / "model.bin").read_bytes() == b"\x00\x01model"
    assert "  path: model.bin\n" in (tracked / "models" / "model.bin.dvc").read_text()
    assert (tracked / "models" / ".gitignore").read_text() == "/model.bin\n"
    assert "  path: raw\n" in (tracked / "inputs" / "raw.dvc").read_text()
    assert (tracked / "inputs" / ".gitignore").read_text() == "/raw\n"
    assert not (tracked / ".gitignore").exists()
    assert status_json(bale, tracked) == {}


def test_move_with_autostage_stages_the_new_files(tracked: Path, bale, git):
    bale("config", "core.autostage", "true", cwd=tracked)
    bale("move", "data", "dataset", cwd=tracked)
    staged = git("diff", "--cached", "--name-only", cwd=tracked).stdout.split()
    assert {"dataset.dvc", ".gitignore"} <= set(staged)


def test_move_keeps_the_dvc_files_other_keys(tracked: Path, bale):
    text = (tracked / "model.bin.dvc").read_text() + "meta:\n  owner: team\n"
    (tracked / "model.bin.dvc").write_text(text.replace("  path:", "  desc: weights\n  path:"))
    bale("move", "model.bin", "weights.bin", cwd=tracked)
    new = (tracked / "weights.bin.dvc").read_text()
    assert "  desc: weights\n" in new and new.endswith("meta:\n  owner: team\n")
