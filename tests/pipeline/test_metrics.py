"""`params diff`, `metrics show` and `metrics diff`: what bale collects and
prints, beside the real dvc run on the same repository (both only read it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bale.errors import DvcFileError, TargetNotFoundError
from bale.pipeline.metrics import (
    Change,
    Collected,
    Loaded,
    diff,
    flatten,
    metrics_of,
    params_of,
)
from tests.cli.util import Unchanged, assert_error, write_tree

pytestmark = pytest.mark.dvc

PIPELINE = """\
stages:
  train:
    cmd: python3 train.py
    params:
    - lr
    - model.layers
    - model.name
    - model.sizes
    metrics:
    - metrics.json:
        cache: false
"""


def _params(lr: float, layers: int, sizes: list[int]) -> str:
    return (
        f"lr: {lr}\nepochs: 10\nmodel:\n  layers: {layers}\n  name: resnet\n"
        f"  sizes: {sizes}\nunused: 5\n"
    )


def _metrics(acc: float, **more: object) -> str:
    data = {"acc": acc, "loss": 0.123456789, "nested": {"f1": 0.5, "n": 3}, "lst": [1]}
    return json.dumps({**data, **more})


@pytest.fixture
def project(tmp_path: Path, git, bale) -> Path:
    """Two tagged commits (v1, then v2 on main) and a changed workspace."""
    root = tmp_path / "project"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {"dvc.yaml": PIPELINE, "params.yaml": _params(0.1, 3, [1, 2]),
                      "metrics.json": _metrics(1.0, ok=True)})  # fmt: skip
    git("add", "-A", cwd=root)
    git("commit", "-qm", "one", cwd=root)
    git("tag", "v1", cwd=root)
    write_tree(root, {"params.yaml": _params(0.2, 4, [1, 2, 3]),
                      "metrics.json": _metrics(1.1, ok=False)})  # fmt: skip
    git("commit", "-qam", "two", cwd=root)
    git("tag", "-a", "-m", "second", "v2", cwd=root)
    write_tree(root, {"params.yaml": _params(0.3, 4, [1, 2, 3]),
                      "metrics.json": _metrics(1.25, ok=False, extra=7)})  # fmt: skip
    return root


def assert_same(bale, dvc, cwd: Path, *args: str) -> str:
    """bale prints what dvc prints (JSON compared as data: dvc orders files
    and keys by a set); returns bale's output."""
    ours = bale(*args, cwd=cwd)
    theirs = dvc(*args, cwd=cwd)
    if "--json" in args:
        assert ours.stdout.endswith("}\n") and ours.stdout.count("\n") == 1, ours.stdout
        assert json.loads(ours.stdout) == json.loads(theirs.stdout), args
    else:
        assert ours.stdout == theirs.stdout, (args, ours.stdout, theirs.stdout)
    return ours.stdout


def assert_same_rows(bale, dvc, cwd: Path, *args: str) -> list[str]:
    """The same header and the same rows; dvc prints files in a set's order,
    bale by path."""
    ours = bale(*args, cwd=cwd).stdout.splitlines()
    theirs = dvc(*args, cwd=cwd).stdout.splitlines()
    assert ours[0] == theirs[0], (args, ours, theirs)
    assert sorted(ours) == sorted(theirs), (args, ours, theirs)
    return ours


# -- beside dvc ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--md",),
        ("--json",),
        ("--all",),
        ("--no-path",),
        ("v1", "v2"),
        ("HEAD~1", "HEAD", "--md"),
        ("v1", "--all", "--json"),
        ("v2", "v1"),
    ],
    ids=lambda a: " ".join(a) or "HEAD-workspace",
)
def test_params_diff_prints_what_dvc_prints(project: Path, bale, dvc, args):
    out = assert_same(bale, dvc, project, "params", "diff", *args)
    if not args:
        assert out == (
            "Path         Param    HEAD    workspace\nparams.yaml  lr       0.2     0.3\n"
        )


