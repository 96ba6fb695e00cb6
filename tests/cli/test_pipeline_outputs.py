"""Outputs that `dvc repro` recorded in dvc.lock are data bale must count:
gc keeps them, push and fetch move them, checkout places them, status
reports them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, cache_objects, write_tree

pytestmark = pytest.mark.dvc


@pytest.fixture
def reproduced(repo: Path, dvc, git) -> Path:
    """A repository whose pipeline the real dvc ran: `prep` copies in.txt to
    out/ (a folder), `count` writes count.txt (cached) and `log` (cache: false)."""
    write_tree(repo, {"in.txt": "a\nb\n", "scripts/prep.sh": "mkdir -p out && cp in.txt out/\n"})
    dvc("stage", "add", "-q", "-n", "prep", "-d", "in.txt", "-o", "out", "sh scripts/prep.sh",
        cwd=repo)  # fmt: skip
    dvc("stage", "add", "-q", "-n", "count", "-d", "out", "-o", "count.txt", "-O", "log",
        "wc -l out/in.txt > count.txt && echo ran > log", cwd=repo)  # fmt: skip
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "pipeline", cwd=repo)
    return repo


def _cached_lock_oids(repo: Path) -> set[str]:
    """The oids dvc.lock records for the cached outputs (all but `log`)."""
    import yaml

    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    outs = [out for stage in lock["stages"].values() for out in stage.get("outs", [])]
    return {out["md5"] for out in outs if out["path"] != "log"}


def test_gc_keeps_what_dvc_lock_records(reproduced: Path, bale, dvc):
    before = cache_objects(reproduced)
    assert _cached_lock_oids(reproduced) <= set(before)
    bale("gc", "-w", "-f", cwd=reproduced)
    assert cache_objects(reproduced) == before
    assert "up to date" in dvc("status", cwd=reproduced).stdout


def test_status_checks_the_stages_dvc_ran(reproduced: Path, bale, dvc):
    assert bale("status", cwd=reproduced).stdout.strip() == "Data and pipelines are up to date."
    assert bale("status", "-q", cwd=reproduced).returncode == 0
    (reproduced / "count.txt").unlink()
    ours = json.loads(bale("status", "--json", cwd=reproduced).stdout)
    theirs = json.loads(dvc("status", "--json", cwd=reproduced).stdout)
    assert ours == theirs == {"count": [{"changed outs": {"count.txt": "deleted"}}]}
    assert bale("status", "-q", cwd=reproduced, ok=None).returncode == 1


def test_checkout_push_and_pull_move_stage_outputs(
    reproduced: Path, tmp_path: Path, bale, dvc, git
):
    store = tmp_path / "store"
    bale("remote", "add", "-d", "storage", str(store), cwd=reproduced)
    # out's manifest, out/in.txt and count.txt; not log (cache: false)
    assert bale("push", cwd=reproduced).stdout.strip() == "3 files pushed"
    assert "in sync" in dvc("status", "-c", cwd=reproduced).stdout
    git("add", "-A", cwd=reproduced)
    git("commit", "-qm", "remote", cwd=reproduced)

    clone = tmp_path / "clone"
    git("clone", "-q", str(reproduced), str(clone), cwd=tmp_path)
    out = bale("pull", cwd=clone).stdout
    assert out.splitlines()[-1] == "3 files fetched and 2 files added"
    assert (clone / "out" / "in.txt").read_text() == "a\nb\n"
    assert (clone / "count.txt").read_text() == (reproduced / "count.txt").read_text()
    assert (clone / "log").read_text() == "ran\n"  # cache: false: git's, not moved by bale
    assert "up to date" in dvc("status", cwd=clone).stdout


@pytest.mark.parametrize("command", [["commit", "count.txt"], ["add", "count.txt"]])
def test_commit_and_add_refuse_to_change_stage_outputs(
    reproduced: Path, tmp_path: Path, bale, command: list[str]
):
    (reproduced / "count.txt").write_text("changed\n")
    guard = Unchanged(tmp_path)
    assert_error(bale(*command, cwd=reproduced, ok=False), "count.txt", "stage", "dvc.yaml:count")
    guard.check()


def test_what_history_cannot_read_stops_gc_and_is_reported(
    tracked: Path, tmp_path: Path, bale, git
):
    """A `.dvc` file broken in one commit and fixed in the next: what that
    commit uses is unknown, so gc -A deletes nothing, status -c says so and
    push -A warns."""
    good = (tracked / "model.bin.dvc").read_text()
    (tracked / "model.bin.dvc").write_text("outs: [broken\n")
    git("commit", "-qam", "broken", cwd=tracked)
    broken = git("rev-parse", "HEAD", cwd=tracked).stdout.strip()
    (tracked / "model.bin.dvc").write_text(good)
    git("commit", "-qam", "fixed", cwd=tracked)
    store = tmp_path / "store"
    bale("remote", "add", "-d", "storage", str(store), cwd=tracked)

    before = cache_objects(tracked)
    line = assert_error(bale("gc", "-A", "-f", cwd=tracked, ok=False), "nothing was deleted")
    assert f"{broken[:8]}:model.bin.dvc" in line
    assert cache_objects(tracked) == before

    status = json.loads(bale("status", "-c", "-A", "--json", cwd=tracked).stdout)
    assert status[f"{broken[:8]}:model.bin.dvc (not valid YAML at line 2; fix or restore it)"] == (
        "unreadable"
    )
    proc = bale("push", "-A", cwd=tracked)
    assert f"WARNING: {broken[:8]}:model.bin.dvc" in proc.stderr
