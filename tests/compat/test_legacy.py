"""Repositories from DVC 2.x: `.dvc` files without `hash: md5`, objects in the legacy cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compat.data import (
    LEGACY_FILES,
    LEGACY_TARGETS,
    assert_up_to_date,
    cache_path,
    md5,
    md5_dos2unix,
    remove_outputs,
    snapshot,
    status_json,
)

pytestmark = pytest.mark.dvc


def test_the_hand_made_legacy_repo_is_one_dvc_reads(legacy_repo: Path, tmp_path: Path, dvc):
    """Checks the fixture itself: dvc 3 finds it clean and checks it out from the old cache."""
    assert "hash:" not in (legacy_repo / "data.dvc").read_text()
    big = LEGACY_FILES["big.txt"]
    # Only the first 1 MiB chunk is text, so only it is converted before hashing.
    assert md5_dos2unix(big) not in (md5(big), md5(big.replace(b"\r\n", b"\n")))
    assert cache_path(legacy_repo, md5_dos2unix(big), legacy=True).is_file()
    assert_up_to_date(dvc("status", cwd=legacy_repo))

    copy = tmp_path / "copy"
    shutil.copytree(legacy_repo, copy, symlinks=True)
    expected = snapshot(copy)
    remove_outputs(copy, LEGACY_TARGETS)
    dvc("checkout", cwd=copy)
    assert snapshot(copy) == expected
    assert_up_to_date(dvc("status", cwd=copy))


def test_bale_status_is_clean_on_a_legacy_repo(legacy_repo: Path, bale):
    assert_up_to_date(bale("status", cwd=legacy_repo))
    assert status_json(bale("status", "--json", cwd=legacy_repo)) == {}


def test_bale_hashes_legacy_entries_with_the_dos2unix_rule(legacy_repo: Path, bale, dvc):
    root = legacy_repo
    # CR LF → LF in text leaves a legacy hash unchanged (what git's autocrlf does on checkout)…
    (root / "crlf.txt").write_bytes(LEGACY_FILES["crlf.txt"].replace(b"\r\n", b"\n"))
    (root / "data" / "B.txt").write_bytes(LEGACY_FILES["data/B.txt"].replace(b"\r\n", b"\n"))
    # …but not in binary files, nor in the DVC 3 entry, which hashes raw bytes.
    (root / "blob.bin").write_bytes(LEGACY_FILES["blob.bin"].replace(b"\r\n", b"\n"))
    (root / "modern.txt").write_bytes(b"new\nstyle\n")

    expected = {
        "blob.bin.dvc": [{"changed outs": {"blob.bin": "modified"}}],
        "modern.txt.dvc": [{"changed outs": {"modern.txt": "modified"}}],
    }
    assert status_json(dvc("status", "--json", cwd=root)) == expected
    assert status_json(bale("status", "--json", cwd=root)) == expected

    (root / "data" / "sub" / "c.txt").write_bytes(b"x\r\nchanged\r\n")
    assert status_json(bale("status", "--json", "data.dvc", cwd=root)) == {
        "data.dvc": [{"changed outs": {"data": "modified"}}]
    }


def test_bale_checkout_restores_from_the_legacy_cache(legacy_repo: Path, bale, dvc):
    root = legacy_repo
    before = snapshot(root)
    remove_outputs(root, LEGACY_TARGETS)
    assert status_json(bale("status", "--json", cwd=root)) == {
        f"{t}.dvc": [{"changed outs": {t: "deleted"}}] for t in LEGACY_TARGETS
    }

    bale("checkout", cwd=root)
    # The original CR LF bytes come back, from objects named by their dos2unix md5,
    # including the files listed in a `.dir` manifest stored in the legacy layout.
    assert snapshot(root) == before
    assert_up_to_date(bale("status", cwd=root))
    assert_up_to_date(dvc("status", cwd=root))