@pytest.mark.parametrize(
    "args",
    [(), ("--md",), ("--json",), ("-T",), ("-a", "-T", "--json"), ("--precision", "2")],
    ids=lambda a: " ".join(a) or "plain",
)
def test_metrics_show_prints_what_dvc_prints(project: Path, bale, dvc, args):
    out = assert_same(bale, dvc, project, "metrics", "show", *args)
    if args == ("--json",):
        assert json.loads(out) == {"": {"data": {"metrics.json": {"data": {
            "acc": 1.25, "loss": 0.123456789, "nested": {"f1": 0.5, "n": 3}, "ok": False,
            "extra": 7,
        }}}}}  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--md",),
        ("--json",),
        ("--all",),
        ("v1", "v2"),
        ("v1", "--all", "--md"),
        ("--precision", "1", "--all"),
        ("--targets", "metrics.json", "--no-path"),
    ],
    ids=lambda a: " ".join(a) or "HEAD-workspace",
)
def test_metrics_diff_prints_what_dvc_prints(project: Path, bale, dvc, args):
    out = assert_same(bale, dvc, project, "metrics", "diff", *args)
    if not args:
        assert out == (
            "Path          Metric    HEAD    workspace    Change\n"
            "metrics.json  acc       1.1     1.25         0.15\n"
            "metrics.json  extra     -       7            -\n"
        )


def test_nothing_changed_prints_nothing_or_an_empty_markdown_table(project: Path, git, bale, dvc):
    git("commit", "-qam", "three", cwd=project)
    for args in (("params", "diff"), ("metrics", "diff"), ("params", "diff", "--json"),
                 ("params", "diff", "--md"), ("metrics", "diff", "--md")):  # fmt: skip
        assert_same(bale, dvc, project, *args)
    assert bale("params", "diff", cwd=project).stdout == ""
    assert bale("metrics", "diff", "--md", cwd=project).stdout == (
        "| Path   | Metric   | HEAD   | workspace   | Change   |\n"
        "|--------|----------|--------|-------------|----------|\n\n"
    )


def test_show_leaves_out_the_workspace_when_it_is_the_branch(project: Path, git, bale, dvc):
    git("commit", "-qam", "three", cwd=project)
    out = assert_same(bale, dvc, project, "metrics", "show", "-a")
    assert out.splitlines()[1].startswith("main ")


SUB_PIPELINE = """\
params:
- extra.toml
metrics:
- top.json
stages:
  s:
    cmd: python3 gen.py
    wdir: .
    params:
    - cfg.json:
      - batch
      - opt
    metrics:
    - out/m.json:
        cache: false
    - out/cached.yaml
"""
GEN = """\
import json, sys
json.dump({"auc": float(sys.argv[1]), "ok": True, "lst": [1, 2], "n": None, "e": {}},
          open("out/m.json", "w"))
open("out/cached.yaml", "w").write("score: %s\\n" % sys.argv[1])
"""


@pytest.fixture
def nested(tmp_path: Path, git, bale, dvc) -> Path:
    """A dvc.yaml in a folder: JSON and TOML params, a top-level metrics
    file and a cached one (run by dvc, so its object is in the cache)."""
    root = tmp_path / "nested"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {
        "params.yaml": "lr: 0.1\nname: x\n",
        "sub/dvc.yaml": SUB_PIPELINE.replace("gen.py", "gen.py 0.7"),
        "sub/gen.py": GEN,
        "sub/cfg.json": '{"batch": 32, "opt": {"kind": "adam", "beta": 0.9}, "unused": 1}',
        "sub/extra.toml": "seed = 1\n[section]\na = 2\n",
        "sub/top.json": '{"top": 1}',
        "sub/out/.keep": "",
    })  # fmt: skip
    dvc("repro", "-q", "sub/dvc.yaml", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "one", cwd=root)
    write_tree(root, {"sub/dvc.yaml": SUB_PIPELINE.replace("gen.py", "gen.py 0.8"),
                      "sub/cfg.json": '{"batch": 64, "opt": {"kind": "sgd", "beta": 0.9}}',
                      "sub/extra.toml": "seed = 2\n[section]\na = 2\n"})  # fmt: skip
    dvc("repro", "-q", "sub/dvc.yaml", cwd=root)
    return root


def test_a_nested_pipeline_reads_like_dvc_from_the_root_and_from_its_folder(
    nested: Path, bale, dvc
):
    before = Unchanged(nested)
    for cwd in (nested, nested / "sub"):
        assert_same(bale, dvc, cwd, "metrics", "show")
        assert_same(bale, dvc, cwd, "metrics", "show", "--json")
        assert_same(bale, dvc, cwd, "params", "diff", "--json", "--all")
        assert_same(bale, dvc, cwd, "metrics", "diff", "--json", "--all")
        assert_same_rows(bale, dvc, cwd, "params", "diff", "--all")
        assert_same_rows(bale, dvc, cwd, "metrics", "diff", "--md")
    assert_same(bale, dvc, nested, "params", "diff", "--deps")
    before.check()  # bale only read; the cached metric came from the cache
    shown = bale("metrics", "diff", cwd=nested).stdout
    assert "sub/out/cached.yaml  score     0.7     0.8" in shown


