"""A registry with two tagged revisions, built once per session by the real
`bale` and `git`, with its data pushed to a folder remote; tests read it and
never change it (each damages copies only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import isolated_vars

BIG = 3 * (1 << 20) + 12345  # a file of several read chunks
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    params:
    - train.epochs
    - train.lr
    metrics:
    - metrics.json:
        cache: false
artifacts:
  classifier:
    path: models/model.bin
    type: model
    desc: the image classifier
"""


class Registry(NamedTuple):
    path: Path  # the working tree (its cache holds everything)
    bare: Path  # a bare clone: no cache, so data comes from the remote
    remote: Path  # the folder remote
    env: dict[str, str]
    v1: str
    v2: str


def run(env: dict[str, str], *args: str | os.PathLike, cwd: Path) -> str:
    proc = subprocess.run([*map(str, args)], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def bale_exe() -> list[str]:
    exe = shutil.which("bale", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "bale"]


def tag(env: dict[str, str], repo: Path, name: str, commit: str, when: int) -> None:
    """An annotated tag as GTO makes one, at a fixed time (GTO orders by it)."""
    stamp = {"GIT_COMMITTER_DATE": f"{when} +0000"}
    run({**env, **stamp}, "git", "tag", "-a", name, "-m", f"bale test {name}", commit, cwd=repo)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    base = tmp_path_factory.mktemp("api-registry")
    home = base / "home"
    home.mkdir()
    env = {**os.environ, **isolated_vars(home)}
    reg, remote = base / "registry", base / "store"
    bale = bale_exe()
    run(env, "git", "init", "-q", "-b", "main", reg, cwd=base)
    run(env, *bale, "init", "-q", cwd=reg)
    run(env, *bale, "remote", "add", "-d", "store", remote, cwd=reg)
    images = reg / "data" / "images"
    images.mkdir(parents=True)
    for i in range(30):
        (images / f"{i:03}.txt").write_text(f"image {i}\n")
    (images / "sub").mkdir()
    (images / "sub" / "deep.txt").write_text("deep\n")
    (reg / "data" / "table.csv").write_text("name,size\nalpha,1\nbeta,2\n")
    _parquet(reg / "data" / "table.parquet", rows=1000)
    (reg / "models").mkdir()
    (reg / "models" / "model.bin").write_bytes(os.urandom(BIG))
    (reg / "params.yaml").write_text("train:\n  epochs: 10\n  lr: 0.1\nunused: 1\n")
    (reg / "metrics.json").write_text(json.dumps({"accuracy": 0.9, "loss": 0.3}))
    (reg / "dvc.yaml").write_text(DVC_YAML)
    (reg / "notes.md").write_text("a git file\n")
    run(env, *bale, "add", "-q", "data/images", "data/table.csv", "data/table.parquet",
        "models/model.bin", cwd=reg)  # fmt: skip
    run(env, "git", "add", "-A", cwd=reg)
    run(env, "git", "commit", "-qm", "v1", cwd=reg)
    v1 = run(env, "git", "rev-parse", "HEAD", cwd=reg).strip()
    (images / "000.txt").write_text("image 0, relabelled\n")
    (images / "new.txt").write_text("a new image\n")
    (reg / "models" / "model.bin").write_bytes(os.urandom(BIG))
    (reg / "params.yaml").write_text("train:\n  epochs: 20\n  lr: 0.1\nunused: 1\n")
    (reg / "metrics.json").write_text(json.dumps({"accuracy": 0.95, "loss": 0.2}))
    run(env, *bale, "add", "-q", "data/images", "models/model.bin", cwd=reg)
    run(env, "git", "add", "-A", cwd=reg)
    run(env, "git", "commit", "-qm", "v2", cwd=reg)
    v2 = run(env, "git", "rev-parse", "HEAD", cwd=reg).strip()
    run(env, "git", "tag", "v1", v1, cwd=reg)
    run(env, "git", "tag", "v2", v2, cwd=reg)
    tag(env, reg, "classifier@v1.0.0", v1, 1_700_000_000)
    tag(env, reg, "classifier#prod#1", v1, 1_700_000_100)
    tag(env, reg, "classifier@v1.1.0", v2, 1_700_000_200)
    tag(env, reg, "classifier#staging#2", v2, 1_700_000_300)
    run(env, *bale, "push", "-q", "-A", cwd=reg)
    bare = base / "registry.git"
    run(env, "git", "clone", "-q", "--bare", reg, bare, cwd=base)
    for path in remote.rglob("*"):  # lets tests copy the remote and damage the copy
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Registry(reg, bare, remote, env, v1, v2)


def _parquet(path: Path, *, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(rows)), "name": [f"row {i}" for i in range(rows)]})
    pq.write_table(table, path, row_group_size=250)


def dvc_python() -> str:
    """The Python of the real dvc's virtualenv (beside the dvc it runs)."""
    exe = os.environ.get("BALE_TEST_DVC") or str(
        Path(__file__).resolve().parents[2] / ".venv-dvc" / "bin" / "dvc"
    )
    python = Path(exe).parent / "python"
    if not python.exists():
        pytest.fail(f"dvc's Python not found at {python}; run: make dvc-venv")
    return str(python)


def dvc_api(registry: Registry, code: str, cwd: Path) -> object:
    """What `code` (an expression over `dvc.api`) gives, run by the real dvc, as JSON."""
    program = f"import json, dvc.api\nprint(json.dumps({code}))"
    out = run(registry.env, dvc_python(), "-c", program, cwd=cwd)
    return json.loads(out.strip().splitlines()[-1])
