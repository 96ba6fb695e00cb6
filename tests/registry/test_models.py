"""`bale model` end to end on a real git repository, and GTO compatibility
both ways: the real gto reads the tags bale writes and bale reads the tags
gto writes, with the same versions, stages and `show --json` output. Bad
input is one error line and no tag; artifact references (`rf@v1.0.0`,
`rf#prod`) work in `bale get` and `bale import` as paths at their commit."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.util import assert_error, write_tree

DVC_YAML = """\
artifacts:
  rf:
    path: models/rf.pkl
    type: model
    desc: a random forest
"""
NESTED_YAML = """\
artifacts:
  clf:
    path: clf.bin
    type: model
"""

# One Python runs gto's own command line (click's runner) for a list of
# steps: gto takes a second to start, and steps may need to sleep between
# them so that their tags fall in different seconds.
GTO_SCRIPT = r"""
import json, sys, time
from click.testing import CliRunner
from gto.cli import app

runner = CliRunner()
results = []
for step in json.loads(sys.argv[1]):
    if step[0] == "sleep":
        time.sleep(step[1])
        continue
    if step[0] == "valid-name":
        from gto.constants import check_string_is_valid, fullname_re
        results.append(check_string_is_valid(step[1], regex=fullname_re))
        continue
    res = runner.invoke(app, step)
    results.append({"args": step, "code": res.exit_code, "stdout": res.stdout,
                    "stderr": res.stderr})
print(json.dumps(results))
"""


@pytest.fixture(scope="session")
def gto_python(dvc_exe: str) -> str:
    """The Python of dvc's virtualenv, where GTO is installed (dvc depends on it)."""
    python = Path(dvc_exe).parent / "python"
    if not (Path(dvc_exe).parent / "gto").exists():
        pytest.fail(f"gto not found beside {dvc_exe}; run: make dvc-venv (make test does it)")
    return str(python)


@pytest.fixture
def gto(gto_python: str):
    """Run gto steps in `cwd`; each result is {code, stdout, stderr}."""

    def run(cwd: Path, steps: list[list]) -> list:
        proc = subprocess.run([gto_python, "-c", GTO_SCRIPT, json.dumps(steps)], cwd=cwd,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.splitlines()[-1])

    return run


class Clock:
    """Tag dates one second apart, after every commit of the test: GTO
    orders tags of one second by accident, so a comparison with it needs none."""

    def __init__(self) -> None:
        self.now = int(time.time()) + 10

    def __call__(self) -> dict[str, str]:
        self.now += 1
        return {**os.environ, "GIT_COMMITTER_DATE": f"@{self.now} +0000"}


@pytest.fixture
def models(repo: Path, git) -> Path:
    """A repository declaring `rf` (dvc.yaml) and `nested:clf`
    (nested/dvc.yaml), with four commits."""
    write_tree(repo, {"dvc.yaml": DVC_YAML, "nested/dvc.yaml": NESTED_YAML})
    for n in range(1, 5):
        (repo / "train.py").write_text(f"# {n}\n")
        git("add", "-A", cwd=repo)
        git("commit", "-qm", f"commit {n}", cwd=repo)
    return repo


def _tags(git, repo: Path) -> dict[str, tuple[str, str, str]]:
    """tag -> (object type, target commit, message)."""
    out = git("for-each-ref", "refs/tags",
              "--format=%(refname:strip=2)%09%(objecttype)%09%(*objectname)%09%(contents:subject)",
              cwd=repo).stdout  # fmt: skip
    return {n: (k, c, m) for n, k, c, m in (line.split("\t") for line in out.splitlines())}


def _commits(git, repo: Path) -> list[str]:
    """The commits, first to last."""
    return git("rev-list", "--reverse", "HEAD", cwd=repo).stdout.split()


