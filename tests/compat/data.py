"""Small data sets, tree snapshots and DVC's hashing rules, computed independently of bale."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

UP_TO_DATE = "Data and pipelines are up to date."

# DVC hashes in 1 MiB chunks; the legacy rule looks at the first 512 bytes of each.
CHUNK = 2**20
TEXT_BLOCK = 512
TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"

# Bytes with NUL and CR LF in them: binary, hashed raw under both rules.
BINARY = bytes((i * 7 + 3) % 256 for i in range(3000)) + b"\r\n\x00\r\n"

# What the compatibility tests track, relative to the repository root.
DATASET: dict[str, bytes] = {
    "single.bin": BINARY,
    "crlf.txt": b"hello\r\nworld\r\n",
    "run.sh": b"#!/bin/sh\necho hi\n",
    "data/B.txt": b"upper\n",
    "data/a.txt": b"lower\n",
    "data/sub/deep/b.txt": b"deep\n",
    "data/sub/x y.csv": b"a,b\r\n1,2\r\n",
    "data/ü.txt": "über\n".encode(),
    "sub/deep/x.txt": b"nested target\n",
    "we ird[1].txt": b"brackets\n",
    "daten-ü.csv": "k,v\nü,1\n".encode(),
}
EXECUTABLE = ("run.sh",)
EMPTY_DIRS = ("empty",)
TARGETS = (
    "data",
    "empty",
    "crlf.txt",
    "run.sh",
    "single.bin",
    "sub/deep/x.txt",
    "we ird[1].txt",
    "daten-ü.csv",
)


def md5(data: bytes) -> str:
    """DVC 3 `md5`: the plain md5 of the bytes."""
    return hashlib.md5(data).hexdigest()


def is_text_block(block: bytes) -> bool:
    """DVC's `istextblock`: no NUL, and at most 30% of bytes outside the text set."""
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, TEXT_CHARS)) / len(block) <= 0.30


def md5_dos2unix(data: bytes) -> str:
    """DVC 2's `md5-dos2unix`: CR LF → LF in each 1 MiB chunk whose start looks like text."""
    hasher = hashlib.md5()
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        hasher.update(chunk.replace(b"\r\n", b"\n") if is_text_block(chunk[:TEXT_BLOCK]) else chunk)
    return hasher.hexdigest()


def manifest(entries: Mapping[str, str]) -> bytes:
    """The `.dir` object for {relpath: md5}, as DVC serialises it."""
    items = [{"md5": oid, "relpath": rel} for rel, oid in sorted(entries.items())]
    return json.dumps(items, sort_keys=True).encode("utf-8")


def write_tree(
    root: Path,
    files: Mapping[str, bytes],
    *,
    executable: Iterable[str] = (),
    empty_dirs: Iterable[str] = (),
) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for rel in executable:
        os.chmod(root / rel, 0o755)
    for rel in empty_dirs:
        (root / rel).mkdir(parents=True, exist_ok=True)


def write_dataset(root: Path) -> tuple[str, ...]:
    """Write DATASET into `root` and return the targets to add."""
    write_tree(root, DATASET, executable=EXECUTABLE, empty_dirs=EMPTY_DIRS)
    return TARGETS


def remove_outputs(root: Path, targets: Iterable[str]) -> None:
    """Delete tracked data from the workspace, as a user would with rm -rf."""
    for rel in targets:
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def snapshot(root: Path, *, exec_bits: bool = True) -> dict[str, object]:
    """Everything in the workspace outside `.git`/`.dvc`: dirs, and file bytes (+ exec bit).

    Links are followed: a hardlinked, symlinked or copied file reads the same.
    """
    tree: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".dvc")]
        base = Path(dirpath)
        for name in dirnames:
            tree[(base / name).relative_to(root).as_posix()] = "dir"
        for name in filenames:
            path = base / name
            rel = path.relative_to(root).as_posix()
            data = path.read_bytes()
            if exec_bits:
                tree[rel] = (data, bool(path.stat().st_mode & stat.S_IXUSR))
            else:
                tree[rel] = data
    return tree


def cache_tree(cache: Path) -> dict[str, tuple[bytes, int]]:
    """Every object in a cache: relative path → (bytes, permission bits).

    Leaves out `.<random>.tmp` files: `dvc add -o` leaves such copies behind.
    """
    tree = {}
    for path in sorted(cache.rglob("*")):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        if path.is_file():
            tree[path.relative_to(cache).as_posix()] = (
                path.read_bytes(),
                stat.S_IMODE(path.stat().st_mode),
            )
    return tree


