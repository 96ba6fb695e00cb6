"""The `dvc` fixture's forked dvc (tests/fixtures/dvc_forks.py) prints, writes
and exits as a new dvc process does, and starts one where it could not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.util import write_tree

pytestmark = pytest.mark.dvc

PIPELINE = {
    "dvc.yaml": "stages:\n  prep:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
    "    params: [lr]\n    outs: [out.txt]\n  train:\n    cmd: echo\n    deps: [out.txt]\n"
    "    metrics: [{m.json: {cache: false}}]\n",
    "params.yaml": "lr: 0.1\n",
    "m.json": '{"acc": 0.5}',
    "in.txt": "hi\n",
}
COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["stage", "list"],
    ["dag"],
    ["params", "diff", "--all"],
    ["metrics", "show", "--json"],
    ["stage", "list", "nosuch"],
    ["nosuch"],
]


@pytest.fixture
def forks(dvc_forks):
    if dvc_forks is None:
        pytest.skip("BALE_TEST_DVC_FORKS=0")
    return dvc_forks


@pytest.fixture
def pipeline(repo: Path, git) -> Path:
    write_tree(repo, PIPELINE)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "pipeline", cwd=repo)
    (repo / "params.yaml").write_text("lr: 0.2\n")
    return repo


def new_process(dvc_exe: str, args: list[str], cwd: Path, env=None):
    return subprocess.run([dvc_exe, *args], cwd=cwd, capture_output=True, text=True, env=env)


def same(a: subprocess.CompletedProcess, b: subprocess.CompletedProcess, *, key=str) -> None:
    assert (a.returncode, key(a.stdout), a.stderr) == (b.returncode, key(b.stdout), b.stderr), (
        a.args
    )


def words(text: str) -> list[str]:
    """dvc names the files to `git add` in a set's order: one str hash seed a process."""
    return sorted(text.split())


def test_a_forked_dvc_prints_and_exits_as_a_new_process(pipeline: Path, tmp_path, forks, dvc_exe):
    for args in COMMANDS:
        same(forks.run(args, cwd=pipeline), new_process(dvc_exe, args, pipeline))
    outside = tmp_path / "outside"
    outside.mkdir()
    same(forks.run(["status"], cwd=outside), new_process(dvc_exe, ["status"], outside))


def test_a_forked_dvc_writes_what_a_new_process_writes(tmp_path: Path, git, bale, forks, dvc_exe):
    roots = []
    for name in ("forked", "new"):
        root = tmp_path / name
        root.mkdir()
        git("init", "-q", "-b", "main", cwd=root)
        bale("init", "-q", cwd=root)
        write_tree(root, PIPELINE)
        roots.append(root)
    for args in (["repro"], ["add", "params.yaml"], ["status"], ["gc", "-w", "-f"]):
        same(forks.run(args, cwd=roots[0]), new_process(dvc_exe, args, roots[1]), key=words)
    for rel in ("dvc.lock", "out.txt", "params.yaml.dvc", ".gitignore"):
        assert (roots[0] / rel).read_bytes() == (roots[1] / rel).read_bytes(), rel


def test_what_could_change_a_start_up_gets_a_new_process(pipeline: Path, forks, dvc_exe):
    log = forks.log.read_text()
    env = {**os.environ, "SOME_LIBRARY_SETTING": "1"}
    same(forks.run(["status"], cwd=pipeline, env=env), new_process(dvc_exe, ["status"], pipeline))
    credentials = Path(os.environ["HOME"]) / ".git-credentials"
    credentials.write_text("")
    same(forks.run(["status"], cwd=pipeline), new_process(dvc_exe, ["status"], pipeline))
    credentials.unlink()
    old = os.umask(0o077)
    try:
        same(forks.run(["status"], cwd=pipeline), new_process(dvc_exe, ["status"], pipeline))
    finally:
        os.umask(old)
    added = forks.log.read_text()[len(log) :].splitlines()
    assert [line.split(": ", 2)[2] for line in added] == [
        "$SOME_LIBRARY_SETTING differs",
        f"{credentials} exists",
        "another umask",
    ]