def _bale_history(bale, repo: Path) -> list[str]:
    """A registry's life through `bale model`, each tag a second after the last."""
    clock = Clock()
    outputs = []
    for args in (
        ["register", "rf", "HEAD~3"],  # the first: v0.0.1
        ["register", "rf", "HEAD~1", "--bump-minor"],  # v0.1.0
        ["register", "rf", "HEAD~2", "--version", "v0.0.5"],  # lower than v0.1.0: as GTO, fine
        ["register", "rf"],  # the greatest, bumped: v0.1.1 at HEAD
        ["assign", "rf", "--stage", "prod", "--version", "v0.0.1"],
        ["assign", "rf", "--stage", "prod", "HEAD"],  # prod moves to v0.1.1
        ["unassign", "rf", "--stage", "prod"],  # off v0.1.1: v0.0.1's assignment holds again
        ["assign", "nested:clf", "--stage", "dev"],  # registers HEAD first
        ["deregister", "rf", "--version", "v0.0.5"],
        ["deprecate", "nested:clf"],
    ):
        outputs.append(bale("model", *args, cwd=repo, env=clock()).stdout)
    return outputs


def test_register_assign_unassign_deprecate(models: Path, bale, git) -> None:
    c1, c2, c3, c4 = _commits(git, models)[1:]
    out = _bale_history(bale, models)
    assert out[0] == ("Created git tag 'rf@v0.0.1' that registers version\n"
                      "To push the changes upstream, run:\n    git push origin rf@v0.0.1\n"
                      "(or every tag at once: git push --tags)\n")  # fmt: skip
    assert "Created git tag 'nested=clf@v0.0.1' that registers version\n" in out[7]
    assert "that assigns stage to version 'v0.0.1'" in out[7]
    assert "git push origin nested=clf@v0.0.1 'nested=clf#dev#1'" in out[7]
    assert _tags(git, models) == {
        "rf@v0.0.1": ("tag", c1, "Registering artifact rf version v0.0.1"),
        "rf@v0.1.0": ("tag", c3, "Registering artifact rf version v0.1.0"),
        "rf@v0.0.5": ("tag", c2, "Registering artifact rf version v0.0.5"),
        "rf@v0.1.1": ("tag", c4, "Registering artifact rf version v0.1.1"),
        "rf#prod#1": ("tag", c1, "Assigning stage prod to artifact rf version v0.0.1"),
        "rf#prod#2": ("tag", c4, "Assigning stage prod to artifact rf version v0.1.1"),
        "rf#prod!#3": ("tag", c4, "Unassigning stage 'prod' to artifact 'rf' version 'v0.1.1'"),
        "nested=clf@v0.0.1": ("tag", c4, "Registering artifact nested:clf version v0.0.1"),
        "nested=clf#dev#1": ("tag", c4,
                             "Assigning stage dev to artifact nested:clf version v0.0.1"),
        "rf@v0.0.5!": ("tag", c2, "Deregistering artifact rf version v0.0.5"),
        "nested=clf@deprecated": ("tag", c4, "Deprecating artifact 'nested:clf'"),
    }  # fmt: skip
    listed = json.loads(bale("model", "list", "--json", cwd=models).stdout)
    assert listed == {"rf": {"version": "v0.1.1", "stage": {"dev": None, "prod": "v0.0.1"},
                             "registered": True, "active": True}}  # fmt: skip
    everything = json.loads(bale("model", "list", "--json", "-d", cwd=models).stdout)
    assert everything["nested:clf"] == {
        "version": "v0.0.1", "stage": {"dev": "v0.0.1", "prod": None}, "registered": True,
        "active": False,
    }  # fmt: skip
    shown = json.loads(bale("model", "show", "rf", "--json", cwd=models).stdout)
    assert [(v["version"], v["commit_hexsha"], [s["stage"] for s in v["stages"]])
            for v in shown] == [("v0.1.1", c4, []), ("v0.1.0", c3, []),
                                ("v0.0.1", c1, ["prod"])]  # fmt: skip
    prod = json.loads(bale("model", "show", "rf#prod", "--json", cwd=models).stdout)
    assert [v["version"] for v in prod] == ["v0.0.1"]
    assert bale("model", "list", cwd=models).stdout.split("\n")[:2] == [
        "name  latest  #dev  #prod", "rf    v0.1.1  -     v0.0.1"]  # fmt: skip
    table = bale("model", "show", "rf", cwd=models).stdout.splitlines()
    assert table[0].split() == ["version", "stage", "commit", "created_at", "ref"]
    assert table[3].split()[:3] == ["v0.0.1", "prod", c1[:8]]
    # A later assignment brings a deprecated artifact back, as in GTO.
    later = {**os.environ, "GIT_COMMITTER_DATE": f"@{int(time.time()) + 100} +0000"}
    bale("model", "assign", "nested:clf", "--stage", "prod", "--version", "v0.0.1", cwd=models,
         env=later)  # fmt: skip
    assert "nested:clf" in json.loads(bale("model", "list", "--json", cwd=models).stdout)


