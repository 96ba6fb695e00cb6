"""Pipelines end to end: `bale repro` and `bale status` on dvc.yaml files,
beside the real dvc on twin repositories (same pipeline, same data)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, write_tree

pytestmark = pytest.mark.dvc

PIPELINE = """\
stages:
  prep:
    cmd: mkdir -p prepped && cp raw/* prepped/
    deps:
    - raw
    outs:
    - prepped
  train:
    cmd: cat prepped/* > model.txt && echo "lr ${lr}" >> model.txt && echo '{"acc":0.5}' > m.json
    deps:
    - prepped
    params:
    - lr
    - train.epochs
    outs:
    - model.txt
    metrics:
    - m.json:
        cache: false
  report:
    cmd: wc -c model.txt > report.txt
    deps:
    - model.txt
    outs:
    - report.txt
"""
FILES = {
    "raw/a.txt": "a\n",
    "raw/b.txt": "b\n",
    "params.yaml": "lr: 0.1\ntrain:\n  epochs: 5\n  batch: 8\n",
    "dvc.yaml": PIPELINE,
}


def new_repo(root: Path, git, bale, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, files)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "pipeline", cwd=root)
    return root


@pytest.fixture
def twins(tmp_path: Path, bale, git) -> tuple[Path, Path]:
    """The same pipeline and data twice: bale works in the first, dvc in the second."""
    return (new_repo(tmp_path / "ours", git, bale, FILES),
            new_repo(tmp_path / "theirs", git, bale, FILES))  # fmt: skip


def ran(proc) -> list[str]:
    """The stages a repro ran, from its output (bale's and dvc's alike)."""
    return [line.split("'")[1] for line in proc.stdout.splitlines()
            if line.startswith("Running stage")]  # fmt: skip


def test_bale_and_dvc_write_the_same_lock_and_each_finds_the_others_run_up_to_date(
    twins: tuple[Path, Path], bale, dvc
):
    ours, theirs = twins
    assert ran(bale("repro", cwd=ours)) == ["prep", "train", "report"]
    assert ran(dvc("repro", cwd=theirs)) == ["prep", "train", "report"]
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert (ours / ".gitignore").read_text() == (theirs / ".gitignore").read_text()
    assert "up to date" in dvc("status", cwd=ours).stdout
    assert ran(dvc("repro", cwd=ours)) == []
    assert bale("status", cwd=theirs).stdout.strip() == "Data and pipelines are up to date."
    assert ran(bale("repro", cwd=theirs)) == []
    assert bale("repro", cwd=theirs).stdout.strip().splitlines()[-1] == (
        "Data and pipelines are up to date."
    )


def test_status_tells_what_changed_as_dvc_does(twins: tuple[Path, Path], bale, dvc):
    ours, theirs = twins
    for root in twins:
        bale("repro", "-q", cwd=root)
        (root / "raw" / "a.txt").write_text("A\n")
        (root / "params.yaml").write_text("lr: 0.2\ntrain:\n  epochs: 5\n  batch: 8\n")
        (root / "report.txt").unlink()
        text = (root / "dvc.yaml").read_text()
        (root / "dvc.yaml").write_text(text.replace("wc -c model.txt", "wc -c  model.txt"))
    mine = json.loads(bale("status", "--json", cwd=ours).stdout)
    assert mine == json.loads(dvc("status", "--json", cwd=theirs).stdout)
    assert mine == {
        "prep": [{"changed deps": {"raw": "modified"}}],
        # its command uses ${lr}: the command changed with it
        "train": [{"changed deps": {"params.yaml": {"lr": "modified"}}}, "changed command"],
        "report": [{"changed outs": {"report.txt": "deleted"}}, "changed command"],
    }
    assert bale("status", cwd=ours).stdout == dvc("status", cwd=theirs).stdout


def test_repro_reruns_only_what_a_change_reaches(twins: tuple[Path, Path], bale):
    root, _ = twins
    bale("repro", "-q", cwd=root)
    (root / "params.yaml").write_text("lr: 0.3\ntrain:\n  epochs: 5\n  batch: 8\n")
    assert ran(bale("repro", cwd=root)) == ["train", "report"]
    assert "lr 0.3" in (root / "model.txt").read_text()
    (root / "params.yaml").write_text("lr: 0.3\ntrain:\n  epochs: 5\n  batch: 9\n")
    assert ran(bale("repro", cwd=root)) == []  # a key no stage reads
    (root / "raw" / "a.txt").touch()
    assert ran(bale("repro", cwd=root)) == []  # touched, same bytes
    (root / "raw" / "c.txt").write_text("c\n")
    assert ran(bale("repro", "--dry", cwd=root)) == ["prep", "train", "report"]
    assert "c" not in (root / "model.txt").read_text().split()  # --dry ran nothing
    assert ran(bale("repro", "train", cwd=root)) == ["prep", "train"]
    assert ran(bale("repro", cwd=root)) == ["report"]
    assert ran(bale("repro", "-f", "-s", "train", cwd=root)) == ["train"]
    assert ran(bale("repro", "--downstream", "-f", "train", cwd=root)) == ["train", "report"]


def test_a_failed_stage_keeps_what_the_stages_before_it_recorded(
    twins: tuple[Path, Path], bale, git
):
    """DVC issue 11091: a later failure must not lose an earlier stage's record."""
    root, _ = twins
    bale("repro", "-q", cwd=root)
    lock_before = (root / "dvc.lock").read_text()
    text = (root / "dvc.yaml").read_text()
    (root / "dvc.yaml").write_text(text.replace("cat prepped/* > model.txt", "exit 3"))
    (root / "raw" / "c.txt").write_text("c\n")
    proc = bale("repro", cwd=root, ok=False)
    last_error(proc, "stage 'train'", "'exit 3", "exited with status 3", "dvc.lock")
    assert ran(proc) == ["prep", "train"]
    lock = (root / "dvc.lock").read_text()
    import yaml

    before, after = (yaml.safe_load(t)["stages"] for t in (lock_before, lock))
    assert after["train"] == before["train"] and after["prep"] != before["prep"]
    assert "/prepped" in (root / ".gitignore").read_text()
    assert "prep" not in json.loads(bale("status", "--json", cwd=root).stdout)


def last_error(proc, *needles: str) -> None:
    """The command's own output comes first; bale's one-line error last."""
    assert "Traceback" not in proc.stderr and proc.returncode == 1, proc.stderr
    line = proc.stderr.splitlines()[-1]
    assert line.startswith("ERROR: ") and all(n in line for n in needles), line


KEEP_GOING = """\
stages:
  a:
    cmd: "false"
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: echo c > c.txt
    outs: [c.txt]
  d:
    cmd: cat c.txt > d.txt
    deps: [c.txt]
    outs: [d.txt]
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_keep_going_runs_what_does_not_need_the_failed_stage(repo: Path, bale, dvc, jobs: str):
    """`-k`, as dvc's: 'b' needs the failed 'a' and does not run; 'c' and 'd'
    run and are recorded, in the dvc.lock dvc writes; then exit 1, naming 'a'."""
    write_tree(repo, {"dvc.yaml": KEEP_GOING})
    twin = repo.parent / "twin"
    shutil.copytree(repo, twin)
    proc = bale("repro", "-k", "-j", jobs, cwd=repo, ok=False)
    last_error(proc, "1 stage(s) failed ('a')", "1 that need them did not run")
    assert "ERROR: stage 'a': 'false' exited with status 1" in proc.stderr
    assert "Stage 'b' needs 'a', which did not run; skipping" in proc.stdout
    assert sorted(ran(proc)) == ["a", "c", "d"]
    dvc("repro", "-k", cwd=twin, ok=False)
    assert (repo / "dvc.lock").read_text() == (twin / "dvc.lock").read_text()
    assert not (repo / "b.txt").exists() and (repo / "d.txt").read_text() == "c\n"
    # Without -k the first failure stops the run, as before.
    (repo / "dvc.lock").unlink()
    proc = bale("repro", cwd=repo, ok=False)
    last_error(proc, "stage 'a'", "exited with status 1")
    assert ran(proc) == ["a"]


def test_ignore_errors_says_each_failure_and_runs_every_other_stage(repo: Path, bale, dvc):
    """`--ignore-errors`, as dvc's: 'b' is tried too (and fails: 'a' made no
    a.txt), 'c' and 'd' run; exit 0, the dvc.lock dvc writes."""
    write_tree(repo, {"dvc.yaml": KEEP_GOING})
    twin = repo.parent / "twin"
    shutil.copytree(repo, twin)
    proc = bale("repro", "--ignore-errors", cwd=repo)
    warnings = [line for line in proc.stderr.splitlines() if line.endswith("(ignored)")]
    assert [w.split("'")[1] for w in warnings] == ["a", "b"], proc.stderr
    assert ran(proc) == ["a", "c", "d"]  # 'b' failed before its command: a missing input
    dvc("repro", "--ignore-errors", cwd=twin)
    assert (repo / "dvc.lock").read_text() == (twin / "dvc.lock").read_text()
    usage = bale("repro", "-k", "--ignore-errors", cwd=repo, ok=False)
    assert usage.returncode == 2 and "not allowed with" in usage.stderr


CHAIN = """\
stages:
  a:
    cmd: head -c 1 in.txt > a.txt
    deps: [in.txt]
    outs: [a.txt]
  b:
    cmd: cat a.txt a.txt > b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cat b.txt > c.txt
    deps: [b.txt]
    outs: [c.txt]
  d:
    cmd: cat d.in > d.txt
    deps: [d.in]
    outs: [d.txt]
"""


def test_pipeline_selection_force_downstream_and_allow_missing_run_what_dvc_runs(
    repo: Path, bale, dvc
):
    """a -> b -> c, and d apart. `-p b`: b's whole pipeline; `-P b`: every
    stage; `--force-downstream`: a reruns to the same a.txt, and b and c run
    anyway; `--allow-missing`: deleted outputs are not remade."""
    write_tree(repo, {"dvc.yaml": CHAIN, "in.txt": "x\nline 2\n", "d.in": "d\n"})
    twin = repo.parent / "twin"
    shutil.copytree(repo, twin)
    steps = [
        ("repro -p b", None, ["a", "b", "c"]),
        ("repro -P b", None, ["d"]),
        ("repro --force-downstream", "in.txt", ["a", "b", "c"]),
        ("repro", "in.txt", ["a"]),  # without it, b and c see the same a.txt
        ("repro --allow-missing", "rm", []),
    ]
    for command, change, expected in steps:
        for root, tool in ((repo, bale), (twin, dvc)):
            if change == "in.txt":
                (root / "in.txt").write_text(f"x\nchanged by {command}\n")
            elif change == "rm":
                (root / "a.txt").unlink()
                (root / "b.txt").unlink()
            assert ran(tool(*command.split(), cwd=root)) == expected, (command, tool)
    assert not (repo / "a.txt").exists()  # --allow-missing made nothing
    assert (repo / "dvc.lock").read_text() == (twin / "dvc.lock").read_text()


def test_a_command_that_is_not_found_is_named(repo: Path, bale):
    write_tree(repo, {"dvc.yaml": "stages:\n  s:\n    cmd: no-such-tool-xyz\n    outs:\n    - o\n"})
    last_error(bale("repro", cwd=repo, ok=False), "stage 's'", "no-such-tool-xyz",
               "command not found")  # fmt: skip
    assert not (repo / "dvc.lock").exists()


def test_callback_always_changed_and_persistent_stages(repo: Path, bale, dvc):
    write_tree(repo, {"dvc.yaml": """\
stages:
  stamp:
    cmd: echo x >> stamp.txt
    outs:
    - stamp.txt:
        persist: true
  always:
    cmd: echo y > always.txt
    deps:
    - stamp.txt
    always_changed: true
    outs:
    - always.txt
"""})  # fmt: skip
    bale("repro", "-q", cwd=repo)
    assert ran(bale("repro", cwd=repo)) == ["stamp", "always"]  # no deps: runs every time
    assert (repo / "stamp.txt").read_text() == "x\nx\n"  # persist: kept, appended to
    assert json.loads(bale("status", "--json", cwd=repo).stdout) == json.loads(
        dvc("status", "--json", cwd=repo).stdout
    ) == {"always": ["always changed"]}  # fmt: skip


def test_a_subfolder_pipeline_writes_outside_its_folder(repo: Path, bale, dvc):
    """index -> embeddings -> clusters, in scripts/dvc.yaml, writing ../ paths."""
    write_tree(repo, {
        "docs/a.txt": "alpha\n", "docs/b.txt": "beta\n",
        "scripts/dvc.yaml": """\
stages:
  index:
    cmd: ls ../docs > ../index.txt
    deps:
    - ../docs
    outs:
    - ../index.txt
  embeddings:
    cmd: wc -l ../index.txt > ../vectors.txt
    deps:
    - ../index.txt
    outs:
    - ../vectors.txt
  clusters:
    cmd: cat ../vectors.txt > ../clusters.txt
    deps:
    - ../vectors.txt
    outs:
    - ../clusters.txt
  seed:
    cmd: echo 42 > ../seed.txt
    outs:
    - ../seed.txt
""",
    })  # fmt: skip
    assert ran(bale("repro", cwd=repo)) == [
        "scripts/dvc.yaml:index", "scripts/dvc.yaml:embeddings",
        "scripts/dvc.yaml:clusters", "scripts/dvc.yaml:seed",
    ]  # fmt: skip
    assert (repo / "clusters.txt").read_text().split()[0] == "2"
    assert "up to date" in dvc("status", cwd=repo).stdout
    assert ran(bale("repro", "scripts/dvc.yaml:embeddings", cwd=repo)) == []
    (repo / "docs" / "c.txt").write_text("gamma\n")
    assert ran(bale("repro", "-q", cwd=repo)) == []  # -q prints nothing
    assert (repo / "clusters.txt").read_text().split()[0] == "3"
    assert bale("dag", "--dot", cwd=repo).stdout == dvc("dag", "--dot", cwd=repo).stdout
    assert bale("dag", "--mermaid", cwd=repo).stdout == dvc("dag", "--mermaid", cwd=repo).stdout


@pytest.mark.parametrize(
    ("pipeline", "problem"),
    [
        (
            "stages:\n  s:\n    cmd: cat nope\n    deps:\n    - nope\n    outs:\n    - o\n",
            "dependency 'nope' does not exist",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n"
            "  b:\n    cmd: x\n    deps: [a.txt]\n    outs: [b.txt]\n",
            "cycle",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    outs: [out]\n  b:\n    cmd: x\n    outs: [out/in]\n",
            "inside 'out'",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: x\n    outs: [o]\n",
            "'o' is an output of both",
        ),
        ("stages:\n  a:\n    cmd: x\n    wdir: ../..\n    outs: [o]\n", "leaves the repository"),
        ("stages:\n  a:\n    cmd: x\n    outs: [../o]\n", "outside the repository"),
        ("stages:\n  a:\n    cmd: x\n    outs: [.git/hooks/post-checkout]\n", ".git"),
        ("stages:\n  a:\n    cmd: x\n    params: [nokey]\n    outs: [o]\n", "nokey"),
        ("stages:\n  a:\n    cmd: [x\n", "dvc.yaml"),
        (
            "vars:\n- ../outside/secret.yaml\nstages:\n  a:\n    cmd: echo ${k}\n    outs: [o]\n",
            "outside the repository",
        ),
        ("stages:\n  a:\n    cmd: echo ${nope}\n    outs: [o]\n", "nope"),
    ],
    ids=[
        "unknown-dep",
        "cycle",
        "out-inside-out",
        "two-writers",
        "wdir-out",
        "out-out",
        "into-git",
        "params-key",
        "bad-yaml",
        "vars-outside",
        "missing-var",
    ],
)
def test_bad_pipelines_are_one_line_and_run_nothing(
    repo: Path, tmp_path: Path, bale, pipeline: str, problem: str
):
    write_tree(repo, {"dvc.yaml": pipeline, "params.yaml": "lr: 1\n", "x": ""})
    guard = Unchanged(tmp_path)
    assert_error(bale("repro", cwd=repo, ok=False), problem)
    guard.check()


def test_a_dvc_lock_written_by_dvc_for_a_folder_dep_is_kept_by_bale_when_nothing_changed(
    twins: tuple[Path, Path], bale, dvc
):
    _, theirs = twins
    dvc("repro", "-q", cwd=theirs)
    lock = (theirs / "dvc.lock").read_bytes()
    shutil.rmtree(theirs / ".dvc" / "tmp", ignore_errors=True)  # bale hashes afresh
    assert ran(bale("repro", cwd=theirs)) == []
    assert (theirs / "dvc.lock").read_bytes() == lock


def test_a_changed_dvc_file_the_stages_read_is_recorded_first_as_dvc_does(
    twins: tuple[Path, Path], bale, dvc, git
):
    """raw/ tracked by raw.dvc (a data source): a new file there is recorded
    in raw.dvc by repro, then the stages that read it run."""
    ours, theirs = twins
    for root, tool in ((ours, bale), (theirs, dvc)):
        git("rm", "-rq", "--cached", "raw", cwd=root)
        tool("add", "-q", "raw", cwd=root)
        tool("repro", "-q", cwd=root)
        (root / "raw" / "c.txt").write_text("c\n")
    assert ran(bale("repro", cwd=ours)) == ["prep", "train", "report"]
    assert ran(dvc("repro", cwd=theirs)) == ["prep", "train", "report"]
    for name in ("raw.dvc", "dvc.lock"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    for style in ("--dot", "--mermaid", "--md"):
        assert bale("dag", style, cwd=ours).stdout == dvc("dag", style, cwd=theirs).stdout


def test_foreach_matrix_and_vars_lock_as_dvc_locks_them(tmp_path: Path, bale, dvc, git):
    files = {
        "params.yaml": "model:\n  size: 3\nsplits: [train, test]\n",
        "src/in.txt": "x\n",
        "dvc.yaml": """\
vars:
- extra: {suffix: out}
stages:
  split:
    foreach: ${splits}
    do:
      cmd: echo ${item} ${model.size} > ${item}.${extra.suffix}
      deps:
      - src
      params:
      - model.size
      outs:
      - ${item}.${extra.suffix}
  grid:
    matrix:
      lr: [1, 2]
      opt: [a, b]
    cmd: echo ${item.lr}${item.opt} > grid-${key}.txt
    outs:
    - grid-${key}.txt
""",
    }
    ours = new_repo(tmp_path / "ours", git, bale, files)
    theirs = new_repo(tmp_path / "theirs", git, bale, files)
    names = ["split@train", "split@test", "grid@1-a", "grid@1-b", "grid@2-a", "grid@2-b"]
    assert ran(bale("repro", cwd=ours)) == names
    assert ran(dvc("repro", cwd=theirs)) == names
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert (ours / "test.out").read_text() == "test 3\n"
    (ours / "params.yaml").write_text("model:\n  size: 4\nsplits: [train, test]\n")
    assert ran(bale("repro", "split@test", cwd=ours)) == ["split@test"]
    assert json.loads(dvc("status", "--json", cwd=ours).stdout) == json.loads(
        bale("status", "--json", cwd=ours).stdout
    )  # fmt: skip
    # a foreach or matrix name stands for every stage it generates, as in dvc
    assert json.loads(bale("status", "--json", "split", cwd=ours).stdout) == json.loads(
        dvc("status", "--json", "split", cwd=ours).stdout
    )  # fmt: skip
    assert ran(bale("repro", "split", cwd=ours)) == ["split@train"]
    (theirs / "params.yaml").write_text("model:\n  size: 4\nsplits: [train, test]\n")
    assert sorted(ran(dvc("repro", "split", cwd=theirs))) == ["split@test", "split@train"]
    assert ran(bale("repro", "-f", "grid", cwd=ours)) == names[2:]
    assert ran(bale("repro", "-f", "--glob", "grid@1-*", cwd=ours)) == ["grid@1-a", "grid@1-b"]
    assert sorted(ran(dvc("repro", "-f", "--glob", "grid@1-*", cwd=theirs))) == [
        "grid@1-a", "grid@1-b"]  # fmt: skip
    assert_error(bale("repro", "grid@1-*", cwd=ours, ok=False), "no such stage")


def test_flags_of_interpolated_outputs_hold_for_push_and_status(
    repo: Path, tmp_path: Path, bale, dvc
):
    write_tree(repo, {"dvc.yaml": """\
stages:
  make:
    foreach: [a, b]
    do:
      cmd: echo ${item} > ${item}.bin && echo log > ${item}.log
      outs:
      - ${item}.bin
      - ${item}.log:
          cache: false
"""})  # fmt: skip
    bale("repro", "-q", cwd=repo)
    bale("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=repo)
    assert bale("push", cwd=repo).stdout.strip() == "2 files pushed"  # not the .log files
    assert "in sync" in dvc("status", "-c", cwd=repo).stdout
    assert "/a.log" not in (repo / ".gitignore").read_text()


def test_independent_stages_run_at_once_with_jobs(repo: Path, bale, dvc):
    """Two stages that each wait for the other's mark can only finish when
    they run at the same time; what depends on both runs after them."""
    wait_for = (
        "i=0; while [ ! -e {0} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; test -e {0}"
    )
    write_tree(repo, {"dvc.yaml": f"""\
stages:
  left:
    cmd: touch left.mark && {wait_for.format("right.mark")} && echo l > l.txt
    outs: [l.txt]
  right:
    cmd: touch right.mark && {wait_for.format("left.mark")} && echo r > r.txt
    outs: [r.txt]
  both:
    cmd: cat l.txt r.txt > both.txt
    deps: [l.txt, r.txt]
    outs: [both.txt]
"""})  # fmt: skip
    proc = bale("repro", "-j", "2", cwd=repo)
    assert sorted(ran(proc)) == ["both", "left", "right"] and ran(proc)[-1] == "both"
    assert (repo / "both.txt").read_text() == "l\nr\n"
    assert "up to date" in dvc("status", cwd=repo).stdout
    for mark in ("left.mark", "right.mark"):
        (repo / mark).unlink()
    text = (repo / "dvc.yaml").read_text().replace("echo r > r.txt", "exit 4")
    (repo / "dvc.yaml").write_text(text)
    proc = bale("repro", "-j", "2", cwd=repo, ok=False)
    last_error(proc, "stage 'right'", "exited with status 4")
    assert "both" not in ran(proc)
    assert "left" not in json.loads(bale("status", "--json", cwd=repo).stdout)  # recorded


def test_pull_downloads_what_an_unchanged_stage_lacks_instead_of_running_it(
    twins: tuple[Path, Path], tmp_path: Path, bale, git
):
    root, _ = twins
    bale("repro", "-q", cwd=root)
    bale("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=root)
    bale("push", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "ran", cwd=root)
    clone = tmp_path / "clone"
    git("clone", "-q", str(root), str(clone), cwd=tmp_path)
    proc = bale("repro", "--pull", "--no-run-cache", cwd=clone)
    assert ran(proc) == [] and "its outputs were pulled" in proc.stdout
    assert (clone / "model.txt").read_text() == (root / "model.txt").read_text()
    assert bale("status", cwd=clone).stdout.strip() == "Data and pipelines are up to date."


def test_recursive_targets_and_interactive_runs(repo: Path, bale):
    write_tree(repo, {
        "a/dvc.yaml": "stages:\n  one:\n    cmd: echo 1 > one.txt\n    outs: [one.txt]\n",
        "a/b/dvc.yaml": "stages:\n  two:\n    cmd: echo 2 > two.txt\n    outs: [two.txt]\n",
        "c/dvc.yaml": "stages:\n  three:\n    cmd: echo 3 > three.txt\n    outs: [three.txt]\n",
    })  # fmt: skip
    assert sorted(ran(bale("repro", "-R", "a", cwd=repo))) == [
        "a/b/dvc.yaml:two", "a/dvc.yaml:one",
    ]  # fmt: skip
    assert not (repo / "c" / "three.txt").exists()
    (repo / "a" / "one.txt").write_text("kept\n")
    proc = bale("repro", "-i", cwd=repo, input="y\nn\n", ok=False)
    assert_error(proc, "aborted before stage 'a/dvc.yaml:one'")
    assert ran(proc) == ["a/b/dvc.yaml:two"]
    assert (repo / "a" / "one.txt").read_text() == "kept\n"  # left as it was
    assert bale("repro", "-i", cwd=repo, input="y\ny\ny\n").returncode == 0
    assert (repo / "c" / "three.txt").read_text() == "3\n"


def test_a_dvc1_single_stage_file_is_read_as_data_and_not_run(repo: Path, tmp_path: Path, bale):
    """dvc 3 refuses these files; bale reads their outputs and says why it
    does not run them."""
    write_tree(repo, {"in.txt": "hello\n", "out.txt": "hello\n", "train.dvc": """\
md5: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
cmd: cat in.txt > out.txt
deps:
- md5: b1946ac92492d2347c6235b4d2611184
  path: in.txt
outs:
- md5: b1946ac92492d2347c6235b4d2611184
  path: out.txt
  cache: true
"""})  # fmt: skip
    status = json.loads(bale("status", "--json", cwd=repo).stdout)
    assert status == {"train.dvc": [{"changed outs": {"out.txt": "not in cache"}}]}
    bale("commit", "-q", "train.dvc", cwd=repo)
    assert bale("status", cwd=repo).stdout.strip() == "Data and pipelines are up to date."
    guard = Unchanged(tmp_path)
    assert_error(bale("repro", "train.dvc", cwd=repo, ok=False), "single-stage file of DVC 1.x")
    guard.check()


def test_a_dependency_changed_while_the_command_runs_leaves_the_stage_changed(repo: Path, bale):
    write_tree(repo, {"in.txt": "a\n", "dvc.yaml": """\
stages:
  s:
    cmd: cp in.txt out.txt && echo b >> in.txt
    deps: [in.txt]
    outs: [out.txt]
"""})  # fmt: skip
    bale("repro", "-q", cwd=repo)
    status = json.loads(bale("status", "--json", cwd=repo).stdout)
    assert status == {"s": [{"changed deps": {"in.txt": "modified"}}]}


def test_ctrl_c_stops_the_command_and_leaves_the_lock_as_it_was(repo: Path, bale):
    import os
    import signal
    import subprocess
    import time

    from tests.cli.util import bale_argv

    write_tree(repo, {"in.txt": "a\n", "dvc.yaml": """\
stages:
  s:
    cmd: cp in.txt out.txt && touch started && sleep 30
    deps: [in.txt]
    outs: [out.txt]
"""})  # fmt: skip
    proc = subprocess.Popen([*bale_argv(), "repro"], cwd=repo, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 20
    while not (repo / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C reaches the whole group
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("ERROR: stage 's'"), err
    assert not (repo / "dvc.lock").exists()
