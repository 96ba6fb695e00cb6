"""`bale stage add`, `run`, `freeze`, `unfreeze` and `stage list`, beside the
real dvc on twin repositories; and what bale keeps of a hand-written
dvc.yaml that dvc would re-indent."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from bale.pipeline.edit import add_stage, params_keys, set_frozen, stage_body
from tests.cli.util import Unchanged, assert_error, write_tree

pytestmark = pytest.mark.dvc


def new_repo(root: Path, git, bale) -> Path:
    root.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {"sub/keep": "", "in.txt": "hi\n"})
    git("add", "-A", cwd=root)
    git("commit", "-qm", "init", cwd=root)
    return root


@pytest.fixture
def twins(tmp_path: Path, bale, git) -> tuple[Path, Path]:
    """Two like repositories: bale works in the first, dvc in the second."""
    return new_repo(tmp_path / "ours", git, bale), new_repo(tmp_path / "theirs", git, bale)


@pytest.fixture
def repo(tmp_path: Path, bale, git) -> Path:
    return new_repo(tmp_path / "repo", git, bale)


def both(twins, bale, dvc, *args: str, cwd: str = ".") -> None:
    ours, theirs = twins
    mine = bale(*args, cwd=ours / cwd)
    dvcs = dvc(*args, cwd=theirs / cwd)
    # dvc's first line ("Added stage 'x' in 'dvc.yaml'", "Modifying stage ...")
    assert mine.stdout.splitlines()[:1] == dvcs.stdout.splitlines()[:1], (mine, dvcs)


def same_files(twins, *names: str) -> None:
    ours, theirs = twins
    for name in names:
        a, b = ours / name, theirs / name
        assert a.exists() == b.exists(), name
        if b.exists():
            assert a.read_bytes() == b.read_bytes(), (name, a.read_text(), b.read_text())


EVERY_FLAG = [
    "-n", "train", "-d", "b.py", "-d", "a.py", "-o", "out2", "-o", "out1", "-O", "nc",
    "-p", "lr,seed", "-p", "other.yaml:x,a", "-m", "m.json", "-M", "mnc.json",
    "--plots", "p.csv", "--plots-no-cache", "pnc.csv", "--outs-persist", "per",
    "--outs-persist-no-cache", "pernc", "--desc", "train it", "--always-changed",
    "python", "train.py", "--lr", "1", "a b",
]  # fmt: skip

# fmt: off
COMBINATIONS = {
    "every flag": EVERY_FLAG,
    "deps and outs": ["-n", "prep", "-d", "raw", "-d", "prep.py", "-o", "clean", "python prep.py"],
    "params": ["-n", "p", "-p", "z.yaml:", "-p", "z.yaml:k", "-p", "a.yaml:", "-p", "y,x",
               "-p", "params.yaml:w", "-p", "other.json:b.c,a", "echo", "p"],
    "whole params.yaml": ["-n", "p", "-p", "params.yaml:", "-p", "c.yaml:", "echo"],
    "wdir": ["-n", "w", "-w", "sub", "-d", "../in.txt", "-o", "y", "cp ../in.txt y"],
    "wdir with a slash": ["-n", "w", "-w", "./sub/", "-O", "y", "echo"],
    "long command folds": ["-n", "long", "python", "train.py", *["--flag", "value"] * 12],
    "quoting": ["-n", "q", "--desc", "a: b # not a comment", "echo 'a: b' # c", "-x"],
    "empty and quoted words": ["-n", "e", "echo", "", "two words", 'say "hi there"'],
    "metrics and plots": ["-n", "m", "-M", "b.json", "-m", "a.json", "--plots", "z.csv",
                          "--plots-no-cache", "y.csv", "python eval.py"],
    "numeric name": ["-n", "1", "echo"],
    "name true": ["-n", "true", "--always-changed", "echo"],
    "unicode": ["-n", "étape", "--desc", "données", "-o", "sortie é", "echo é"],
    "no deps": ["-n", "x", "date"],
    "yaml-looking command": ["-n", "y", "yes"],
}
# fmt: on


@pytest.mark.parametrize("args", COMBINATIONS.values(), ids=COMBINATIONS.keys())
def test_a_new_dvc_yaml_is_what_dvc_writes(twins, bale, dvc, args):
    both(twins, bale, dvc, "stage", "add", *args)
    same_files(twins, "dvc.yaml", ".gitignore", "sub/.gitignore")


def test_a_stage_added_from_a_subfolder_goes_to_its_dvc_yaml(twins, bale, dvc):
    both(twins, bale, dvc, "stage", "add", "-n", "s", "-d", "keep", "-o", "made", "echo",
         cwd="sub")  # fmt: skip
    same_files(twins, "sub/dvc.yaml", "sub/.gitignore", "dvc.yaml")


def test_stages_added_one_after_another_and_replaced_match_dvc(twins, bale, dvc):
    for args in (
        ["-n", "prep", "-d", "in.txt", "-o", "clean", "cp in.txt clean"],
        ["-n", "train", "-d", "clean", "-p", "lr", "-o", "model", "-m", "m.json", "train"],
        ["-n", "report", "-d", "model", "-O", "report.txt", "report"],
        # -f keeps the stage where it is; keys it gains go last, as dvc's merge puts them
        ["-f", "-n", "prep", "-d", "in.txt", "-d", "more.txt", "-O", "clean", "cp * clean"],
        ["-f", "-n", "report", "--always-changed", "-p", "x.yaml:", "report v2"],
    ):
        both(twins, bale, dvc, "stage", "add", *args)
        same_files(twins, "dvc.yaml", ".gitignore")


def test_replacing_keeps_the_old_description_and_output_flags_unless_given(twins, bale, dvc):
    handmade = """\
        stages:
          a:
            desc: the first
            cmd: echo a
            outs:
            - o:
                desc: an output
                remote: elsewhere
                push: false
            meta:
              owner: me
        """
    for root in twins:
        write_tree(root, {"dvc.yaml": textwrap.dedent(handmade)})
    both(twins, bale, dvc, "stage", "add", "-f", "-n", "a", "-O", "o", "-d", "x", "echo b")
    same_files(twins, "dvc.yaml")
    ours, _ = twins
    bale("stage", "add", "-f", "-n", "a", "--desc", "the second", "echo c", cwd=ours)
    stage = yaml.safe_load((ours / "dvc.yaml").read_text())["stages"]["a"]
    # dvc keeps the old desc even when given a new one; bale takes the new one
    assert stage == {"desc": "the second", "cmd": "echo c", "meta": {"owner": "me"}}


def test_freeze_and_unfreeze_write_what_dvc_writes(twins, bale, dvc):
    for args in (
        ["-n", "a", "-d", "x", "--always-changed", "echo a"],
        ["-n", "b", "--desc", "old", "-o", "o1", "echo b"],
        ["-n", "c", "echo c"],
    ):
        both(twins, bale, dvc, "stage", "add", *args)
    both(twins, bale, dvc, "freeze", "a")
    both(twins, bale, dvc, "freeze", "b")
    same_files(twins, "dvc.yaml")
    both(twins, bale, dvc, "freeze", "b")  # already frozen
    both(twins, bale, dvc, "unfreeze", "a")
    same_files(twins, "dvc.yaml")
    both(twins, bale, dvc, "unfreeze", "b")
    both(twins, bale, dvc, "unfreeze", "c")  # never frozen
    same_files(twins, "dvc.yaml")


def test_stage_list_prints_what_dvc_prints(twins, bale, dvc):
    for args in (
        ["-n", "train", "--desc", "\n  first line  \nsecond", "echo"],
        ["-n", "prep", "-d", "a.py", "-p", "lr", "echo"],
        ["-n", "x", "-o", "out9", "-m", "m2.json", "--plots", "p.csv", "echo"],
        ["-n", "reports-only", "-M", "m3.json", "echo"],
        ["-n", "nothing", "echo"],
        ["-n", "longdesc", "--desc", "word " * 30, "echo"],
    ):
        both(twins, bale, dvc, "stage", "add", *args)
    ours, theirs = twins
    for flags in ([], ["--name-only"]):
        assert bale("stage", "list", *flags, cwd=ours).stdout == \
            dvc("stage", "list", *flags, cwd=theirs).stdout  # fmt: skip
    both(twins, bale, dvc, "stage", "add", "-n", "inner", "-d", "keep", "echo", cwd="sub")
    mine = bale("stage", "list", "--all", cwd=ours).stdout.splitlines()
    assert mine == dvc("stage", "list", "--all", cwd=theirs).stdout.splitlines()
    assert mine[-1].startswith("sub/dvc.yaml:inner")


def test_stage_add_run_and_run_record_the_lock_as_dvc_does(twins, bale, dvc):
    ours, theirs = twins
    args = ["-n", "copy", "-d", "in.txt", "-o", "out.txt", "cp in.txt out.txt"]
    proc = bale("stage", "add", "--run", *args, cwd=ours)
    dvc("stage", "add", "--run", *args, cwd=theirs)
    same_files(twins, "dvc.yaml", "dvc.lock", ".gitignore", "out.txt")
    assert "Running stage 'copy':\n> cp in.txt out.txt" in proc.stdout
    assert proc.stdout.rstrip().endswith("git add dvc.yaml dvc.lock .gitignore")
    bale("run", "-n", "again", "-d", "out.txt", "-O", "again.txt", "cp out.txt again.txt", cwd=ours)
    assert (ours / "again.txt").read_text() == "hi\n"
    lock = yaml.safe_load((ours / "dvc.lock").read_text())
    assert list(lock["stages"]) == ["copy", "again"]
    # dvc reads what bale ran as up to date
    assert "Data and pipelines are up to date" in dvc("status", cwd=ours).stdout


# -- hand-written files ---------------------------------------------------------------

HANDMADE = """\
# The pipeline. Each stage has a comment.
stages:

    # clean the raw data
    prep:   # runs first
        cmd: python prep.py
        deps:
          - data/raw
          - prep.py   # the script
        outs:
          - data/clean

    # train on it
    train:
        cmd: python train.py
        deps: [data/clean]
        # outs:
        #   - model