def test_gto_reads_what_bale_wrote(models: Path, bale, gto) -> None:
    _bale_history(bale, models)
    names = ["rf", "nested:clf"]
    results = gto(models, [["show", "--json"], ["show", "--json", "-d"],
                           *(["show", n, "--json", "-d"] for n in names),
                           ["history", "--json"]])  # fmt: skip
    assert all(r["code"] == 0 for r in results), results
    theirs = [json.loads(r["stdout"]) for r in results]
    ours = [json.loads(bale("model", *args, cwd=models).stdout) for args in (
        ["list", "--json"], ["list", "--json", "-d"],
        *(["show", n, "--json", "-d"] for n in names))]  # fmt: skip
    assert ours == theirs[:-1]
    assert theirs[0]["rf"]["stage"] == {"dev": None, "prod": "v0.0.1"}
    # gto's journal has one event per tag bale wrote, of the kind bale meant.
    history = {(e["ref"], e["event"], e["version"], e["stage"]) for e in theirs[-1]}
    assert history == {
        ("rf@v0.0.1", "registration", "v0.0.1", None),
        ("rf@v0.1.0", "registration", "v0.1.0", None),
        ("rf@v0.0.5", "registration", "v0.0.5", None),
        ("rf@v0.1.1", "registration", "v0.1.1", None),
        ("rf#prod#1", "assignment", "v0.0.1", "prod"),
        ("rf#prod#2", "assignment", "v0.1.1", "prod"),
        ("rf#prod!#3", "unassignment", "v0.1.1", "prod"),
        ("nested=clf@v0.0.1", "registration", "v0.0.1", None),
        ("nested=clf#dev#1", "assignment", "v0.0.1", "dev"),
        ("rf@v0.0.5!", "deregistration", "v0.0.5", None),
        ("nested=clf@deprecated", "deprecation", None, None),
    }


def test_quick_writes_fall_in_different_seconds(models: Path, bale, git, gto) -> None:
    # No dates given: bale waits for the next second rather than write a tag
    # in the second of the artifact's last one, which GTO would order by accident.
    for args in (["register", "rf"], ["deregister", "rf", "--version", "v0.0.1"],
                 ["register", "rf"], ["deprecate", "rf"]):  # fmt: skip
        bale("model", "-q", *args, cwd=models)
    out = git("for-each-ref", "refs/tags", "--format=%(taggerdate:unix)", cwd=models).stdout
    assert len(set(out.split())) == 4
    assert "rf@v0.0.1#1" in _tags(git, models)  # registered again: the counter form
    results = gto(models, [["show", "rf", "--json", "-d"], ["show", "--json", "-d"]])
    assert [json.loads(r["stdout"]) for r in results] == [
        json.loads(bale("model", *args, cwd=models).stdout)
        for args in (["show", "rf", "--json", "-d"], ["list", "--json", "-d"])
    ]
    assert json.loads(results[1]["stdout"])["rf"]["active"] is False


