"""The image and audio/text registry examples and `make demo`'s script, run
end to end as a reader runs them, with this bale first on PATH; what their
narration shows is what happened."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str, *args: str, tmp_path: Path) -> list[tuple[str, str]]:
    """Run an example and split what it printed into (command, output) steps,
    without the narration (a blank line, then `# ...`) that follows an output;
    what comes before the first command is the step ''."""
    env = {**os.environ, "TMPDIR": str(tmp_path),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}  # fmt: skip
    proc = subprocess.run(["bash", str(EXAMPLES / script), *args], env=env, timeout=120,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert "Traceback" not in proc.stdout and "ERROR" not in proc.stdout, proc.stdout
    assert not list(tmp_path.glob("bale-example.*")), "the scratch folder is left behind"
    chunks = re.split(r"^\$ (.*)$", proc.stdout, flags=re.M)
    outputs = [out.split("\n\n# ")[0].strip() for out in chunks[2::2]]
    return [("", chunks[0]), *zip(chunks[1::2], outputs, strict=True)]


def _outputs(steps: list[tuple[str, str]], command: str) -> list[str]:
    """What each run of a command that starts with `command` printed, in order."""
    return [out for cmd, out in steps if cmd.startswith(command)]


def test_image_registry_merges_branches_and_reruns_only_the_new_collection(tmp_path) -> None:
    steps = _run("image-registry/run.sh", tmp_path=tmp_path)
    merge = _outputs(steps, "git merge --no-edit field-south")[0]
    assert "Auto-merging raw/01_collection.dvc" in merge and "CONFLICT" not in merge
    merged = _outputs(steps, "cat raw/01_collection.dvc")[-1]
    assert "nfiles: 28" in merged  # 16 on main, 6 from each branch
    assert _outputs(steps, "bale status")[0] == "Data and pipelines are up to date."

    first, second, third = _outputs(steps, "bale repro")
    dropped = dict(re.findall(r"dropped (\S+): (.*)", first))
    corrupted = [name for name, why in dropped.items() if not why.startswith("too ")]
    assert len(corrupted) == 3 and len(dropped) == 8  # and 5 too dark or too bright, of 28
    sorted_names = re.findall(r"\S+\.(?:png|jpg)", _outputs(steps, "ls -C data/sorted")[0])
    assert len(sorted_names) == 20 and not set(dropped) & set(sorted_names)
    header, values = _outputs(steps, "bale metrics show")[0].splitlines()
    assert dict(zip(header.split(), values.split(), strict=True))["images"] == "20"

    for stage in ("verify", "exposure", "sort"):
        assert f"Stage '{stage}@01_collection' didn't change, skipping" in second
        assert f"Running stage '{stage}@02_collection'" in second
    assert "Running stage 'report'" in second
    assert "Running stage" not in third and "Data and pipelines are up to date." in third
    status_before = _outputs(steps, "bale status")[1]
    assert "verify@02_collection:" in status_before and "@01_collection" not in status_before


@pytest.mark.parametrize("remote", ["folder", "s3"])
def test_audio_registry_import_transcribe_add_back_update(tmp_path, remote) -> None:
    steps = _run("audio-text-registry/run.sh", *(["--s3"] if remote == "s3" else []),
                 tmp_path=tmp_path)  # fmt: skip
    if remote == "s3":
        assert "bale remote add -d storage s3://examples/audio" in [cmd for cmd, _ in steps]
    listing = _outputs(steps, "bale list -R")[0].split()
    assert {"raw/audio/recording.wav", "raw/text/prompts.txt"} <= set(listing)
    assert "rev_lock:" in _outputs(steps, "cat data/recording.wav.dvc")[0]
    first, second = _outputs(steps, "cat transcripts/recording.txt")
    assert "duration: 2.50 s" in first and "duration: 4.00 s" in second
    assert "recording.txt" in _outputs(steps, "bale list file://")[0].split()
    assert "update available:   raw/audio/recording.wav" in _outputs(steps, "bale status")[-1]
    assert "Running stage 'transcribe'" in _outputs(steps, "bale repro")[-1]
    assert _outputs(steps, "cat first-transcript.txt")[0] == first  # the registry kept it


def test_demo_runs(tmp_path) -> None:
    steps = _run("demo.sh", tmp_path=tmp_path)
    assert _outputs(steps, "cat summary.txt") == ["288", "432"]
    assert "update available" in _outputs(steps, "bale status")[-1]
    catalog = _outputs(steps, "bale catalog --repo")[0]
    assert re.search(r"raw/sensors\s+dataset\s+\S+\s+18\s+Card: sensors, hourly temperatures",
                     catalog)  # fmt: skip
