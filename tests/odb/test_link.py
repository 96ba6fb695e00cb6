"""Placing cache objects in the workspace: each link type, atomically, from many threads."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from bale.odb.link import Linker


@pytest.fixture
def obj(tmp_path: Path) -> Path:
    path = tmp_path / "cache" / "ab" / "cdef"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"object bytes\n")
    path.chmod(0o444)
    return path


def _no_tmp_left(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_copy_is_an_independent_writable_file(obj: Path, tmp_path: Path):
    dest = tmp_path / "ws" / "f"
    dest.parent.mkdir()
    sres = Linker(("copy",)).place(str(obj), str(dest))
    assert dest.read_bytes() == b"object bytes\n"
    assert not os.path.samefile(obj, dest)
    assert stat.S_IMODE(dest.stat().st_mode) & 0o200  # writable, as dvc leaves copies
    assert (sres.st_ino, sres.st_size) == (dest.stat().st_ino, 13)
    _no_tmp_left(dest.parent)


def test_hardlink_shares_the_read_only_object(obj: Path, tmp_path: Path):
    dest = tmp_path / "f"
    Linker(("hardlink",)).place(str(obj), str(dest))
    assert os.path.samefile(obj, dest)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o444


def test_symlink_is_absolute_into_the_cache(obj: Path, tmp_path: Path):
    dest = tmp_path / "f"
    Linker(("symlink",)).place(str(obj), str(dest))
    assert dest.is_symlink()
    assert os.readlink(dest) == str(obj)  # absolute, as dvc makes them


def test_placing_replaces_an_existing_read_only_file_atomically(obj: Path, tmp_path: Path):
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    dest.chmod(0o444)
    Linker(("copy",)).place(str(obj), str(dest))
    assert dest.read_bytes() == b"object bytes\n"
    _no_tmp_left(tmp_path)


def test_executable_copies_get_exec_bits(obj: Path, tmp_path: Path):
    dest = tmp_path / "run.sh"
    Linker(("copy",)).place(str(obj), str(dest), isexec=True)
    assert os.access(dest, os.X_OK)


def test_a_missing_object_raises_and_leaves_no_temporary_file(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        Linker(("reflink", "copy")).place(str(tmp_path / "nope"), str(tmp_path / "f"))
    assert list(tmp_path.iterdir()) == []


def test_unsupported_link_types_fall_back_under_many_threads(obj: Path, tmp_path: Path):
    # reflink is refused here unless the filesystem clones (btrfs, xfs):
    # threads that tried it at once must all fall back to copy, not fail.
    for round_ in range(20):
        linker = Linker(("reflink", "copy"))
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def place(i: int, linker=linker, barrier=barrier, errors=errors, round_=round_) -> None:
            barrier.wait()
            try:
                linker.place(str(obj), str(tmp_path / f"{round_}-{i}"))
            except OSError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=place, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    placed = [tmp_path / f"{r}-{i}" for r in range(20) for i in range(8)]
    assert {p.read_bytes() for p in placed} == {b"object bytes\n"}


def test_hardlinking_again_over_the_same_link_leaves_nothing_behind(obj: Path, tmp_path: Path):
    # rename() between two links to one inode does nothing: the temporary
    # link must still go (checkout --relink, add after a killed add).
    dest = tmp_path / "ws" / "f"
    dest.parent.mkdir()
    linker = Linker(("hardlink",))
    linker.place(str(obj), str(dest))
    linker.place(str(obj), str(dest))
    assert os.path.samefile(obj, dest)
    assert [p.name for p in dest.parent.iterdir()] == ["f"]
