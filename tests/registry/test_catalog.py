"""`bale catalog` on a registry with cards, tags and registered models, in
the working tree, at a revision and through a bare clone with no checkout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DVC_YAML = """\
artifacts:
  resnet:
    path: champion_models/resnet.pt
    type: model
"""


@pytest.fixture
def registry(repo: Path, bale, git, tmp_path: Path) -> Path:
    raw = repo / "raw_datasets"
    for name in ("birds", "cats"):
        (raw / name).mkdir(parents=True)
        (raw / name / "0.jpg").write_bytes(name.encode())
    (repo / "champion_models").mkdir()
    (repo / "champion_models" / "resnet.pt").write_bytes(b"v1 weights")
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (raw / "birds.card.md").write_text("---\nlicense: cc-by-4.0\ntags: [wildlife]\n---\n"
                                       "# Card: birds\n")  # fmt: skip
    bale("remote", "add", "-d", "store", tmp_path / "store", cwd=repo)
    bale("add", "-q", "raw_datasets/birds", "raw_datasets/cats", "champion_models/resnet.pt",
         cwd=repo)  # fmt: skip
    bale("push", "-q", "raw_datasets/birds", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    git("tag", "v1.0", cwd=repo)
    git("tag", "-a", "resnet@v1.0.0", "-m", "Registering artifact resnet version v1.0.0",
        cwd=repo)  # fmt: skip
    (repo / "champion_models" / "resnet.pt").write_bytes(b"v2 weights")
    bale("add", "-q", "champion_models/resnet.pt", cwd=repo)
    git("commit", "-qam", "v2", cwd=repo)
    git("tag", "v2.0", cwd=repo)
    git("tag", "-a", "resnet@v1.1.0", "-m", "Registering artifact resnet version v1.1.0",
        cwd=repo)  # fmt: skip
    git("tag", "-a", "resnet#prod#1", "-m", "Assigning stage prod", cwd=repo)
    return repo


def _json(bale, *args: str, cwd: Path) -> list[dict]:
    return json.loads(bale("catalog", "--json", *args, cwd=cwd).stdout)


def test_every_entry_with_its_card_tags_and_versions(registry: Path, bale) -> None:
    items = {i["path"]: i for i in _json(bale, cwd=registry)}
    assert sorted(items) == ["champion_models/resnet.pt", "raw_datasets/birds",
                             "raw_datasets/cats"]  # fmt: skip
    birds = items["raw_datasets/birds"]
    assert (birds["kind"], birds["files"], birds["size"]) == ("dataset", 1, 5)
    assert birds["title"] == "Card: birds" and birds["card"]["tags"] == ["wildlife"]
    assert birds["tags"] == ["v1.0", "v2.0"]  # unchanged since v1.0
    model = items["champion_models/resnet.pt"]
    assert model["kind"] == "model" and model["artifact"] == "resnet"
    assert model["versions"] == ["v1.0.0", "v1.1.0"] and model["stages"] == {"prod": "v1.1.0"}
    assert model["tags"] == ["v2.0"]  # this version only; registry tags are versions
    text = bale("catalog", cwd=registry).stdout.splitlines()
    assert text[0].split() == ["Path", "Kind", "Size", "Files", "Title", "Tags", "/", "versions"]
    assert text[2].split()[:5] == ["raw_datasets/birds", "dataset", "5", "1", "Card:"]


def test_kind_query_revision_and_remote(registry: Path, bale) -> None:
    assert [i["path"] for i in _json(bale, "--kind", "model", cwd=registry)] == [
        "champion_models/resnet.pt"
    ]
    assert [i["path"] for i in _json(bale, "wildlife", cwd=registry)] == ["raw_datasets/birds"]
    assert [i["path"] for i in _json(bale, "CATS", cwd=registry)] == ["raw_datasets/cats"]
    old = {i["path"]: i for i in _json(bale, "--rev", "v1.0", cwd=registry)}
    assert old["champion_models/resnet.pt"]["tags"] == ["v1.0"]
    remote = {i["path"]: i["on_remote"] for i in _json(bale, "--check-remote", cwd=registry)}
    assert remote == {"raw_datasets/birds": True, "raw_datasets/cats": False,
                      "champion_models/resnet.pt": False}  # fmt: skip


def test_a_registry_url_without_a_checkout(registry: Path, bale, git, tmp_path: Path) -> None:
    bare = tmp_path / "registry.git"
    git("clone", "-q", "--bare", registry, bare, cwd=tmp_path)
    items = {i["path"]: i for i in _json(bale, "--repo", str(bare), cwd=tmp_path)}
    assert items["champion_models/resnet.pt"]["stages"] == {"prod": "v1.1.0"}
    assert items["raw_datasets/birds"]["title"] == "Card: birds"
    assert not list(tmp_path.glob("*.dvc"))


def test_bad_input(registry: Path, bale, tmp_path: Path) -> None:
    for args, words in [(("--rev", "nope"), "no revision 'nope'"),
                        (("--repo", str(tmp_path / "none")), "does not exist"),
                        (("--kind", "table"), "invalid choice")]:  # fmt: skip
        proc = bale("catalog", *args, cwd=registry, ok=False)
        assert words in proc.stderr and proc.stderr.startswith("ERROR:")
        assert len(proc.stderr.strip().splitlines()) == 1


def test_an_ignored_folder_holds_no_entries(registry: Path, bale) -> None:
    (registry / "experiments" / "run1").mkdir(parents=True)
    (registry / "experiments" / "run1" / "loss.csv").write_text("1\n")
    bale("add", "-q", "experiments/run1", cwd=registry)
    (registry / "experiments" / "run1.card.md").write_text("# scratch\n")
    assert "experiments/run1" in [i["path"] for i in _json(bale, cwd=registry)]
    (registry / "bale.yaml").write_text("folders:\n  experiments:\n    ignored: true\n")
    assert "experiments/run1" not in [i["path"] for i in _json(bale, cwd=registry)]
    assert "experiments" not in bale("card", "check", cwd=registry, ok=None).stdout
