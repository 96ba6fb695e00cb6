"""git through the `git` command: what users have, honouring their setup."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from bale.errors import GitError


def find_git_root(start: str) -> str | None:
    path = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


class Git:
    """A git work tree."""

    def __init__(self, root: str) -> None:
        self.root = root

    def run(self, *args: str, check: bool = True, input: bytes | None = None) -> bytes:
        import subprocess  # here, not at import: most commands never call git

        try:
            proc = subprocess.run(
                ["git", *args], cwd=self.root, capture_output=True, input=input, check=False
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed; install git or run: bale init --no-scm") from exc
        if check and proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
        return proc.stdout

    def tracked(self, paths: Sequence[str]) -> set[str]:
        """Which of `paths` (or files under them) git tracks; returns the given paths."""
        if not paths:
            return set()
        out = self.run("ls-files", "-z", "--", *paths)
        files = [os.path.join(self.root, p) for p in out.decode().split("\0") if p]
        found = set()
        for path in paths:
            absolute = os.path.abspath(path)
            if any(f == absolute or f.startswith(absolute + os.sep) for f in files):
                found.add(path)
        return found

    def is_ignored(self, path: str) -> bool:
        import subprocess

        proc = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", path], cwd=self.root, capture_output=True
        )
        return proc.returncode == 0

    def add(self, paths: Sequence[str]) -> None:
        """Stage these paths: their content, or their deletion if they are gone."""
        existing = [p for p in paths if os.path.exists(p)]
        gone = [p for p in paths if not os.path.exists(p)]
        if existing:
            self.run("add", "--", *existing)
        if gone:
            self.run("rm", "--cached", "-q", "--ignore-unmatch", "--", *gone)


def list_revs(git: Git, *, branches: bool, tags: bool, commits: bool) -> list[str]:
    """Commit ids of all branches / tags / commits, without duplicates, in order."""
    refs: list[str] = []
    if commits:
        refs += git.run("rev-list", "--all").decode().split()
    if branches:
        refs += git.run("for-each-ref", "--format=%(objectname)", "refs/heads").decode().split()
    if tags:
        out = git.run("for-each-ref", "--format=%(objectname)^{commit}", "refs/tags").decode()
        names = out.split()
        if names:
            resolved = git.run("rev-parse", *names, check=False).decode().split()
            refs += resolved
    return list(dict.fromkeys(refs))


def read_files_at(git: Git, rev: str, prefix: str, pick: Callable[[str], bool]) -> dict[str, bytes]:
    """Blobs under `prefix` (relative to the git root) at `rev` whose path `pick` picks."""
    listing = git.run("ls-tree", "-r", "-z", "--full-tree", rev, "--", prefix or ".").decode()
    wanted: list[tuple[str, str]] = []
    for item in listing.split("\0"):
        if not item:
            continue
        meta, _, path = item.partition("\t")
        _mode, kind, sha = meta.split()
        if kind == "blob" and pick(path):
            wanted.append((path, sha))
    if not wanted:
        return {}
    out = git.run("cat-file", "--batch", input="".join(f"{sha}\n" for _, sha in wanted).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for path, _sha in wanted:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        blobs[path] = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return blobs