"""


def test_a_hand_written_file_keeps_its_comments_blank_lines_and_indentation(repo, bale):
    write_tree(repo, {"dvc.yaml": HANDMADE})
    bale("stage", "add", "-n", "eval", "-d", "model", "-O", "m.json", "-p", "a", "python eval.py",
         cwd=repo)  # fmt: skip
    text = (repo / "dvc.yaml").read_text()
    assert text == HANDMADE + (
        "\n"
        "    eval:\n"
        "        cmd: python eval.py\n"
        "        deps:\n"
        "          - model\n"
        "        params:\n"
        "          - a\n"
        "        outs:\n"
        "          - m.json:\n"
        "                cache: false\n"
    )
    assert yaml.safe_load(text)["stages"]["eval"] == {
        "cmd": "python eval.py", "deps": ["model"], "params": ["a"],
        "outs": [{"m.json": {"cache": False}}],
    }  # fmt: skip


def test_what_follows_the_stages_is_kept_and_the_stage_goes_before_it(repo, bale):
    handmade = textwrap.dedent("""\
        stages:
          a:
            cmd: echo a
            outs:
              - a.txt

        # metrics of every stage
        metrics:
          - m.json
        """)
    write_tree(repo, {"dvc.yaml": handmade})
    bale("stage", "add", "-n", "b", "-d", "a.txt", "echo b", cwd=repo)
    text = (repo / "dvc.yaml").read_text()
    head, tail = handmade.split("\n\n")
    assert text == head + "\n  b:\n    cmd: echo b\n    deps:\n      - a.txt\n\n" + tail
    assert list(yaml.safe_load(text)["stages"]) == ["a", "b"]


def test_replacing_a_stage_keeps_its_place_and_the_other_stages_bytes(repo, bale):
    write_tree(repo, {"dvc.yaml": HANDMADE})
    bale("stage", "add", "-f", "-n", "prep", "-d", "prep.py", "-d", "data/raw", "-d", "extra",
         "-o", "data/clean", "python prep.py --fast", cwd=repo)  # fmt: skip
    text = (repo / "dvc.yaml").read_text()
    start = HANDMADE.index("    prep:")
    end = HANDMADE.index("\n    # train on it")
    assert text.startswith(HANDMADE[:start]) and text.endswith(HANDMADE[end:])
    middle = text[start : len(text) - len(HANDMADE) + end]
    assert middle == (
        "    prep:   # runs first\n"
        "        cmd: python prep.py --fast\n"
        "        deps:\n"
        "          - data/raw\n"
        "          - extra\n"
        "          - prep.py\n"
        "        outs:\n"
        "          - data/clean\n"
    )
    assert list(yaml.safe_load(text)["stages"]) == ["prep", "train"]


def test_freeze_in_a_hand_written_file_adds_and_removes_one_line(repo, bale):
    write_tree(repo, {"dvc.yaml": HANDMADE})
    bale("freeze", "prep", "train", cwd=repo)
    text = (repo / "dvc.yaml").read_text()
    assert (
        text
        == HANDMADE.replace(
            "          - data/clean\n", "          - data/clean\n        frozen: true\n"
        )
        + "        frozen: true\n"
    )
    bale("unfreeze", "prep", "dvc.yaml:train", cwd=repo)
    assert (repo / "dvc.yaml").read_text() == HANDMADE


# -- the text functions alone -------------------------------------------------------


def test_params_keys_default_file_first_then_files_by_name():
    assert params_keys(["z.yaml:b,a", "lr", "a.yaml:", "seed,lr", ":"]) == [
        "lr", "seed", {"a.yaml": None}, {"z.yaml": ["a", "b"]},
    ]  # fmt: skip
    assert params_keys(["params.yaml:"]) == [{"params.yaml": None}]


def test_odd_layouts_fall_back_to_a_round_trip_that_reads_right():
    body = stage_body("echo", deps=["x"])
    for text in ("stages: {a: {cmd: echo a}}\n", "stages:\n", "vars: [v.yaml]\n",
                 "# just a comment\n", "stages:\r\n  a:\r\n    cmd: a\r\n"):  # fmt: skip
        out = add_stage(text, "n", body, force=False)
        data = yaml.safe_load(out)
        assert data["stages"]["n"] == {"cmd": "echo", "deps": ["x"]}, (text, out)
    assert add_stage("# just a comment\n", "n", body, force=False).startswith("# just a comment\n")
    crlf = add_stage("stages:\r\n  a:\r\n    cmd: a\r\n", "n", body, force=False)
    assert (
        crlf == "stages:\r\n  a:\r\n    cmd: a\r\n  n:\r\n    cmd: echo\r\n    deps:\r\n    - x\r\n"
    )
    frozen = set_frozen("stages: {a: {cmd: echo a}}\n", "a", True)
    assert yaml.safe_load(frozen)["stages"]["a"] == {"cmd": "echo a", "frozen": True}


LAYOUTS = {
    "block scalar last": "stages:\n  a:\n    cmd: |\n      echo a\n      echo b\n\n\n",
    "keep chomping": "stages:\n  a:\n    cmd: |+\n      echo a\n\n",
    "document markers": "---\nstages:\n  a:\n    cmd: x\n...\n",
    "anchors": "stages:\n  a: &base\n    cmd: x\n    deps: [q]\n  b:\n    <<: *base\n    cmd: y\n",
    "no last line break": "stages:\n  a:\n    cmd: x",
    "commented stage last": "stages:\n  a:\n    cmd: x\n  # b:\n  #   cmd: y\n",
    "comment inside, then outside": "stages:\n  a:\n    cmd: x\n    # note\n\n# top\n",
    "three spaces": "stages:\n   a:\n      cmd: x\n      deps:\n         - q\n",
    "spaced dashes": "stages:\n  a:\n    cmd: x\n    deps:\n    -   q\n",
    "plain scalar on two lines": "stages:\n  a:\n    cmd: python x.py\n      --flag\n",
    "quoted": "stages:\n  'a':\n    cmd: \"x\"\n",
    "frozen false": "stages:\n  a:\n    cmd: x\n    frozen: false  # later\n    deps: [y]\n",
    "flow stage": "stages:\n  a: {cmd: x}\n  b:\n    cmd: y\n",
}


@pytest.mark.parametrize("text", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_every_edit_of_an_unusual_layout_reads_back_as_meant(text):
    body = stage_body("echo new", deps=["d"], outs=["o"])
    added = add_stage(text, "n", body, force=False)
    assert yaml.safe_load(added)["stages"]["n"] == body
    frozen = set_frozen(added, "a", True)
    assert yaml.safe_load(frozen)["stages"]["a"]["frozen"] is True
    thawed = yaml.safe_load(set_frozen(frozen, "a", False))
    assert "frozen" not in thawed["stages"]["a"] and thawed["stages"]["n"] == body
    replaced = yaml.safe_load(add_stage(added, "a", stage_body("echo again"), force=True))
    assert next(iter(replaced["stages"])) == "a"
    assert replaced["stages"]["a"] == {"cmd": "echo again"}


# -- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["-n", "a", "echo"], ["stage 'a' already exists in 'dvc.yaml'", "-f"]),
        (["-n", "a/b", "echo"], ["stage name 'a/b'", "'/'"]),
        (["-n", "a.b", "echo"], ["'.'"]),
        (["-n", "a@b", "echo"], ["'@'"]),
        (["-n", "a:b", "echo"], ["':'"]),
        (["-n", "", "echo"], ["is empty"]),
        (["-n", "x", "-o", "../z", "echo"], ["output '../z'", "outside the repository"]),
        (["-n", "x", "-o", "/tmp/abs", "echo"], ["output '/tmp/abs'", "outside"]),
        (["-n", "x", "-d", "../z", "echo"], ["dependency '../z'", "outside the repository"]),
        (["-n", "x", "-o", ".git/z", "echo"], ["output '.git/z'", ".git/"]),
        (["-n", "x", "-o", ".dvc/z", "echo"], ["output '.dvc/z'", ".dvc/"]),
        (["-n", "x", "-o", "dvc.yaml", "echo"], ["output 'dvc.yaml'", "pipeline file"]),
        (["-n", "x", "-o", ".", "echo"], ["repository root"]),
        (["-n", "x", "-d", "dvc.lock", "echo"], ["dependency 'dvc.lock'"]),
        (["-n", "x", "-o", "y", "-O", "./y", "echo"], ["'y' is given twice"]),
        (["-n", "x", "-d", "params.yaml", "-p", "lr", "echo"], ["given twice"]),
        (["-n", "x", "-d", "y", "-o", "y", "echo"], ["'y'", "output and as a dependency"]),
        (["-n", "x", "-o", "a.txt", "echo"], ["'a.txt' is already an output of a"]),
        (["-n", "x", "-o", "a.txt/in", "echo"], ["'a.txt/in' is inside 'a.txt'"]),
        (["-n", "x", "-o", "data", "echo"], ["'data' is already an output of data.dvc"]),
        (["-n", "x", "-d", "z", "-O", "in.txt", "echo"], ["'x' would close a cycle: a -> x -> a"]),
        (["-n", "x", "-o", "in.txt", "echo"], ["'in.txt' is already tracked by git", "git rm"]),
        (["-n", "x", "-w", "nowhere", "echo"], ["working folder 'nowhere' does not exist"]),
        (["-n", "x", "-w", "..", "echo"], ["working folder '..' lies outside"]),
        (["-n", "x", "-w", ".dvc", "echo"], ["working folder '.dvc'"]),
        (["-n", "x"], ["no command given"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(repo, bale, args, needles):
    write_tree(repo, {"data/f": "f\n"})
    bale("add", "-q", "data", cwd=repo)
    bale("stage", "add", "-q", "-n", "a", "-d", "in.txt", "-o", "a.txt", "cp in.txt a.txt",
         cwd=repo)  # fmt: skip
    if any("cycle" in n for n in needles):  # make `a` read what `x` would write
        bale("stage", "add", "-q", "-f", "-n", "a", "-d", "in.txt", "-o", "z", "echo", cwd=repo)
    before = Unchanged(repo)
    assert_error(bale("stage", "add", *args, cwd=repo, ok=False), *needles)
    before.check()


def test_usage_errors_exit_2(repo, bale):
    before = Unchanged(repo)
    assert_error(bale("stage", "add", "echo", cwd=repo, ok=False), "-n/--name", code=2)
    assert_error(bale("stage", cwd=repo, ok=False), "COMMAND", code=2)
    assert_error(bale("freeze", cwd=repo, ok=False), "STAGE", code=2)
    before.check()


def test_freeze_refusals_write_nothing(repo, bale):
    write_tree(repo, {"dvc.yaml": "stages:\n  a:\n    cmd: a\n  fe:\n    foreach: [1, 2]\n"
                                  "    do:\n      cmd: echo ${item}\n"})  # fmt: skip
    before = Unchanged(repo)
    for target, needles in (
        ("nosuch", ["'nosuch' does not exist", "no such stage"]),
        ("fe@1", ["foreach or matrix"]),
        ("fe", ["foreach or matrix"]),
        ("sub/dvc.yaml:a", ["'sub/dvc.yaml' does not exist"]),
        ("data.dvc", [".dvc file"]),
    ):
        # `a` is valid: nothing is written when a later target fails
        assert_error(bale("freeze", "a", target, cwd=repo, ok=False), *needles)
    before.check()


def test_an_output_ignored_by_dvcignore_is_refused(repo, bale):
    write_tree(repo, {".dvcignore": "*.tmp\n"})
    before = Unchanged(repo)
    assert_error(bale("stage", "add", "-n", "x", "-o", "a.tmp", "echo", cwd=repo, ok=False),
                 "output 'a.tmp' is ignored by .dvcignore")  # fmt: skip
    before.check()
