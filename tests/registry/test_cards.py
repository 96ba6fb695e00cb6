"""`bale card new` and `bale card check` on a registry laid out as a team's:
templates per folder, required fields in bale.yaml, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

TEMPLATE = """\
---
license:
pretty_name: "{{ name }}"
size_categories: "{{ size }}"
---
# Card: {{ name }}

{{ files }} files from {{ source }}.
"""
SETTINGS = """\
folders:
  raw_datasets:
    card: {required: [license]}
  champion_models:
    kind: model
    card: {required: [license, base_model]}
"""


@pytest.fixture
def registry(repo: Path, bale, git) -> Path:
    for name in ("01_collection", "02_collection"):
        folder = repo / "raw_datasets" / name
        folder.mkdir(parents=True)
        for i in range(3):
            (folder / f"{i}.jpg").write_bytes(b"jpeg %d" % i)
    (repo / "champion_models").mkdir()
    (repo / "champion_models" / "resnet.pt").write_bytes(b"weights")
    (repo / "notes").mkdir()
    (repo / "notes" / "scratch.bin").write_bytes(b"no card needed here")
    bale("add", "-q", "raw_datasets/01_collection", "raw_datasets/02_collection",
         "champion_models/resnet.pt", "notes/scratch.bin", cwd=repo)  # fmt: skip
    (repo / "raw_datasets" / "template.card.md").write_text(TEMPLATE)
    (repo / "bale.yaml").write_text(SETTINGS)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "registry", cwd=repo)
    return repo


def _lines(proc) -> list[str]:
    return proc.stdout.splitlines()


def test_new_fills_the_folder_template(registry: Path, bale) -> None:
    out = bale("card", "new", "raw_datasets/01_collection", cwd=registry).stdout
    assert "Wrote 'raw_datasets/01_collection.card.md'" in out
    card = (registry / "raw_datasets" / "01_collection.card.md").read_text()
    assert card.splitlines()[2:6] == [
        'pretty_name: "01_collection"', 'size_categories: "18 B"', "---",
        "# Card: 01_collection",
    ]  # fmt: skip
    assert "3 files from added with bale add." in card
    bale("card", "new", "raw_datasets/01_collection", cwd=registry, ok=False)
    bale("card", "new", "-f", "raw_datasets/01_collection", cwd=registry)
    # No template in the folder: a default card with the same fields.
    bale("card", "new", "champion_models/resnet.pt", cwd=registry)
    card = (registry / "champion_models" / "resnet.pt.card.md").read_text()
    assert "# Card: resnet.pt" in card and "- size: 7 B" in card and "this model is" in card
    # ... whose front matter holds, empty, the fields bale.yaml requires there.
    assert card.startswith("---\npretty_name: resnet.pt\nlicense:\nbase_model:\n---\n")
    problems = _lines(bale("card", "check", "champion_models", cwd=registry, ok=False))
    assert sorted(p.split("field ")[1].split()[0] for p in problems) == [
        "'base_model'",
        "'license'",
    ]


def test_check_reports_each_problem_on_one_line(registry: Path, bale) -> None:
    proc = bale("card", "check", cwd=registry, ok=False)
    assert proc.returncode == 1
    assert _lines(proc) == [
        "champion_models/resnet.pt: has no card; run: bale card new champion_models/resnet.pt",
        "raw_datasets/01_collection: has no card; run: bale card new raw_datasets/01_collection",
        "raw_datasets/02_collection: has no card; run: bale card new raw_datasets/02_collection",
    ]  # notes/ has no template and no rule: its entry needs no card
    raw = registry / "raw_datasets"
    (raw / "01_collection.card.md").write_text(
        "---\nlicense: cc-by-4.0\n---\n# Card: 01_collection\n"
    )
    (raw / "02_collection.card.md").write_text("---\nlicense: [unclosed\n---\n# Card: 02\n")
    (registry / "champion_models" / "resnet.pt.card.md").write_text(
        "---\nlicense: mit\n---\n# The champion\n"
    )
    (raw / "03_collection.card.md").write_text("# Card: 03_collection\n")
    (raw / "04_collection.card.md").write_text("---\nlicense: x\n# Card: 04_collection\n")
    assert _lines(bale("card", "check", cwd=registry, ok=False)) == [
        "champion_models/resnet.pt.card.md: field 'base_model' is required in champion_models; "
        "fill it in the front matter",
        "champion_models/resnet.pt.card.md: its title (the first '# ' line) must name "
        "'resnet.pt', like: # Card: resnet.pt",
        "raw_datasets/02_collection.card.md: its front matter is not valid YAML (line 3); fix it",
        "raw_datasets/03_collection.card.md: is a card without an entry; remove it, or track "
        "the entry it describes",
        "raw_datasets/04_collection.card.md: is a card without an entry; remove it, or track "
        "the entry it describes",
    ]
    # Only what was asked for: an entry covers its card.
    assert len(_lines(bale("card", "check", "raw_datasets/02_collection", cwd=registry,
                           ok=False))) == 1  # fmt: skip
    assert bale("card", "check", "raw_datasets/01_collection", cwd=registry).returncode == 0


def test_staged_checks_what_is_about_to_be_committed(registry: Path, bale, git) -> None:
    raw = registry / "raw_datasets"
    (raw / "01_collection.card.md").write_text("---\nlicense: mit\n---\n# Card: 01_collection\n")
    git("add", "raw_datasets/01_collection.card.md", cwd=registry)
    assert bale("card", "check", "--staged", cwd=registry).returncode == 0
    (raw / "02_collection.card.md").write_text("# Card: wrong\n")
    git("add", "raw_datasets/02_collection.card.md", cwd=registry)
    lines = _lines(bale("card", "check", "--staged", cwd=registry, ok=False))
    assert [line.split(":")[0] for line in lines] == ["raw_datasets/02_collection.card.md"] * 2


def test_check_reads_a_revision(registry: Path, bale, git) -> None:
    (registry / "bale.yaml").unlink()
    (registry / "raw_datasets" / "template.card.md").unlink()
    assert bale("card", "check", cwd=registry).returncode == 0  # no rules in the working tree
    assert len(_lines(bale("card", "check", "--rev", "HEAD", cwd=registry, ok=False))) == 3


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ("folders:\n  ../outside:\n    card: true\n", "is outside the repository"),
        (
            "folders:\n  raw_datasets:\n    cards: true\n",
            "only 'kind', 'card', 'sync' and 'ignored' may be set",
        ),
        ("folders:\n  raw_datasets:\n    kind: table\n", "not one of dataset, model"),
        ("folders:\n  raw_datasets:\n    card: {required: license}\n", "must be a list"),
        ("folders: [\n", "bale.yaml:2: not valid YAML"),
        ("syncs: {}\n", "holds only 'folders:'"),
    ],
)
def test_bad_settings_are_one_line_errors(registry: Path, bale, settings: str, words: str) -> None:
    (registry / "bale.yaml").write_text(settings)
    proc = bale("card", "check", cwd=registry, ok=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("ERROR: ") and words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_new_refuses_what_is_not_an_entry(registry: Path, bale, tmp_path: Path) -> None:
    for path, words in [("raw_datasets", "not a tracked entry"),
                        ("nothing/here", "not a tracked entry"),
                        (str(tmp_path), "outside the repository")]:  # fmt: skip
        proc = bale("card", "new", path, cwd=registry, ok=False)
        assert words in proc.stderr and proc.returncode == 1
    proc = bale("card", "new", "raw_datasets/01_collection", "--template", "missing.md",
                cwd=registry, ok=False)  # fmt: skip
    assert "template 'missing.md' does not exist" in proc.stderr
    assert not (registry / "raw_datasets" / "01_collection.card.md").exists()
