"""`plots show` and `plots diff`: which plots bale collects and the data it
shows, beside the real dvc on the same repository; the page it writes
(inline SVG, nothing fetched from the network); and bad input."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bale.pipeline.plots import Definition, Revision, Source, plots_of, records
from tests.cli.util import Unchanged, assert_error, write_tree

pytestmark = pytest.mark.dvc

PIPELINE = """\
stages:
  train:
    cmd: python3 train.py
    plots:
    - plots/loss.csv:
        cache: false
plots:
- pr:
    x: epoch
    y:
      eval.json: [precision, recall]
    title: Precision and recall
    template: scatter
- eval.json:
    x: epoch
    y: recall
"""
LOSS = "step,loss,acc\n0,1.0,0.5\n1,0.7,0.6\n2,0.5,0.7\n"
EVAL = json.dumps([
    {"epoch": 1, "precision": 0.3, "recall": 0.9},
    {"epoch": 2, "precision": 0.5, "recall": 0.8},
    {"epoch": 3, "precision": 0.7, "recall": 0.6},
])  # fmt: skip
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def project(tmp_path: Path, git, bale) -> Path:
    """One commit: a stage's CSV plot and two top-level plots of a JSON file."""
    root = tmp_path / "project"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {"dvc.yaml": PIPELINE, "plots/loss.csv": LOSS, "eval.json": EVAL})
    git("add", "-A", cwd=root)
    git("commit", "-qm", "one", cwd=root)
    return root


def _page(root: Path, out: str = "dvc_plots") -> str:
    return (root / out / "index.html").read_text("utf-8")


def _plot_divs(html: str) -> dict[str, str]:
    """Each plot's id (as the page writes it) -> its HTML."""
    found = re.findall(r'<div class="plot" id="([^"]*)">(.*?)\n</div>', html, re.S)
    return dict(found)


def _polylines(svg: str) -> list[int]:
    """The number of points of each polyline."""
    return [len(p.split()) for p in re.findall(r'<polyline[^>]* points="([^"]*)"', svg)]


def _assert_offline(html: str) -> None:
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html), html
    assert "http://" not in html and "https://" not in html


def _summary(data: dict[str, Any]) -> tuple[dict, list]:
    """What bale and dvc must agree on: per plot id, each entry's type and
    revisions and, for data plots, the title, the x and y fields and titles,
    and every data point; and the errors' plot, revision and source."""

    def encoding(content: Any, axis: str) -> dict | None:
        stack = [content]
        while stack:  # dvc's templates put y in a layer
            value = stack.pop(0)
            if isinstance(value, dict):
                enc = value.get("encoding")
                if isinstance(enc, dict) and "field" in (enc.get(axis) or {}):
                    return enc[axis]
                stack += value.values()
            elif isinstance(value, list):
                stack += value
        return None

    plots = {}
    for plot_id, entries in data.get("data", {}).items():
        rows = []
        for entry in entries:
            if entry["type"] == "image":
                rows.append(("image", entry["revisions"]))
                continue
            content = entry["content"]
            x, y = encoding(content, "x"), encoding(content, "y")
            rows.append((
                "vega", entry["revisions"], content["title"]["text"],
                x and (x["field"], x["title"]), y and (y["field"], y["title"]),
                sorted(json.dumps(v, sort_keys=True) for v in content["data"]["values"]),
            ))  # fmt: skip
        plots[plot_id] = rows
    errors = sorted((e.get("name"), e.get("rev"), e.get("source")) for e in data.get("errors", []))
    return plots, errors


def assert_same_json(bale, dvc, cwd: Path, *args: str, out: Path) -> dict[str, Any]:
    """bale's `--json` and dvc's agree on `_summary`, plot ids in dvc's
    order; returns bale's. dvc writes images into `out`, so it gets one."""
    ours = json.loads(bale("plots", *args, "--json", cwd=cwd).stdout)
    theirs = json.loads(dvc("plots", *args, "--json", "-o", str(out), cwd=cwd).stdout)
    assert _summary(ours) == _summary(theirs), args
    assert list(ours.get("data", {})) == list(theirs.get("data", {}))
    return ours