def test_a_cached_metric_missing_from_the_cache_is_a_warning(nested: Path, bale, dvc):
    import shutil

    shutil.rmtree(nested / ".dvc" / "cache")
    rows = assert_same_rows(bale, dvc, nested, "metrics", "diff")
    assert "sub/out/cached.yaml  score     -       0.8          -" in rows
    proc = bale("metrics", "diff", cwd=nested)
    assert proc.stderr.startswith("WARNING: metrics at HEAD: 'sub/out/cached.yaml' is not in")
    assert "Traceback" not in proc.stderr


def test_a_repository_in_a_folder_of_git_reads_its_own_files_only(tmp_path: Path, git, dvc, bale):
    """`init --subdir`: the revision's tree is git's; a root inside it is another repository."""
    top = tmp_path / "mono"
    (top / "proj" / "inner").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=top)
    bale("init", "-q", "--subdir", cwd=top / "proj")
    bale("init", "-q", "--subdir", cwd=top / "proj" / "inner")
    write_tree(top / "proj", {
        "params.yaml": "a: 1\nb: 2\n",
        "dvc.yaml": "metrics:\n- m.json\nstages:\n  s:\n    cmd: echo\n    params: [a]\n",
        "m.json": '{"x": 1}',
        "inner/dvc.yaml": "metrics:\n- q.json\n",
        "inner/q.json": '{"q": 1}',
    })  # fmt: skip
    git("add", "-A", cwd=top)
    git("commit", "-qm", "one", cwd=top)
    write_tree(top / "proj", {"params.yaml": "a: 3\nb: 2\n", "m.json": '{"x": 2}'})
    proj = top / "proj"
    for args in (("params", "diff"), ("metrics", "diff", "--json"), ("metrics", "show", "-a")):
        assert_same(bale, dvc, proj, *args)
    assert "q.json" not in bale("metrics", "show", "-a", cwd=proj).stdout


# -- bad input -------------------------------------------------------------------


def test_a_revision_that_does_not_exist_is_one_error_naming_it(project: Path, bale):
    before = Unchanged(project)
    for args in (("params", "diff", "nosuch"), ("metrics", "diff", "HEAD", "nosuch")):
        assert_error(bale(*args, cwd=project, ok=False), "'nosuch'", "no revision")
    before.check()


def test_a_malformed_metrics_file_is_a_warning_naming_it(project: Path, bale, dvc):
    (project / "metrics.json").write_text('{"acc": 1.2,')
    for args in (("metrics", "show"), ("metrics", "diff"), ("metrics", "diff", "--md")):
        proc = bale(*args, cwd=project)
        assert proc.stdout == dvc(*args, cwd=project).stdout
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "WARNING: metrics in the workspace: metrics.json: malformed metrics file:"
        ), proc.stderr
    shown = json.loads(bale("metrics", "show", "--json", cwd=project).stdout)
    assert shown[""]["data"]["metrics.json"]["error"]["type"] == "DvcFileError"


def test_a_malformed_params_file_fails_its_revision_as_in_dvc(project: Path, bale, dvc):
    (project / "params.yaml").write_text("lr: [\n")
    proc = bale("params", "diff", cwd=project)
    assert proc.stdout == dvc("params", "diff", cwd=project).stdout
    assert "params.yaml:2:1: malformed YAML" in proc.stderr
    assert bale("params", "diff", "-q", cwd=project).stderr == ""


def test_outside_a_repository_is_one_error(tmp_path: Path, bale):
    for args in (("params", "diff"), ("metrics", "show"), ("metrics", "diff")):
        assert_error(bale(*args, cwd=tmp_path, ok=False), "not inside a bale/DVC repository")


def test_without_git_show_works_and_diff_says_it_needs_git(tmp_path: Path, bale):
    root = tmp_path / "nogit"
    root.mkdir()
    bale("init", "--no-scm", "-q", cwd=root)
    write_tree(root, {"dvc.yaml": "metrics:\n- m.json\n", "m.json": '{"a": 1}'})
    assert bale("metrics", "show", cwd=root).stdout == "Path    a\nm.json  1\n"
    assert_error(bale("metrics", "diff", cwd=root, ok=False), "needs git")


