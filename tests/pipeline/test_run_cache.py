"""The run cache (`.dvc/cache/runs/`): `bale repro` keeps each run and checks
a saved one out instead of running the command again, beside the real dvc
(each restores the other's runs), and `push/pull/fetch --run-cache` carry
runs through a remote in dvc's layout."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bale.pipeline.runcache import entry_key, entry_value
from tests.cli.util import Unchanged, write_tree

pytestmark = pytest.mark.dvc

# Each command appends to log.txt (no output of any stage): what ran is written there.
PIPELINE = """\
stages:
  prep:
    cmd: mkdir -p prepped && cp raw/* prepped/ && echo prep >> log.txt
    deps:
    - raw
    outs:
    - prepped
  train:
    cmd: cat prepped/* > model.txt && echo "lr ${lr}" >> model.txt && echo '{"acc":0.5}' > m.json
      && echo train >> log.txt
    deps:
    - prepped
    params:
    - lr
    outs:
    - model.txt
    metrics:
    - m.json:
        cache: false
"""
FILES = {"raw/a.txt": "a\n", "params.yaml": "lr: 0.1\n", "dvc.yaml": PIPELINE}
CACHED = "is cached - skipping run, checking out outputs"


def new_repo(root: Path, git, bale, files: dict[str, str] = FILES) -> Path:
    root.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, files)
    (root / ".gitignore").write_text("/log.txt\n")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "pipeline", cwd=root)
    return root


def ran(proc) -> list[str]:
    """The stages a repro ran (bale's output and dvc's alike)."""
    return [line.split("'")[1] for line in proc.stdout.splitlines()
            if line.startswith("Running stage")]  # fmt: skip


def restored(proc) -> list[str]:
    """The stages a repro checked out of the run cache."""
    return [line.split("'")[1] for line in proc.stdout.splitlines() if CACHED in line]


def log(root: Path) -> list[str]:
    path = root / "log.txt"
    return path.read_text().split() if path.exists() else []


def runs(root: Path) -> dict[str, bytes]:
    """`XX/key/value` -> bytes of every run the cache (or a remote) at `root` holds."""
    base = root / "runs"
    if not base.is_dir():
        return {}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def entry_file(root: Path, body: dict) -> Path:
    key, value = entry_key(body), entry_value(body)
    return root / "runs" / key[:2] / key / value


@pytest.fixture
def twins(tmp_path: Path, bale, git) -> tuple[Path, Path]:
    return (new_repo(tmp_path / "ours", git, bale), new_repo(tmp_path / "theirs", git, bale))


def test_a_run_comes_back_from_the_run_cache_without_running(twins, bale, dvc):
    ours, theirs = twins
    assert ran(bale("repro", cwd=ours)) == ["prep", "train"]
    first_lock = (ours / "dvc.lock").read_bytes()
    (ours / "raw" / "a.txt").write_text("b\n")
    assert ran(bale("repro", cwd=ours)) == ["prep", "train"]
    (ours / "raw" / "a.txt").write_text("a\n")
    (ours / "m.json").unlink()
    proc = bale("repro", cwd=ours)
    assert ran(proc) == [] and restored(proc) == ["prep", "train"]
    assert proc.stdout.splitlines()[0] == f"Stage 'prep' {CACHED}"
    assert log(ours) == ["prep", "train"] * 2  # the commands did not run a third time
    assert (ours / "dvc.lock").read_bytes() == first_lock
    assert (ours / "model.txt").read_text() == "a\nlr 0.1\n"
    assert json.loads((ours / "m.json").read_text()) == {"acc": 0.5}  # uncached, restored too
    assert "up to date" in dvc("status", cwd=ours).stdout
    assert bale("status", cwd=ours).stdout.strip() == "Data and pipelines are up to date."
    # The same runs, named and written as dvc names and writes them.
    dvc("repro", "-q", cwd=theirs)
    (theirs / "raw" / "a.txt").write_text("b\n")
    dvc("repro", "-q", cwd=theirs)
    assert runs(ours / ".dvc" / "cache") == runs(theirs / ".dvc" / "cache")
    assert len(runs(ours / ".dvc" / "cache")) == 4


def test_dvc_restores_bale_runs_and_bale_restores_dvc_runs(tmp_path: Path, bale, dvc, git):
    root = new_repo(tmp_path / "repo", git, bale)
    bale("repro", "-q", cwd=root)  # a, by bale
    (root / "raw" / "a.txt").write_text("b\n")
    assert ran(dvc("repro", cwd=root)) == ["prep", "train"]  # b, by dvc
    (root / "raw" / "a.txt").write_text("a\n")
    proc = dvc("repro", cwd=root)
    assert restored(proc) == ["prep", "train"], proc.stdout
    (root / "raw" / "a.txt").write_text("b\n")
    proc = bale("repro", cwd=root)
    assert ran(proc) == [] and restored(proc) == ["prep", "train"]
    assert log(root) == ["prep", "train"] * 2
    assert (root / "model.txt").read_text() == "b\nlr 0.1\n"
    assert "up to date" in dvc("status", cwd=root).stdout


def test_no_run_cache_and_force_run_the_command(tmp_path: Path, bale, dvc, git):
    root = new_repo(tmp_path / "repo", git, bale)
    bale("repro", "-q", cwd=root)
    (root / "raw" / "a.txt").write_text("b\n")
    bale("repro", "-q", cwd=root)
    (root / "raw" / "a.txt").write_text("a\n")
    assert ran(bale("repro", "--no-run-cache", cwd=root)) == ["prep", "train"]
    assert len(log(root)) == 6
    # Outputs deleted, inputs as dvc.lock records them: checked out even with
    # --no-run-cache, as dvc does (the lock's run, not the run cache's).
    (root / "model.txt").unlink()
    proc = bale("repro", "--no-run-cache", cwd=root)
    assert restored(proc) == ["train"] and len(log(root)) == 6
    (root / "model.txt").unlink()
    assert restored(dvc("repro", "--no-run-cache", cwd=root)) == ["train"]
    assert ran(bale("repro", "-f", cwd=root)) == ["prep", "train"]
    assert len(log(root)) == 8


def test_which_stages_keep_runs_is_what_dvc_keeps(tmp_path: Path, bale, dvc, git):
    """Persistent, uncached and always-changed outputs keep no run; a stage
    with params and no other dependency does; a callback stage does not."""
    files = {
        "in.txt": "x\n",
        "params.yaml": "n: 1\nempty: {}\n",
        "dvc.yaml": """\
stages:
  persist:
    cmd: cat in.txt >> p.txt
    deps: [in.txt]
    outs:
    - p.txt:
        persist: true
  uncached:
    cmd: cat in.txt > u.txt
    deps: [in.txt]
    outs:
    - u.txt:
        cache: false
  always:
    cmd: cat in.txt > a.txt
    deps: [in.txt]
    always_changed: true
    outs: [a.txt]
  params_only:
    cmd: echo ${n} > n.txt
    params: [n]
    outs: [n.txt]
  callback:
    cmd: date > c.txt
    outs: [c.txt]
  plot:
    cmd: cat in.txt > plot.csv && cat in.txt > kept.txt
    deps: [in.txt]
    outs: [kept.txt]
    plots:
    - plot.csv:
        cache: false
""",
    }
    ours = new_repo(tmp_path / "ours", git, bale, files)
    theirs = new_repo(tmp_path / "theirs", git, bale, files)
    bale("repro", "-q", cwd=ours)
    dvc("repro", "-q", cwd=theirs)
    mine = runs(ours / ".dvc" / "cache")
    assert mine == runs(theirs / ".dvc" / "cache")
    cmds = sorted(b.decode().splitlines()[0] for b in mine.values())
    assert cmds == ["cmd: cat in.txt > plot.csv && cat in.txt > kept.txt", "cmd: echo 1 > n.txt"]


def test_push_and_pull_run_cache_reach_a_fresh_clone(tmp_path: Path, bale, dvc, git):
    origin = new_repo(tmp_path / "origin", git, bale)
    remote = tmp_path / "remote"
    bale("remote", "add", "-d", "store", str(remote), cwd=origin)
    bale("repro", "-q", cwd=origin)
    git("add", "-A", cwd=origin)
    git("commit", "-qm", "a", cwd=origin)
    (origin / "raw" / "a.txt").write_text("b\n")
    bale("repro", "-q", cwd=origin)  # run b: kept in the cache, never committed
    (origin / "raw" / "a.txt").write_text("a\n")
    bale("repro", "-q", cwd=origin)
    assert bale("push", "--no-run-cache", cwd=origin).stdout.strip() == "3 files pushed"
    assert not (remote / "runs").exists()
    assert "pushed" in bale("push", "--run-cache", cwd=origin).stdout
    assert runs(remote) == runs(origin / ".dvc" / "cache") and len(runs(remote)) == 4
    assert bale("push", "--run-cache", cwd=origin).stdout.strip() == "Everything is up to date."

    ours = tmp_path / "ours"
    git("clone", "-q", str(origin), str(ours), cwd=tmp_path)
    bale("pull", "--run-cache", cwd=ours)
    assert runs(ours / ".dvc" / "cache") == runs(remote)
    (ours / "raw" / "a.txt").write_text("b\n")
    proc = bale("repro", cwd=ours)
    assert ran(proc) == [] and restored(proc) == ["prep", "train"] and log(ours) == []
    assert (ours / "model.txt").read_text() == "b\nlr 0.1\n"

    # dvc fetches the runs alone; `repro --pull` fetches what the run names.
    theirs = tmp_path / "theirs"
    git("clone", "-q", str(origin), str(theirs), cwd=tmp_path)
    dvc("pull", "--run-cache", cwd=theirs)
    (theirs / "raw" / "a.txt").write_text("b\n")
    proc = dvc("repro", "--pull", cwd=theirs)
    assert restored(proc) == ["prep", "train"] and log(theirs) == []


def test_bale_pulls_the_runs_dvc_pushed(tmp_path: Path, bale, dvc, git):
    origin = new_repo(tmp_path / "origin", git, bale)
    remote = tmp_path / "remote"
    dvc("remote", "add", "-d", "store", str(remote), cwd=origin)
    for content in ("b\n", "a\n"):
        dvc("repro", "-q", cwd=origin)
        git("add", "-A", cwd=origin)
        git("commit", "-qm", content, cwd=origin)
        (origin / "raw" / "a.txt").write_text(content)
    dvc("repro", "-q", cwd=origin)
    git("commit", "-qam", "back to a", cwd=origin)
    dvc("push", "--run-cache", cwd=origin)  # the runs, and the objects HEAD uses

    fresh = tmp_path / "fresh"
    git("clone", "-q", str(origin), str(fresh), cwd=tmp_path)
    bale("fetch", "--run-cache", cwd=fresh)  # run b's objects are not there: no failure
    assert runs(fresh / ".dvc" / "cache") == runs(remote)
    (fresh / "raw" / "a.txt").write_text("b\n")
    assert ran(bale("repro", cwd=fresh)) == ["prep", "train"]  # nothing to check out

    dvc("push", "-A", cwd=origin)  # now every commit's objects, run b's among them
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    bale("pull", "--run-cache", cwd=clone)
    (clone / "raw" / "a.txt").write_text("b\n")
    proc = bale("repro", cwd=clone)
    # train's run also names m.json, which no push sends (cache: false): dvc
    # could not check it out either.
    assert restored(proc) == ["prep"] and ran(proc) == ["train"] and log(clone) == ["train"]


def _train_runs(root: Path) -> list[Path]:
    return [p for p in (root / ".dvc" / "cache" / "runs").rglob("*")
            if p.is_file() and p.read_text().startswith("cmd: cat prepped")]  # fmt: skip


@pytest.mark.parametrize("damage", ["yaml", "edited", "outside", "git"])
def test_a_damaged_run_is_ignored_with_a_warning(tmp_path: Path, bale, git, damage: str):
    """A run that is not YAML, or whose content does not hash to its names
    (here naming paths out of the workspace or into .git), is warned of and
    passed over; nothing is written where it points."""
    import yaml

    root = new_repo(tmp_path / "repo", git, bale)
    bale("repro", "-q", cwd=root)
    (root / "raw" / "a.txt").write_text("b\n")
    bale("repro", "-q", cwd=root)
    (root / "raw" / "a.txt").write_text("a\n")
    recorded = yaml.safe_load((root / "dvc.lock").read_text())["stages"]["train"]["deps"]
    (target,) = [p for p in _train_runs(root) if yaml.safe_load(p.read_text())["deps"] != recorded]
    body = yaml.safe_load(target.read_text())  # train's run for input a
    if damage in ("yaml", "edited"):  # the only run for a, spoiled in place
        target.write_text("cmd: [unclosed\n" if damage == "yaml" else
                          target.read_text().replace("lr: 0.1", "lr: 0.2"))  # fmt: skip
        bad = target
    else:  # a newer run beside it, named as its content hashes
        path = "../x" if damage == "outside" else ".git/hooks/post-checkout"
        body["outs"] = [{**body["outs"][0], "path": path}]
        bad = target.parent / entry_value(body)
        bad.write_text(yaml.safe_dump(body, sort_keys=False))
        os.utime(bad, (target.stat().st_mtime + 10,) * 2)
    guard = Unchanged(root / ".git")
    proc = bale("repro", cwd=root)
    guard.check()
    assert not (tmp_path / "x").exists()
    (warning,) = proc.stderr.splitlines()
    assert warning.startswith("WARNING: ") and bad.name in warning and "ignored" in warning
    assert ("not valid YAML" if damage == "yaml" else "does not match its name") in warning
    if damage in ("yaml", "edited"):
        assert restored(proc) == ["prep"] and ran(proc) == ["train"]
    else:
        assert restored(proc) == ["prep", "train"]  # the good run beside it
    assert bale("status", cwd=root).stdout.strip() == "Data and pipelines are up to date."


def test_runs_from_a_remote_are_checked_before_they_are_kept(tmp_path: Path, bale, git):
    """Someone else's push: a run whose content does not match its name is
    refused with a warning and not written; a consistent one naming a path
    in .git is kept but never matches a stage, so nothing is written there;
    names that are not runs are passed over."""
    import hashlib

    origin = new_repo(tmp_path / "origin", git, bale)
    remote = tmp_path / "remote"
    bale("remote", "add", "-d", "store", str(remote), cwd=origin)
    bale("repro", "-q", cwd=origin)
    git("add", "-A", cwd=origin)
    git("commit", "-qm", "a", cwd=origin)
    bale("push", "--run-cache", cwd=origin)
    hook = b"#!/bin/sh\necho owned\n"
    md5 = hashlib.md5(hook).hexdigest()
    write_tree(remote, {f"files/md5/{md5[:2]}/{md5[2:]}": hook})
    hostile = {
        "cmd": "true",
        "deps": [{"path": "raw", "hash": "md5", "md5": "0" * 32 + ".dir"}],
        "outs": [{"path": ".git/hooks/post-checkout", "hash": "md5", "md5": md5}],
    }
    import yaml

    consistent = entry_file(remote, hostile)
    write_tree(remote, {str(consistent.relative_to(remote)): yaml.safe_dump(hostile)})
    mismatched = consistent.parent / ("f" * 64)
    write_tree(remote, {
        str(mismatched.relative_to(remote)): yaml.safe_dump(hostile),
        "runs/zz/notakey/x": "cmd: x\n",
        f"runs/{'a' * 2}/{'b' * 64}/{'c' * 64}": "cmd: x\n",  # prefix not its key's
    })  # fmt: skip

    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    guard = Unchanged(clone / ".git")
    proc = bale("pull", "--run-cache", cwd=clone)
    (warning,) = proc.stderr.splitlines()
    assert warning.startswith("WARNING: ") and mismatched.name in warning
    assert "does not match its name" in warning and "ignored" in warning
    kept = runs(clone / ".dvc" / "cache")
    assert str(consistent.relative_to(remote / "runs")) in kept
    assert str(mismatched.relative_to(remote / "runs")) not in kept
    assert all(len(name.split("/")) == 3 and name[:2] != "zz" for name in kept)
    (clone / "raw" / "a.txt").write_text("c\n")
    assert ran(bale("repro", cwd=clone)) == ["prep", "train"]
    guard.check()
    assert not (clone / ".git" / "hooks" / "post-checkout").exists()