def test_bale_reads_what_gto_wrote(models: Path, bale, git, gto) -> None:
    c1, c2, c3, c4 = _commits(git, models)[1:]
    steps = [
        ["register", "rf", "HEAD~3"],
        ["register", "rf", "HEAD~2", "--bump-minor"],
        ["assign", "rf", "--version", "v0.0.1", "--stage", "prod"],
        ["sleep", 1.05],
        ["assign", "rf", "HEAD~1", "--stage", "prod"],  # registers v0.1.1 first
        ["register", "nested:clf", "HEAD"],
        ["sleep", 1.05],
        ["deprecate", "rf", "v0.1.1", "prod"],  # unassigns: prod falls back to v0.0.1
        ["deprecate", "rf", "v0.1.0"],  # deregisters
        ["assign", "rf", "HEAD", "--stage", "staging", "--sr"],  # a commit with no version
        ["sleep", 1.05],
        ["deprecate", "nested:clf"],
        ["show", "--json"], ["show", "--json", "-d"], ["show", "rf", "--json"],
        ["show", "nested:clf", "--json", "-d"], ["show", "rf#prod", "--json"],
    ]  # fmt: skip
    results = gto(models, steps)
    assert all(r["code"] == 0 for r in results), results
    theirs = [json.loads(r["stdout"]) for r in results[-5:]]
    ours = [json.loads(bale("model", *args, cwd=models).stdout) for args in (
        ["list", "--json"], ["list", "--json", "-d"], ["show", "rf", "--json"],
        ["show", "nested:clf", "--json", "-d"], ["show", "rf#prod", "--json"])]  # fmt: skip
    assert ours == theirs
    assert ours[0] == {"rf": {"version": "v0.1.1", "registered": True, "active": True,
                              "stage": {"prod": "v0.0.1", "staging": c4}}}  # fmt: skip
    # GTO lists the bare commit staging holds twice (its stage lookup makes a
    # second version for it); bale computes what GTO computes.
    assert [(v["version"], v["commit_hexsha"]) for v in ours[2]] == [
        ("v0.1.1", c3), ("v0.0.1", c1), (c4, c4), (c4, c4)]  # fmt: skip
    assert ours[1]["nested:clf"]["active"] is False
    assert c2 not in {v["commit_hexsha"] for v in ours[2]}  # v0.1.0 was deregistered


def test_bad_input_is_one_error_and_no_tag(models: Path, bale, git, gto) -> None:
    bale("model", "register", "rf", "HEAD~1", "--version", "v1.0.0", cwd=models)
    (models / ".gto").write_text("stages: [dev, prod]\n")  # GTO's allowed stages
    before = _tags(git, models)
    cases = [
        (["register", "rf", "--version", "1.0.0"], "'1.0.0' is not a version"),
        (["register", "rf", "--version", "v1.0"], "like v1.2.3"),
        (["register", "rf", "HEAD~2", "--version", "v1.0.0"],
         "version v1.0.0 of 'rf' was registered already"),
        (["register", "rf", "HEAD~1"], "'rf' is registered at"),
        (["register", "rf_"], "'rf_' is not an artifact name"),
        (["register", "my model"], "is not an artifact name"),
        (["register", "a:b:c"], "is not an artifact name"),
        (["register", "ghost"], "'ghost' is not declared in dvc.yaml"),
        (["register", "nested:ghost"], "not declared in nested/dvc.yaml"),
        (["register", "nested:clf", "--bump-minor"], "no version to bump"),
        (["register", "rf", "no-such-rev"], "revision 'no-such-rev' does not exist"),
        (["assign", "rf", "--stage", "prod", "--version", "v9.9.9"], "has no version v9.9.9"),
        (["assign", "rf", "--stage", "prod", "--version", "1.0"], "is not a version"),
        (["assign", "rf", "--stage", "bad stage", "--version", "v1.0.0"], "not a stage name"),
        (["assign", "rf", "--stage", "qa", "--version", "v1.0.0"], "not one .gto allows"),
        (["unassign", "rf", "--stage", "prod"], "no version of 'rf' is in stage 'prod'"),
        (["deregister", "rf", "--version", "v3.0.0"], "'rf' has no version v3.0.0"),
        (["deprecate", "ghost"], "no registry tag names artifact 'ghost'"),
        (["show", "ghost"], "no registry tag names artifact 'ghost'"),
    ]  # fmt: skip
    for args, words in cases:
        assert_error(bale("model", *args, cwd=models, ok=False), words)
    assert _tags(git, models) == before
    # A usage error is exit status 2, as everywhere.
    assert_error(bale("model", "register", "rf", "--version", "v2.0.0", "--bump-major",
                      cwd=models, ok=False), "not allowed with", code=2)  # fmt: skip
    # gto refuses the same: names, a version, a duplicate, a missing version.
    results = gto(models, [
        ["valid-name", "rf_"], ["valid-name", "my model"], ["valid-name", "a:b:c"],
        ["valid-name", "nested:clf"],
        ["register", "rf", "--version", "1.0.0"],
        ["register", "rf", "HEAD~2", "--version", "v1.0.0"],
        ["register", "rf", "HEAD~1"],
        ["assign", "rf", "--stage", "prod", "--version", "v9.9.9"],
        ["assign", "rf", "--stage", "qa", "--version", "v1.0.0"],
    ])  # fmt: skip
    assert results[:4] == [False, False, False, True]
    assert [r["code"] for r in results[4:]] == [1] * 5, results
    assert _tags(git, models) == before


