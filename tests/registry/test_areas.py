"""Synced areas (`bale sync`, `push --all`, `pull --all`): folders mirrored to
a remote file by file, on a folder remote and on the S3 test server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.servers import S3Server

SETTINGS = """\
folders:
  processed_datasets:
    sync: {prefix: synced/processed}
  champion_models:
    kind: model
    sync: {prefix: synced/champions}
  experiments:
    ignored: true
"""


def _fill(folder: Path, count: int, text: str = "row") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"{i:03}.csv").write_text(f"{text} {i}\n")


@pytest.fixture
def registry(repo: Path, bale, git, tmp_path: Path) -> Path:
    bale("remote", "add", "-d", "store", tmp_path / "store", cwd=repo)
    (repo / "bale.yaml").write_text(SETTINGS)
    (repo / ".gitignore").write_text("/processed_datasets/\n/champion_models/\n/experiments/\n")
    _fill(repo / "processed_datasets", 30)
    _fill(repo / "processed_datasets" / "nested", 2)
    (repo / "champion_models").mkdir()
    (repo / "champion_models" / "best.pt").write_bytes(b"weights")
    _fill(repo / "experiments", 3)
    _fill(repo / "raw", 5)
    bale("add", "-q", "raw", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "registry", cwd=repo)
    return repo


def test_push_moves_only_what_changed(registry: Path, bale, tmp_path: Path) -> None:
    store = tmp_path / "store" / "synced"
    out = bale("sync", "push", cwd=registry).stdout.splitlines()
    assert out == ["processed_datasets: 32 files uploaded", "champion_models: 1 file uploaded"]
    assert (store / "processed" / "nested" / "001.csv").read_text() == "row 1\n"
    assert not (tmp_path / "store" / "synced" / "experiments").exists()
    stamp = (store / "processed" / "000.csv").stat().st_mtime_ns
    assert bale("sync", "push", cwd=registry).stdout.splitlines() == [
        "processed_datasets: up to date", "champion_models: up to date"]  # fmt: skip
    assert (store / "processed" / "000.csv").stat().st_mtime_ns == stamp
    (registry / "processed_datasets" / "003.csv").write_text("changed\n")
    (registry / "processed_datasets" / "004.csv").unlink()
    (registry / "processed_datasets" / "new.csv").write_text("new\n")
    status = bale("sync", "status", "processed_datasets", cwd=registry).stdout.splitlines()
    assert status == ["processed_datasets:", "\tnew:                 new.csv",
                      "\tmodified:            003.csv",
                      "\tonly on the remote:  004.csv"]  # fmt: skip
    as_json = json.loads(bale("sync", "status", "--json", cwd=registry).stdout)
    assert as_json["champion_models"] == {"new": [], "modified": [], "remote only": []}
    assert "2 files uploaded" in bale("sync", "push", cwd=registry).stdout
    assert (store / "processed" / "004.csv").exists()  # nothing deleted without --delete
    assert "1 deleted" in bale("sync", "push", "--delete", cwd=registry).stdout
    assert not (store / "processed" / "004.csv").exists()
    assert (store / "processed" / "003.csv").read_text() == "changed\n"


def test_pull_into_a_clone_keeps_local_changes(registry: Path, bale, git, tmp_path) -> None:
    bale("push", "--all", "-q", cwd=registry)
    clone = tmp_path / "clone"
    git("clone", "-q", registry, clone, cwd=tmp_path)
    out = bale("pull", "--all", cwd=clone).stdout
    assert "processed_datasets: 32 files downloaded" in out
    assert (clone / "raw" / "001.csv").read_text() == "row 1\n"  # the versioned data too
    assert (clone / "processed_datasets" / "nested" / "000.csv").read_text() == "row 0\n"
    # Changed on both sides: the local change is kept, and said so.
    (registry / "processed_datasets" / "000.csv").write_text("theirs\n")
    (registry / "processed_datasets" / "001.csv").write_text("theirs too\n")
    bale("sync", "push", "-q", cwd=registry)
    (clone / "processed_datasets" / "000.csv").write_text("mine\n")
    proc = bale("sync", "pull", cwd=clone, ok=False)
    assert proc.returncode == 1 and "1 file changed here and on the remote were kept" in proc.stdout
    assert (clone / "processed_datasets" / "000.csv").read_text() == "mine\n"
    assert (clone / "processed_datasets" / "001.csv").read_text() == "theirs too\n"
    bale("sync", "pull", "-f", "-q", cwd=clone)
    assert (clone / "processed_datasets" / "000.csv").read_text() == "theirs\n"
    # Changed here alone: nothing to pull, no warning; the change waits for a push.
    (clone / "processed_datasets" / "002.csv").write_text("mine alone\n")
    proc = bale("sync", "pull", "processed_datasets", cwd=clone)
    assert proc.stdout.strip() == "processed_datasets: up to date" and not proc.stderr
    assert (clone / "processed_datasets" / "002.csv").read_text() == "mine alone\n"
    status = bale("sync", "status", "processed_datasets", cwd=clone).stdout
    assert "\tmodified:            002.csv" in status
    (clone / "processed_datasets" / "extra.csv").write_text("only here\n")
    bale("sync", "pull", "-q", cwd=clone)
    assert (clone / "processed_datasets" / "extra.csv").exists()
    bale("sync", "pull", "--delete", "-q", cwd=clone)
    assert not (clone / "processed_datasets" / "extra.csv").exists()


def test_a_file_changed_behind_the_index_is_refused(registry: Path, bale, git, tmp_path) -> None:
    bale("sync", "push", "-q", cwd=registry)
    store = tmp_path / "store" / "synced" / "processed"
    (store / "002.csv").chmod(0o644)
    (store / "002.csv").write_text("tampered\n")
    (registry / "processed_datasets" / "002.csv").unlink()
    proc = bale("sync", "pull", "processed_datasets", cwd=registry, ok=False)
    assert "is corrupt" in proc.stderr and proc.returncode == 1
    assert not (registry / "processed_datasets" / "002.csv").exists()
    assert not [p for p in (registry / "processed_datasets").iterdir() if "tmp" in p.name]


def test_a_hostile_index_writes_nothing_outside(registry: Path, bale, tmp_path: Path) -> None:
    bale("sync", "push", "-q", cwd=registry)
    index = tmp_path / "store" / "synced" / "processed" / ".bale-sync.json"
    doc = json.loads(index.read_text())
    doc["files"]["../../escape.txt"] = ["0" * 32, 1]
    doc["tree"] = None
    index.write_text(json.dumps(doc))
    proc = bale("sync", "pull", cwd=registry, ok=False)
    assert "not a sync index bale can read" in proc.stderr and "unsafe path" in proc.stderr
    assert not (registry / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ("folders:\n  out:\n    sync: {prefix: ../elsewhere}\n", "must be a folder inside"),
        ("folders:\n  out:\n    sync: {prefix: files/md5}\n", "apart from its versioned"),
        ("folders:\n  out:\n    sync: {prefix: 3f}\n", "two-hex"),
        ("folders:\n  out:\n    sync: {prefix: /abs}\n", "must be a folder inside"),
        ("folders:\n  ../up:\n    sync: {prefix: x}\n", "is outside the repository"),
        ("folders:\n  .git/hooks:\n    sync: {prefix: x}\n", "sync another folder"),
        (
            "folders:\n  a:\n    sync: {prefix: x}\n  b:\n    sync: {prefix: x/y}\n",
            "share a prefix",
        ),
        ("folders:\n  a:\n    sync: {remote: 3}\n", "give 'prefix'"),
        ("folders:\n  a:\n    ignored: true\n    sync: {prefix: x}\n", "ignored folder"),
    ],
)
def test_bad_areas_are_one_line_errors(registry: Path, bale, settings: str, words: str) -> None:
    (registry / "bale.yaml").write_text(settings)
    proc = bale("sync", "push", cwd=registry, ok=False)
    assert proc.returncode == 1 and words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_area_and_nothing_pushed(registry: Path, bale) -> None:
    proc = bale("sync", "push", "nothing", cwd=registry, ok=False)
    assert "'nothing' is not a synced area; the areas: champion_models, processed_datasets" in (
        proc.stderr
    )
    proc = bale("sync", "pull", cwd=registry, ok=False)
    assert "has nothing on" in proc.stderr and "run: bale sync push" in proc.stderr


def test_areas_on_s3(registry: Path, bale, s3_server: S3Server, monkeypatch) -> None:
    """The team's layout with the S3 test server as the store: an unchanged
    area costs one read of its index and no upload."""
    bucket = s3_server.new_bucket()
    options = s3_server.options()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", options.pop("access_key_id"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", options.pop("secret_access_key"))
    bale("remote", "add", "-f", "-d", "s3", f"s3://{bucket}/store", cwd=registry)
    for key, value in options.items():
        bale("remote", "modify", "s3", key, value, cwd=registry)
    bale("push", "--all", "-q", cwd=registry)
    keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]}
    assert "store/synced/processed/nested/001.csv" in keys
    assert "store/synced/champions/best.pt" in keys
    with s3_server.recording() as seen:
        out = bale("sync", "push", cwd=registry).stdout
    assert out.splitlines() == ["processed_datasets: up to date", "champion_models: up to date"]
    assert not [r for r in seen if r.method in ("PUT", "POST", "DELETE")]
    assert sum(1 for r in seen if r.key.endswith(".bale-sync.json")) == 2