# -- the page ------------------------------------------------------------------


def test_show_writes_one_page_of_inline_svg(project: Path, bale, dvc, tmp_path: Path):
    theirs = dvc("plots", "show", "-o", str(tmp_path / "dvc-out"), cwd=project)
    ours = bale("plots", "show", cwd=project)
    page = project / "dvc_plots" / "index.html"
    # dvc's one line: the page's file:// URI (its folder aside).
    assert ours.stdout == page.as_uri() + "\n"
    assert theirs.stdout == (tmp_path / "dvc-out" / "index.html").as_uri() + "\n"
    assert ours.stderr == ""
    html = _page(project)
    _assert_offline(html)
    divs = _plot_divs(html)
    assert list(divs) == ["pr", "eval_json", "plots_loss_csv"]
    for body in divs.values():
        assert body.count("<svg") == 1
    # A line per series, a point per row; the scatter plot draws circles.
    assert _polylines(divs["plots_loss_csv"]) == [3]
    assert _polylines(divs["eval_json"]) == [3]
    assert divs["pr"].count('r="3"/>') == 6 and "<polyline" not in divs["pr"]
    assert "Precision and recall" in divs["pr"] and "precision" in divs["pr"]
    # The axes: the default x is the row's index, y the last column.
    assert ">step</text>" in divs["plots_loss_csv"] and ">acc</text>" in divs["plots_loss_csv"]


def test_diff_draws_one_series_per_revision(project: Path, bale, dvc, tmp_path: Path):
    write_tree(project, {"plots/loss.csv": LOSS + "3,0.4,0.8\n"})
    bale("plots", "diff", "HEAD", "-o", "out", cwd=project)
    divs = _plot_divs(_page(project, "out"))
    assert _polylines(divs["plots_loss_csv"]) == [4, 3]  # the workspace, then HEAD
    assert (
        ">workspace</text>" in divs["plots_loss_csv"] and ">HEAD</text>" in divs["plots_loss_csv"]
    )
    assert divs["eval_json"].count("<polyline") == 2
    ours = assert_same_json(bale, dvc, project, "diff", "HEAD", out=tmp_path / "o")
    assert [e["revisions"] for e in ours["data"]["plots/loss.csv"]] == [["workspace", "HEAD"]]
    # With no revision, HEAD too when git's files changed (as here), as in dvc.
    assert_same_json(bale, dvc, project, "diff", out=tmp_path / "o")


def test_diff_of_a_clean_workspace_is_the_workspace_alone(project: Path, bale, dvc, tmp_path):
    ours = assert_same_json(bale, dvc, project, "diff", out=tmp_path / "o")
    assert {p: [e["revisions"] for e in v] for p, v in ours["data"].items()} == {
        "pr": [["workspace"]], "eval.json": [["workspace"]], "plots/loss.csv": [["workspace"]],
    }  # fmt: skip


# -- beside dvc --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("show",), ("show", "pr"), ("show", "plots/loss.csv", "eval.json"), ("show", "e"),
     ("show", "-x", "epoch", "eval.json"), ("diff", "HEAD", "workspace")],
    ids=" ".join,
)  # fmt: skip
def test_json_is_dvcs(project: Path, bale, dvc, tmp_path: Path, args):
    ours = assert_same_json(bale, dvc, project, *args, out=tmp_path / "o")
    if args == ("show",):
        loss = ours["data"]["plots/loss.csv"][0]
        assert loss["type"] == "vega" and loss["revisions"] == ["workspace"]
        # Values of a CSV file are text, as dvc reads them; step is the index.
        assert loss["content"]["data"]["values"][0] == {
            "step": 0, "loss": "1.0", "acc": "0.5", "rev": "workspace",
        }  # fmt: skip
        pr = ours["data"]["pr"][0]["content"]
        assert pr["encoding"]["y"]["field"] == "dvc_inferred_y_value"
        assert {v["field"] for v in pr["data"]["values"]} == {"precision", "recall"}


