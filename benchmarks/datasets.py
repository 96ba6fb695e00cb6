"""Deterministic benchmark data: the same bytes on every machine and every run.

Each dataset is a list of (relative path, size) drawn from a seeded
`random.Random`, and file contents come from one seeded stream, so two runs
with the same spec write identical trees. Contents are random (incompressible)
and distinct, so no tool gains from deduplication.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB

# Bump when the layout or contents of any dataset change, so old trees are rebuilt.
FORMAT_VERSION = 1

Layout = list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named, seeded dataset; `kind` chooses which targets of issue 4 apply."""

    name: str
    kind: str  # "small-files" or "large-files"
    shape: str  # which layout function builds it
    count: int
    size: int  # file size for "large"; unused otherwise
    seed: int

    @property
    def dirname(self) -> str:
        """Folder name under the work directory's `data/`, unique per spec."""
        return f"{self.name}-{self.count}"

    def layout(self) -> Layout:
        """The (path, size) of every file, in creation order."""
        return _SHAPES[self.shape](self)

    def total_bytes(self) -> int:
        return sum(size for _, size in self.layout())

    def describe(self) -> str:
        """A one-line human description: file count and total size."""
        files = self.layout()
        total = sum(size for _, size in files)
        folders = len({os.path.dirname(path) for path, _ in files})
        where = f" in {folders} folders" if folders > 1 else ""
        return f"{len(files):,} files{where}, {_human(total)}"


def _small_layout(ds: Dataset) -> Layout:
    """Files of 1–16 KiB spread over 100 folders."""
    rng = random.Random(ds.seed)
    return [
        (f"d{i % 100:02d}/f{i:06d}.bin", rng.randint(1 * KiB, 16 * KiB)) for i in range(ds.count)
    ]


def _large_layout(ds: Dataset) -> Layout:
    """A few files of `ds.size` bytes each."""
    return [(f"large_{i}.bin", ds.size) for i in range(ds.count)]


def _images_layout(ds: Dataset) -> Layout:
    """Image-like files of 20 KiB–2 MiB (log-uniform) in nested collections."""
    rng = random.Random(ds.seed)
    lo, hi = math.log(20 * KiB), math.log(2 * MiB)
    files = []
    for i in range(ds.count):
        folder = f"collection_{i % 8:02d}/class_{rng.randrange(10)}"
        if i % 5 == 0:
            folder += "/augmented"
        ext = "png" if rng.random() < 0.3 else "jpg"
        files.append((f"{folder}/img_{i:05d}.{ext}", int(math.exp(rng.uniform(lo, hi)))))
    return files


_SHAPES: dict[str, Callable[[Dataset], Layout]] = {
    "small": _small_layout,
    "large": _large_layout,
    "images": _images_layout,
}

_MAGIC = {".jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ".png": b"\x89PNG\r\n\x1a\n"}


def catalog(*, quick: bool) -> dict[str, Dataset]:
    """The datasets of issue 4; `quick` shrinks them to finish in minutes."""
    if quick:
        return {
            "small": Dataset("small", "small-files", "small", 2_000, 0, 1),
            "small100k": Dataset("small100k", "small-files", "small", 10_000, 0, 2),
            "large": Dataset("large", "large-files", "large", 2, 64 * MiB, 3),
            "images": Dataset("images", "small-files", "images", 250, 0, 4),
        }
    return {
        "small": Dataset("small", "small-files", "small", 20_000, 0, 1),
        "small100k": Dataset("small100k", "small-files", "small", 100_000, 0, 2),
        "large": Dataset("large", "large-files", "large", 4, 256 * MiB, 3),
        "images": Dataset("images", "small-files", "images", 2_500, 0, 4),
    }


def ensure(ds: Dataset, data_dir: Path) -> Path:
    """Generate `ds` under `data_dir` unless an identical tree is already there.

    The tree is written under a temporary name and renamed when complete, and a
    marker file records its spec, so an interrupted run never leaves a partial
    tree that a later run would trust.
    """
    root = data_dir / ds.dirname
    marker = data_dir / f"{ds.dirname}.json"
    spec = {"format": FORMAT_VERSION, **asdict(ds)}
    if root.is_dir() and marker.is_file() and json.loads(marker.read_text()) == spec:
        return root
    shutil.rmtree(root, ignore_errors=True)
    marker.unlink(missing_ok=True)
    tmp = data_dir / f"{ds.dirname}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    _write_tree(tmp, ds.layout(), random.Random(ds.seed * 1_000_003 + 17))
    tmp.rename(root)
    marker.write_text(json.dumps(spec, indent=1) + "\n")
    return root


def _write_tree(root: Path, files: Layout, rng: random.Random) -> None:
    """Write every file of `files` under `root` with bytes from `rng`."""
    made: set[str] = set()
    for rel, size in files:
        parent = os.path.dirname(rel)
        if parent not in made:
            (root / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        head = _MAGIC.get(os.path.splitext(rel)[1], b"")
        with open(root / rel, "wb") as f:
            f.write(head)
            left = size - len(head)
            while left > 0:
                chunk = min(left, 8 * MiB)
                f.write(rng.randbytes(chunk))
                left -= chunk


def _human(n: int) -> str:
    """Bytes as MB/GB (decimal, as `du --si` and issue 4 count them)."""
    if n >= 10**9:
        return f"{n / 10**9:.2f} GB"
    return f"{n / 10**6:.0f} MB"