def metadata_files(root: Path) -> dict[str, bytes]:
    """The small files both tools write for git: `.dvc` files, `.gitignore`s, config."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        inside_dvc = Path(dirpath).name == ".dvc"
        dirnames[:] = [
            d for d in dirnames if d != ".git" and not (inside_dvc and d in ("cache", "tmp"))
        ]
        for name in filenames:
            path = Path(dirpath) / name
            if inside_dvc or name.endswith(".dvc") or name in (".gitignore", ".dvcignore"):
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def assert_same_files(
    got: Mapping[str, bytes], want: Mapping[str, bytes], *, labels: tuple[str, str]
) -> None:
    """`got` == `want`, failing with a unified diff per differing file (`labels`: got, want)."""
    problems = []
    for rel in sorted(set(got) | set(want)):
        ours, theirs = got.get(rel), want.get(rel)
        if ours == theirs:
            continue
        if ours is None or theirs is None:
            problems.append(f"{rel}: only in {labels[0] if theirs is None else labels[1]}")
            continue
        diff = "".join(
            difflib.unified_diff(
                theirs.decode("utf-8", "replace").splitlines(keepends=True),
                ours.decode("utf-8", "replace").splitlines(keepends=True),
                f"{labels[1]}/{rel}",
                f"{labels[0]}/{rel}",
            )
        )
        problems.append(diff or f"{rel}: {labels[0]} {ours!r} != {labels[1]} {theirs!r}")
    assert not problems, "\n".join(problems)


def assert_up_to_date(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == UP_TO_DATE, proc.stdout + proc.stderr


def status_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def status_blocks(text: str) -> list[tuple[str, ...]]:
    """Human `status` output as a sorted list of per-file blocks, whitespace-normalised.

    dvc prints the blocks in no fixed order, and aligns columns with tabs and spaces.
    """
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            blocks.append([])
        if not blocks:
            blocks.append([])
        blocks[-1].append(" ".join(line.split()))
    return sorted(tuple(b) for b in blocks)


def cache_path(root: Path, oid: str, *, legacy: bool = False) -> Path:
    base = root / ".dvc" / "cache"
    if not legacy:
        base = base / "files" / "md5"
    return base / oid[:2] / oid[2:]


# A DVC 2.x repository, written by hand: `.dvc` files without `hash: md5`, objects in the
# legacy cache layout named by their dos2unix md5. The first chunk of `big.txt` is CR LF
# text and the second is binary, so only the first chunk is converted.
LEGACY_FILES: dict[str, bytes] = {
    "crlf.txt": b"hello\r\nworld\r\n",
    "blob.bin": BINARY,
    "big.txt": b"line of text\r\n" * (CHUNK // 14 + 1) + b"\x00tail\r\n" * 64,
    "data/B.txt": b"one\r\ntwo\r\n",
    "data/a.txt": b"lf only\n",
    "data/sub/c.txt": b"x\r\ny\r\n",
    "data/ü.txt": "über\r\n".encode(),
}
# A DVC 3 entry in the same repository (mixed state).
MODERN_FILES: dict[str, bytes] = {"modern.txt": b"new\r\nstyle\r\n"}
LEGACY_TARGETS = ("crlf.txt", "blob.bin", "big.txt", "data", "modern.txt")

DVC_SKELETON: dict[str, bytes] = {
    ".dvc/config": b"",
    ".dvc/.gitignore": b"/config.local\n/tmp\n/cache\n",
    ".dvcignore": b"# Add patterns of files dvc should ignore, which could improve\n"
    b"# the performance. Learn more at\n"
    b"# https://dvc.org/doc/user-guide/dvcignore\n",
}


def _store(root: Path, oid: str, content: bytes, *, legacy: bool) -> None:
    path = cache_path(root, oid, legacy=legacy)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.chmod(path, 0o444)


def write_legacy_repo(root: Path) -> tuple[str, ...]:
    """Write a DVC 2.x-style repository (workspace, `.dvc` files, cache) into `root`.

    Returns the tracked targets. `root` must already be a git repository.
    """
    write_tree(root, DVC_SKELETON)
    write_tree(root, LEGACY_FILES)
    write_tree(root, MODERN_FILES)
    ignored = []
    for rel in ("crlf.txt", "blob.bin", "big.txt"):
        content = LEGACY_FILES[rel]
        oid = md5_dos2unix(content)
        _store(root, oid, content, legacy=True)
        (root / f"{rel}.dvc").write_text(
            f"outs:\n- md5: {oid}\n  size: {len(content)}\n  path: {rel}\n", encoding="utf-8"
        )
        ignored.append(rel)
    entries = {}
    for rel, content in LEGACY_FILES.items():
        if rel.startswith("data/"):
            oid = md5_dos2unix(content)
            _store(root, oid, content, legacy=True)
            entries[rel.removeprefix("data/")] = oid
    tree = manifest(entries)
    tree_oid = md5(tree) + ".dir"
    _store(root, tree_oid, tree, legacy=True)
    size = sum(len(c) for r, c in LEGACY_FILES.items() if r.startswith("data/"))
    (root / "data.dvc").write_text(
        f"outs:\n- md5: {tree_oid}\n  size: {size}\n  nfiles: {len(entries)}\n  path: data\n",
        encoding="utf-8",
    )
    ignored.append("data")
    content = MODERN_FILES["modern.txt"]
    _store(root, md5(content), content, legacy=False)
    (root / "modern.txt.dvc").write_text(
        f"outs:\n- md5: {md5(content)}\n  size: {len(content)}\n  hash: md5\n  path: modern.txt\n",
        encoding="utf-8",
    )
    ignored.append("modern.txt")
    (root / ".gitignore").write_text("".join(f"/{rel}\n" for rel in ignored), encoding="utf-8")
    return LEGACY_TARGETS