NESTED = """\
stages:
  gen:
    cmd: "true"
    plots:
    - logs/nohead.csv:
        cache: false
        header: false
        x: "0"
        title: No header
    - logs/train.yaml:
        cache: false
        x: epoch
        y: loss
  loop:
    foreach: [a, b]
    do:
      cmd: echo ${item}
      plots:
      - loop/${item}.csv:
          cache: false
plots:
- dir
- dir/inner:
    template: bar_horizontal
- multi:
    y:
      logs/train.yaml: [loss, tloss]
      dir/one.csv: b
- sub/s.json
- img.png
"""
SUB = """\
plots:
- s.json:
    title: Sub plot
- combo:
    x:
      times.json: t
    y:
      s.json: y
      ../logs/train.yaml: loss
"""


def test_folders_subfolders_and_formats_are_collected_as_dvc_does(tmp_path: Path, git, bale, dvc):
    root = tmp_path / "nested"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {
        "dvc.yaml": NESTED, "sub/dvc.yaml": SUB, "img.png": PNG,
        "dir/one.csv": "a,b\n1,2\n3,4\n", "dir/two.tsv": "a\tb\n5\t6\n7\t8\n",
        "dir/inner/deep.csv": "a,b\n9,10\n", "logs/nohead.csv": "1,2\n3,4\n5,6\n",
        "logs/train.yaml": "train:\n- {epoch: 1, loss: 0.9}\n- {epoch: 2, loss: 0.5}\n"
                           "test:\n- {epoch: 1, tloss: 1.1}\n- {epoch: 2, tloss: 0.7}\n",
        "sub/s.json": '[{"x": 1, "y": 2}, {"x": 2, "y": 3}]',
        "sub/times.json": '[{"t": 10}, {"t": 20}]',
        "loop/a.csv": "v\n1\n2\n", "loop/b.csv": "v\n3\n",
    })  # fmt: skip
    ours = assert_same_json(bale, dvc, root, "show", out=tmp_path / "o")
    assert list(ours["data"]) == [
        "dir/one.csv", "dir/two.tsv", "dir/inner/deep.csv", "multi", "dvc.yaml::sub/s.json",
        "sub/dvc.yaml::sub/s.json", "img.png", "combo", "logs/nohead.csv",
        "logs/train.yaml", "loop/a.csv", "loop/b.csv",
    ]  # fmt: skip
    image = ours["data"]["img.png"][0]
    assert image["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert_same_json(bale, dvc, root, "show", "sub", out=tmp_path / "o")
    assert_same_json(bale, dvc, root, "show", "dir", "img.png", out=tmp_path / "o")
    bale("plots", "show", cwd=root)
    html = _page(root)
    _assert_offline(html)
    assert html.count("<svg") == 11  # every data plot; the image is an <img>
    assert html.count('src="data:image/png;base64,') == 1
    assert html.rindex("<svg") < html.index("<img")  # images last, as dvc orders them


# -- bad input -----------------------------------------------------------------------


def test_a_broken_plots_file_is_one_warning_and_the_rest_is_drawn(
    project: Path, bale, dvc, tmp_path: Path
):
    write_tree(project, {"eval.json": '[{"epoch": 1,'})
    proc = bale("plots", "show", cwd=project)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("WARNING: plots in the workspace: eval.json:")
    assert "malformed JSON" in lines[0]
    divs = _plot_divs(_page(project))
    assert list(divs) == ["plots_loss_csv"]
    assert _polylines(divs["plots_loss_csv"]) == [3]
    ours = assert_same_json(bale, dvc, project, "show", out=tmp_path / "o")
    assert ours["data"]["pr"] == [] and ours["data"]["eval.json"] == []
    assert {(e["name"], e["source"], e["type"]) for e in ours["errors"]} == {
        ("pr", "eval.json", "DvcFileError"), ("eval.json", "eval.json", "DvcFileError"),
    }  # fmt: skip


def test_a_missing_column_is_a_warning_for_that_plot(project: Path, bale, dvc, tmp_path):
    write_tree(project, {"dvc.yaml": PIPELINE + "- bad:\n    x: nosuch\n    y:\n"
                         "      eval.json: recall\n"})  # fmt: skip
    proc = bale("plots", "show", cwd=project)
    assert proc.stderr.splitlines() == [
        "WARNING: plots in the workspace: dvc.yaml: plot 'bad': no column 'nosuch' in "
        "'eval.json' at workspace (its columns: epoch, precision, recall); fix the plot's x or y"
    ]
    assert "bad" not in _plot_divs(_page(project))
    assert_same_json(bale, dvc, project, "show", out=tmp_path / "o")


def test_a_broken_dvc_yaml_is_one_warning_and_no_page(project: Path, bale):
    write_tree(project, {"dvc.yaml": PIPELINE + "stages: [\n"})
    proc = bale("plots", "show", cwd=project)
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith("WARNING: plots in the workspace: dvc.yaml:") and "YAML" in line
    assert not (project / "dvc_plots").exists()
    errors = json.loads(bale("plots", "show", "--json", cwd=project).stdout)["errors"]
    assert [(e["rev"], e["type"]) for e in errors] == [("workspace", "DvcFileError")]


def test_an_unknown_revision_is_one_error_and_nothing_written(project: Path, bale):
    before = Unchanged(project)
    proc = bale("plots", "diff", "nosuch", cwd=project, ok=False)
    assert_error(proc, "nosuch")
    before.check()


@pytest.mark.parametrize("out", [".git/plots", ".dvc", ".dvc/plots", "sub/.git"])
def test_a_page_inside_repository_metadata_is_refused(project: Path, bale, out: str):
    before = Unchanged(project)
    proc = bale("plots", "show", "-o", out, cwd=project, ok=False)
    assert_error(proc, out, "-o")
    before.check()


def test_a_page_outside_the_repository_is_the_users_choice(project: Path, bale, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere" / "deeper"
    proc = bale("plots", "show", "-o", str(elsewhere), cwd=project)
    assert proc.stdout == (elsewhere / "index.html").as_uri() + "\n"
    assert "<svg" in (elsewhere / "index.html").read_text("utf-8")


def test_no_plots_writes_no_page(repo: Path, bale, dvc):
    for args in (("plots", "show"), ("plots", "diff")):
        ours, theirs = bale(*args, cwd=repo), dvc(*args, cwd=repo)
        assert (ours.stdout, ours.stderr) == (theirs.stdout, theirs.stderr)
        assert ours.stderr == "No plots were loaded, visualization file will not be created.\n"
    assert not (repo / "dvc_plots").exists()
    assert bale("plots", "show", "--json", cwd=repo).stdout == "{}\n"


# -- the engine alone ----------------------------------------------------------------


def test_records_merge_lists_of_one_shape_row_by_row():
    content = {"train": [{"a": 1}, {"a": 2}], "test": {"deep": [{"b": 3}]}, "n": 5,
               "mixed": [{"c": 1}, {"d": 2}], "empty": []}  # fmt: skip
    assert records(content) == [{"a": 1, "b": 3}, {"a": 2}]
    assert records([{"x": "1"}]) == [{"x": "1"}]
    assert records("text") == records(None) == []


def test_defaults_are_the_index_and_the_last_column():
    rows = [{"epoch": 1, "loss": 0.5, "acc": 0.1}, {"epoch": 2, "loss": 0.4, "acc": 0.2}]
    revision = Revision({"": {"m.json": Definition({}, "dvc.yaml")}}, {"m.json": Source(rows)})
    [plot] = plots_of({"workspace": revision})
    assert (plot.kind, plot.revisions) == ("vega", ["workspace"])
    assert {k: plot.props[k] for k in ("title", "x", "y", "x_label", "y_label", "template")} == {
        "title": "m.json", "x": "step", "y": "acc", "x_label": "step", "y_label": "acc",
        "template": "linear",
    }  # fmt: skip
    [series] = plot.series
    assert (series.x, series.y) == ([0, 1], [0.1, 0.2])
    assert plot.datapoints[1] == {**rows[1], "step": 1, "rev": "workspace"}
