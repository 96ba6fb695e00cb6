"""The data-in-object-storage, snapshot and team-registry examples, run end
to end as a reader runs them (the pipeline one on a folder and on moto's S3),
with this bale first on PATH; what their narration shows is what happened."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import isolated_vars

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNS = {
    "pipeline-folder": ["s3-data-pipeline/run.sh"],
    "pipeline-s3": ["s3-data-pipeline/run.sh", "--s3"],
    "snapshots": ["snapshots/run.sh"],
    "team-registry": ["team-registry/run.sh"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """Every run started at once, each in its own scratch folder and home,
    printing to a file: the scripts are chains of short processes, so on two
    cores the four take about half as long as one after another."""
    started = {}
    for name, (script, *args) in RUNS.items():
        tmp = tmp_path_factory.mktemp(name)
        (tmp / "home").mkdir()
        path = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
        env = {**os.environ, **isolated_vars(tmp / "home"), "TMPDIR": str(tmp), "PATH": path}
        with open(tmp / "output.txt", "w") as out:
            proc = subprocess.Popen(["bash", str(EXAMPLES / script), *args], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        started[name] = (tmp, proc)
    yield started
    for _tmp, proc in started.values():
        if proc.poll() is None:  # a test failed first: stop the run and what it started
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()


def _steps(runs, name: str) -> list[tuple[str, str]]:
    """Wait for a run; what it printed, split into (command, output) steps
    without the narration (a blank line, then `# ...`) that follows an output."""
    tmp, proc = runs[name]
    proc.wait(timeout=180)
    printed = (tmp / "output.txt").read_text()
    assert proc.returncode == 0, printed
    assert "Traceback" not in printed and "ERROR" not in printed, printed
    assert not list(tmp.glob("bale-example.*")), "the scratch folder is left behind"
    chunks = re.split(r"^\$ (.*)$", printed, flags=re.M)
    outputs = [out.split("\n\n# ")[0].strip() for out in chunks[2::2]]
    return list(zip(chunks[1::2], outputs, strict=True))


def _outputs(steps: list[tuple[str, str]], command: str) -> list[str]:
    """What each run of a command that starts with `command` printed, in order."""
    return [out for cmd, out in steps if cmd.startswith(command)]


@pytest.mark.parametrize("remote", ["folder", "s3"])
def test_s3_data_pipeline_imports_the_store_and_keeps_the_model_across_reruns(runs, remote) -> None:
    steps = _steps(runs, f"pipeline-{remote}")
    if remote == "s3":
        config = _outputs(steps, "cat .dvc/config")[0]
        assert "endpointurl = http://127.0.0.1:" in config and "secret" not in config
        assert _outputs(steps, "git check-ignore .dvc/config.local") == [".dvc/config.local"]
        assert "endpointurl: http://127.0.0.1:" in _outputs(steps, "cat documents.dvc")[0]
    # --no-download recorded the documents; pull fetched them from the store.
    assert "deleted:            documents" in _outputs(steps, "bale status")[0]
    assert "40 files fetched" in _outputs(steps, "bale pull")[0]
    # --to-remote: on the remote only, and push neither warns nor resends it.
    assert _outputs(steps, "bale status -c background.txt.dvc") == [
        "deleted:            background.txt"
    ]
    assert [out for out in _outputs(steps, "bale push") if "WARNING" in out] == []

    first, second, after_update, after_param = _outputs(steps, "bale repro")
    assert first.count("Running stage") == 3 and "cold start" in first
    assert "Running stage" not in second and "Data and pipelines are up to date." in second
    assert "indexed 48 documents" in after_update  # the 8 that arrived in the store
    assert "k=3: warm start from 3 persisted centroids" in after_update
    assert "Stage 'embed' didn't change, skipping" in after_param
    assert "Running stage 'cluster'" in after_param and after_param.count("Running stage") == 1
    assert "k=4: warm start from 3 persisted centroids" in after_param
    assert re.search(r"cluster\.k\s+3\s+4", _outputs(steps, "bale params diff")[0])
    # The colleague's clone got every output from the remote.
    assert _outputs(steps, "bale status")[-1] == "Data and pipelines are up to date."


def test_snapshots_restore_a_whole_tag_or_only_its_data(runs) -> None:
    steps = _steps(runs, "snapshots")
    metrics = [json.loads(out) for out in _outputs(steps, "cat metrics.json")]
    v1, restored, v2, cloned, v1_data_new_code = metrics  # v2: back on main
    assert v1["train_rows"] == 40 and v2["train_rows"] == 400 and v2["rmse"] < v1["rmse"]
    assert restored == cloned == v1
    diff = _outputs(steps, "bale metrics diff v1.0 v2.0")[0]
    assert re.search(r"train_rows\s+40\s+400\s+360", diff)
    assert "model.bin" in _outputs(steps, "bale diff v1.0 v2.0")[0]
    same = _outputs(steps, "cmp model.bin ../model-v1.0.bin")
    assert same == ["model.bin: the same bytes as v1.0 made"] * 2
    # Only the data: v1.0's rows, today's code, so the model is retrained.
    assert _outputs(steps, "wc -l data/train.csv")[-1] == "41 data/train.csv"
    assert _outputs(steps, "grep -c") == ["1"]
    assert "modified:           data" in _outputs(steps, "bale status")[-1]
    assert v1_data_new_code["train_rows"] == 40 and v1_data_new_code["rmse"] != v1["rmse"]
    assert _outputs(steps, "wc -l data-v1.0/train.csv") == ["41 data-v1.0/train.csv"]


def test_team_registry_cards_areas_and_model_stages(runs) -> None:
    steps = _steps(runs, "team-registry")
    no_cards, no_owner, passed, passed_with_model = _outputs(steps, "bale card check")
    assert no_cards.endswith("2 card problems\n(exit status 1)")
    assert "datasets/reviews: has no card; run: bale card new datasets/reviews" in no_cards
    assert "datasets/reviews.card.md: field 'owner' is required in datasets" in no_owner
    assert passed == "Every card of 2 entries is in order"
    assert passed_with_model == "Every card of 3 entries is in order"
    assert "license:\n---" in _outputs(steps, "head -n 5 models/classifier.bin.card.md")[0]

    assert "experiments: 2 files uploaded" in _outputs(steps, "bale push --all")[0]
    pulled = _outputs(steps, "bale pull --all")[0]
    assert "A\tdatasets/reviews/" in pulled and "experiments: 2 files downloaded" in pulled
    assert _outputs(steps, "bale sync pull") == ["experiments: 2 files downloaded"]
    assert _outputs(steps, "ls experiments") == ["run-001\nrun-002"]

    assert _outputs(steps, "git tag -l")[-1].split() == [
        "classifier#prod#3", "classifier#staging#1", "classifier#staging#2",
        "classifier@v1.0.0", "classifier@v1.1.0",
    ]  # fmt: skip
    shown = _outputs(steps, "bale model show classifier")[0].splitlines()
    assert shown[1].split()[:2] == ["v1.1.0", "staging"]
    assert shown[2].split()[:2] == ["v1.0.0", "prod"]
    catalog = _outputs(steps, "bale catalog --check-remote")[0].splitlines()[1:]
    assert [row.split()[0] for row in catalog] == [
        "datasets/products", "datasets/reviews", "models/classifier.bin"]  # fmt: skip
    assert "prod=v1.0.0, staging=v1.1.0" in catalog[2] and catalog[2].endswith("yes")
    assert (
        _outputs(steps, "bale catalog reviews-team")[0]
        .splitlines()[1]
        .startswith("datasets/reviews ")
    )
