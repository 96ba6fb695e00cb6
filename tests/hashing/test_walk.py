"""Walking a folder: what counts as a file of the dataset, as DVC's walk decides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bale.errors import TargetNotFoundError, UnsafePathError
from bale.hashing.walk import stat_file, walk_files


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _rels(root: Path, **kw) -> list[str]:
    return sorted(e.relpath for e in walk_files(str(root), **kw))


def test_files_with_posix_relpaths_and_metadata_skipped(tmp_path: Path):
    _tree(tmp_path, {"a": "1", "sub/b": "22", "sub/deep/c": "333", ".dvcignore": "x"})
    _tree(tmp_path, {".git/HEAD": "h", ".dvc/config": "", ".hg/x": "", "sub/.dvcignore": ""})
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "empty").mkdir()
    entries = {e.relpath: e for e in walk_files(str(tmp_path))}
    assert sorted(entries) == ["a", "sub/b", "sub/deep/c"]
    sres = os.stat(tmp_path / "sub" / "b")
    assert entries["sub/b"][1:] == (sres.st_ino, sres.st_mtime_ns, 2, False)


def test_executable_bit(tmp_path: Path):
    _tree(tmp_path, {"run.sh": "#!/bin/sh\n"})
    (tmp_path / "run.sh").chmod(0o755)
    assert walk_files(str(tmp_path))[0].isexec
    assert stat_file(str(tmp_path / "run.sh")).isexec
    assert stat_file(str(tmp_path / "nope")) is None


def test_ignore_predicate_per_folder(tmp_path: Path):
    _tree(tmp_path, {"a.log": "", "keep": "", "sub/a.log": "", "sub/tmp/x": "", "tmp/y": ""})
    seen: list[str] = []

    def ignore_for(rel: str):
        seen.append(rel)
        return lambda name, is_dir: name.endswith(".log") or (is_dir and name == "tmp")

    assert _rels(tmp_path, ignore_for=ignore_for) == ["keep"]
    assert sorted(seen) == ["", "sub"]  # ignored folders are not even opened


def test_symlinks_inside_are_read_like_dvc(tmp_path: Path):
    repo = tmp_path / "repo"
    _tree(repo, {"data/a": "a", "other.txt": "other", "shared/s": "s"})
    os.symlink("../other.txt", repo / "data" / "to_file")
    os.symlink("../shared", repo / "data" / "to_dir")  # dvc does not follow these
    os.symlink(".", repo / "data" / "loop")
    entries = {e.relpath: e for e in walk_files(str(repo / "data"), link_roots=(str(repo),))}
    assert sorted(entries) == ["a", "to_file"]
    assert entries["to_file"].size == 5  # the file it points to


@pytest.mark.parametrize("target", ["file", "folder"])
def test_symlinks_out_are_refused(tmp_path: Path, target: str):
    repo, out = tmp_path / "repo", tmp_path / "out"
    _tree(repo, {"data/a": "a"})
    _tree(out, {"secret": "s"})
    os.symlink(out / "secret" if target == "file" else out, repo / "data" / "link")
    with pytest.raises(UnsafePathError, match="outside the repository"):
        walk_files(str(repo / "data"), link_roots=(str(repo),))


def test_dangling_symlink_is_named(tmp_path: Path):
    _tree(tmp_path, {"data/a": "a"})
    os.symlink("gone", tmp_path / "data" / "link")
    with pytest.raises(TargetNotFoundError, match="data/link' is a symlink"):
        walk_files(str(tmp_path / "data"), link_roots=(str(tmp_path),))
