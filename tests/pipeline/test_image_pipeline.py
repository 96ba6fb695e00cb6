"""The image registry's pipeline end to end: collections imported from a
registry, unreadable images dropped (Pillow), too dark or too bright ones
dropped by thresholds in params.yaml, the rest sorted into folders; repro
reruns only what each change reaches, and dvc agrees with every step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.util import write_tree
from tests.pipeline.test_repro import ran

pytestmark = pytest.mark.dvc
Image = pytest.importorskip("PIL.Image")

READABLE = """\
import pathlib, shutil, sys
from PIL import Image
out = pathlib.Path("readable")
out.mkdir()
for path in sorted(pathlib.Path("raw").rglob("*.png")):
    try:
        with Image.open(path) as im:
            im.verify()
    except Exception:
        continue
    shutil.copy(path, out / f"{path.parent.name}-{path.name}")
"""
EXPOSURE = """\
import pathlib, shutil, yaml
from PIL import Image, ImageStat
p = yaml.safe_load(open("params.yaml"))["exposure"]
out = pathlib.Path("exposed")
out.mkdir()
for path in sorted(pathlib.Path("readable").iterdir()):
    with Image.open(path) as im:
        mean = ImageStat.Stat(im.convert("L")).mean[0]
    if p["dark"] <= mean <= p["bright"]:
        shutil.copy(path, out / path.name)
"""
SORT = """\
import pathlib, shutil
from PIL import Image
for path in sorted(pathlib.Path("exposed").iterdir()):
    with Image.open(path) as im:
        kind = "wide" if im.width > im.height else "tall"
    (pathlib.Path("sorted") / kind).mkdir(parents=True, exist_ok=True)
    shutil.copy(path, pathlib.Path("sorted") / kind / path.name)
with open("seen.log", "a") as log:
    log.write(" ".join(sorted(p.name for p in pathlib.Path("exposed").iterdir())) + "\\n")
"""


def image(path: Path, size: tuple[int, int], level: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, level).save(path)


def pipeline(python: str) -> str:
    return f"""\
stages:
  readable:
    cmd: {python} scripts/readable.py
    deps: [raw, scripts/readable.py]
    outs: [readable]
  exposure:
    cmd: {python} scripts/exposure.py
    deps: [readable, scripts/exposure.py]
    params: [exposure.dark, exposure.bright]
    outs: [exposed]
  sort:
    cmd: {python} scripts/sort.py
    deps: [exposed, scripts/sort.py]
    outs:
    - sorted
    - seen.log:
        persist: true
  logo:
    cmd: cp logo.txt banner.txt
    deps: [logo.txt]
    outs: [banner.txt]
"""


def test_an_image_registry_pipeline_reruns_only_what_each_change_reaches(
    tmp_path: Path, bale, dvc, git
):
    registry = tmp_path / "registry"
    registry.mkdir()
    git("init", "-q", "-b", "main", cwd=registry)
    bale("init", "-q", cwd=registry)
    image(registry / "c1" / "ok-wide.png", (8, 4), 128)
    image(registry / "c1" / "dark.png", (4, 8), 5)
    (registry / "c1" / "broken.png").write_bytes(b"\x89PNG not really")
    image(registry / "c2" / "ok-tall.png", (4, 8), 120)
    image(registry / "c2" / "bright.png", (8, 4), 250)
    bale("add", "-q", "c1", "c2", cwd=registry)
    git("add", "-A", cwd=registry)
    git("commit", "-qm", "two collections", cwd=registry)

    root = tmp_path / "project"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {
        "scripts/readable.py": READABLE, "scripts/exposure.py": EXPOSURE,
        "scripts/sort.py": SORT, "logo.txt": "logo\n",
        "params.yaml": "exposure:\n  dark: 20\n  bright: 230\n",
        "dvc.yaml": pipeline(sys.executable),
    })  # fmt: skip
    (root / "raw").mkdir()
    bale("import", "-q", str(registry), "c1", "-o", "raw/c1", cwd=root)
    assert ran(bale("repro", cwd=root)) == ["readable", "exposure", "sort", "logo"]
    assert sorted(p.name for p in (root / "sorted").rglob("*.png")) == ["c1-ok-wide.png"]
    assert "up to date" in dvc("status", cwd=root).stdout

    bale("import", "-q", str(registry), "c2", "-o", "raw/c2", cwd=root)  # a second collection
    assert ran(bale("repro", cwd=root)) == ["readable", "exposure", "sort"]
    assert sorted(p.name for p in (root / "sorted").rglob("*.png")) == [
        "c1-ok-wide.png", "c2-ok-tall.png",
    ]  # fmt: skip
    assert (root / "seen.log").read_text().count("\n") == 2  # persist: appended, not replaced

    (root / "params.yaml").write_text("exposure:\n  dark: 20\n  bright: 255\n")
    status = json.loads(bale("status", "--json", cwd=root).stdout)
    assert status == json.loads(dvc("status", "--json", cwd=root).stdout)
    changed = {"params.yaml": {"exposure.bright": "modified"}}
    assert status == {"exposure": [{"changed deps": changed}]}
    assert ran(bale("repro", cwd=root)) == ["exposure", "sort"]
    assert (root / "sorted" / "wide" / "c2-bright.png").exists()
    assert ran(dvc("repro", cwd=root)) == []
    assert bale("status", cwd=root).stdout.strip() == "Data and pipelines are up to date."
