"""A registry laid out as a team keeps one, end to end through commands, with
the S3 test server as the store: versioned raw datasets in a `--subdir`
root, synced processed datasets and champion models, an ignored experiments
folder, cards from each folder's template, a model registered and moved to
prod, and a second clone that gets it all back with `pull --all`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.servers import S3Server

SETTINGS = """\
folders:
  raw_datasets:
    card: {required: [license]}
  processed_datasets:
    sync: {prefix: synced/processed}
  champion_models:
    kind: model
    sync: {prefix: synced/champions}
  experiments:
    ignored: true
"""
TEMPLATE = "---\nlicense: cc-by-4.0\n---\n# Card: {{ name }}\n\n{{ files }} images.\n"
DVC_YAML = "artifacts:\n  resnet:\n    path: champion_models/resnet.pt\n    type: model\n"


@pytest.fixture
def team(tmp_path: Path, git, bale, s3_server: S3Server, monkeypatch) -> Path:
    options = s3_server.options()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", options.pop("access_key_id"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", options.pop("secret_access_key"))
    top = tmp_path / "team"
    git("init", "-q", "-b", "main", top, cwd=tmp_path)
    reg = top / "registry"
    reg.mkdir()
    bale("init", "-q", "--subdir", cwd=reg)
    bale("remote", "add", "-d", "s3", f"s3://{s3_server.new_bucket()}/store", cwd=reg)
    for key, value in options.items():
        bale("remote", "modify", "s3", key, value, cwd=reg)
    (reg / "bale.yaml").write_text(SETTINGS)
    (reg / "dvc.yaml").write_text(DVC_YAML)
    (reg / ".gitignore").write_text("/processed_datasets/\n/champion_models/\n/experiments/\n")
    for name in ("01_birds", "02_cats"):
        (reg / "raw_datasets" / name).mkdir(parents=True)
        for i in range(4):
            (reg / "raw_datasets" / name / f"{i}.jpg").write_bytes(b"%s %d" % (name.encode(), i))
    (reg / "raw_datasets" / "template.card.md").write_text(TEMPLATE)
    (reg / "processed_datasets").mkdir()
    (reg / "processed_datasets" / "birds.parquet").write_bytes(b"processed")
    (reg / "champion_models").mkdir()
    (reg / "champion_models" / "resnet.pt").write_bytes(b"champion weights")
    (reg / "experiments" / "run7").mkdir(parents=True)
    (reg / "experiments" / "run7" / "loss.csv").write_text("0.3\n")
    return reg


def test_a_teams_registry_end_to_end(team: Path, bale, git, tmp_path: Path) -> None:
    reg = team
    bale("add", "-q", "raw_datasets/01_birds", "raw_datasets/02_cats", cwd=reg)
    proc = bale("card", "check", cwd=reg, ok=False)
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == [
        "registry/raw_datasets/01_birds", "registry/raw_datasets/02_cats"]  # fmt: skip
    for name in ("01_birds", "02_cats"):
        bale("card", "new", f"raw_datasets/{name}", cwd=reg)
    assert "4 images." in (reg / "raw_datasets" / "01_birds.card.md").read_text()
    bale("card", "check", cwd=reg)
    git("add", "-A", cwd=reg)
    git("commit", "-qm", "raw collections with cards", cwd=reg)
    assert "processed_datasets: 1 file uploaded" in bale("push", "--all", cwd=reg).stdout

    bale("model", "register", "registry:resnet", "--version", "v1.0.0", cwd=reg)
    bale("model", "assign", "registry:resnet", "--version", "v1.0.0", "--stage", "prod", cwd=reg)
    shown = json.loads(bale("model", "show", "registry:resnet", "--json", cwd=reg).stdout)
    assert any("prod" in json.dumps(v) for v in shown), shown

    catalog = {i["path"]: i for i in json.loads(bale("catalog", "--json", cwd=reg).stdout)}
    assert catalog["registry/raw_datasets/01_birds"]["title"] == "Card: 01_birds"
    assert catalog["registry/raw_datasets/01_birds"]["card"]["license"] == "cc-by-4.0"
    model = catalog["registry/champion_models/resnet.pt"]
    assert model["kind"] == "model" and model["stages"] == {"prod": "v1.0.0"}
    assert not [p for p in catalog if "experiments" in p]

    # A teammate's clone gets the versioned data and both synced areas back.
    clone = tmp_path / "clone"
    git("clone", "-q", reg.parent, clone, cwd=tmp_path)
    out = bale("pull", "--all", cwd=clone / "registry").stdout
    assert "champion_models: 1 file downloaded" in out
    assert (clone / "registry" / "champion_models" / "resnet.pt").read_bytes() == (
        b"champion weights"
    )
    assert (clone / "registry" / "raw_datasets" / "02_cats" / "3.jpg").read_bytes() == b"02_cats 3"
    assert not (clone / "registry" / "experiments").exists()
    statuses = bale("sync", "status", cwd=clone / "registry").stdout.splitlines()
    assert statuses == ["processed_datasets: up to date", "champion_models: up to date"]