def test_a_repository_without_commits_has_nothing_to_compare(tmp_path: Path, git, bale, dvc):
    root = tmp_path / "fresh"
    root.mkdir()
    git("init", "-q", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {"params.yaml": "a: 1\n"})
    for args in (("params", "diff"), ("params", "diff", "--json"), ("params", "diff", "--md")):
        assert_same(bale, dvc, root, *args)


def test_the_sub_command_is_required(project: Path, bale):
    proc = bale("metrics", cwd=project, ok=False)
    assert proc.returncode == 2 and proc.stderr.startswith("ERROR: ")


# -- the engine --------------------------------------------------------------------


class _Files:
    """A side made of a dict: root-relative path -> text."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def pipelines(self) -> list[str]:
        return sorted(p for p in self.files if p.rsplit("/", 1)[-1] == "dvc.yaml")

    def read(self, rel: str) -> bytes | None:
        text = self.files.get(rel)
        return None if text is None else text.encode()

    def files_under(self, rel: str) -> list[str]:
        return sorted(p for p in self.files if p.startswith(rel + "/"))


def test_params_are_the_keys_stages_use_and_whole_files_win():
    side = _Files({
        "dvc.yaml": "params:\n- top.yaml\nstages:\n  a:\n    cmd: x\n    params:\n"
                    "    - other.yaml: [b.c, d]\n    - top.yaml: [z]\n",
        "other.yaml": "b:\n  c: 1\n  e: 2\nd: [1, 2]\nf: 3\n",
        "top.yaml": "z: 1\ny: 2\n",
    })  # fmt: skip
    got = params_of(side)
    assert got.error is None
    assert got.files == {
        "other.yaml": Loaded({"b": {"c": 1}, "d": [1, 2]}),
        "top.yaml": Loaded({"z": 1, "y": 2}),  # tracked whole by the top-level list
    }
    assert params_of(side, deps_only=True).files["top.yaml"] == Loaded({"z": 1})


def test_missing_and_malformed_files_are_reported_beside_the_others():
    side = _Files({
        "dvc.yaml": "metrics:\n- a.json\n- gone.json\n- bad.yaml\n- folder\n",
        "a.json": '{"x": 1, "l": [1], "n": null, "e": {}, "s": "t", "b": true}',
        "bad.yaml": "x: [\n",
        "folder/one.json": '{"y": 2}',
    })  # fmt: skip
    got = metrics_of(side)
    assert list(got.files) == ["a.json", "gone.json", "bad.yaml", "folder/one.json"]
    assert got.files["a.json"] == Loaded({"x": 1, "s": "t", "b": True})
    assert isinstance(got.files["gone.json"].error, TargetNotFoundError)
    assert isinstance(got.files["bad.yaml"].error, DvcFileError)
    assert got.files["folder/one.json"] == Loaded({"y": 2})


def test_a_malformed_dvc_yaml_fails_the_whole_side():
    got = metrics_of(_Files({"dvc.yaml": "stages: [\n"}))
    assert got.files == {} and isinstance(got.error, DvcFileError)


def test_a_path_leaving_the_repository_is_refused():
    got = params_of(_Files({"dvc.yaml": "params:\n- ../../etc/passwd\n"}))
    assert isinstance(got.error, DvcFileError) and "outside the repository" in str(got.error)


def test_diff_follows_dvc_numbers_lists_and_absent_keys():
    old = Collected({"p.yaml": Loaded({"a": 1, "b": [1, 2], "c": {"d": True}, "s": "x"})})
    new = Collected({"p.yaml": Loaded({"a": 1.5, "b": [1, 2, 3], "c": {"d": False}}),
                     "q.yaml": Loaded(None, TargetNotFoundError("q.yaml"))})  # fmt: skip
    assert diff(old, new) == {"p.yaml": {
        "a": Change(1, 1.5, 0.5),
        "b": Change("[1, 2]", "[1, 2, 3]"),
        "c.d": Change(True, False, -1),
        "s": Change("x", None),
    }}  # fmt: skip
    assert diff(old, old) == {}
    assert diff(old, old, unchanged=True)["p.yaml"]["a"] == Change(1, 1, 0)


def test_flatten_drops_empty_mappings_and_writes_lists_as_python_does():
    assert flatten({"a": {"b": {}, "c": 1}, "l": ["x"], "n": None}) == {
        "a.c": 1, "l": "['x']", "n": None,
    }  # fmt: skip