@pytest.mark.dvc
def test_get_and_import_artifact_references(tmp_path: Path, repo: Path, bale, git, dvc) -> None:
    write_tree(repo, {"dvc.yaml": DVC_YAML, "nested/dvc.yaml": NESTED_YAML,
                      "models/rf.pkl": "forest 1\n", "nested/clf.bin": "classifier\n"})  # fmt: skip
    bale("add", "-q", "models/rf.pkl", "nested/clf.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    clock = Clock()
    bale("model", "register", "-q", "rf", "--version", "v1.0.0", cwd=repo, env=clock())
    bale("model", "register", "-q", "nested:clf", cwd=repo, env=clock())
    (repo / "models" / "rf.pkl").write_text("forest 2\n")
    bale("add", "-q", "models/rf.pkl", cwd=repo)
    git("commit", "-qam", "v2", cwd=repo)
    bale("model", "register", "-q", "rf", cwd=repo, env=clock())
    bale("model", "assign", "-q", "rf", "--stage", "prod", "--version", "v1.0.0", cwd=repo,
         env=clock())  # fmt: skip
    v1 = _commits(git, repo)[1]
    url = str(repo)

    out = tmp_path / "out"
    out.mkdir()
    for ref, name, content in [("rf@v1.0.0", "rf.pkl", "forest 1\n"),
                               ("rf#prod", "prod.pkl", "forest 1\n"),
                               ("rf@latest", "latest.pkl", "forest 2\n"),
                               ("nested:clf@v0.0.1", "clf.bin", "classifier\n")]:  # fmt: skip
        bale("get", url, ref, "-o", name, cwd=out)
        assert (out / name).read_text() == content, ref
    # Without -o, the output is named after the artifact's path.
    assert_error(bale("get", url, "rf@v1.0.1", cwd=out, ok=False), "'rf.pkl' already exists")
    bale("get", url, "rf@v1.0.1", "-f", cwd=out)
    assert (out / "rf.pkl").read_text() == "forest 2\n"
    assert_error(bale("get", url, "rf@v9.9.9", cwd=out, ok=False), "no version v9.9.9")
    assert_error(bale("get", url, "rf#dev", cwd=out, ok=False), "in stage 'dev'")
    assert_error(bale("get", url, "rf@v1.0.0", "--rev", "main", cwd=out, ok=False),
                 "leave out --rev", code=2)  # fmt: skip

    # The import records the registration tag and its commit, as dvc import --rev does.
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root in (ours, theirs):
        root.mkdir()
        git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=ours)
    dvc("init", "-q", cwd=theirs)
    done = bale("import", url, "rf#prod", cwd=ours).stdout
    assert f"Imported 'models/rf.pkl' (rf#prod = rf@v1.0.0) from {url} ({v1[:8]})" in done
    dvc("import", url, "models/rf.pkl", "--rev", "rf@v1.0.0", cwd=theirs)
    assert (ours / "rf.pkl.dvc").read_bytes() == (theirs / "rf.pkl.dvc").read_bytes()
    assert f"rev_lock: {v1}" in (ours / "rf.pkl.dvc").read_text()
    assert (ours / "rf.pkl").read_text() == "forest 1\n"
    assert "is up to date" in bale("update", "rf.pkl.dvc", cwd=ours).stdout
