"""The files of one git commit, read through git, without a working tree.

`GitTree` lists a commit once (`git ls-tree`) and reads files through one
long-lived `git cat-file --batch`, so reading thousands of `.dvc` files is one
process, not thousands. In a partial clone (`--filter=blob:none`) git fetches
a missing blob the first time it is read: only what bale reads is downloaded.
"""

from __future__ import annotations

import subprocess
import threading
from typing import NamedTuple, Protocol

from bale.errors import GitError


class GitFile(NamedTuple):
    path: str  # posix, relative to the tree's top
    isexec: bool
    islink: bool


class FileTree(Protocol):
    """What the readers of a repository need from its files."""

    def files(self) -> dict[str, GitFile]:
        """Every file, by path relative to the top."""
        ...

    def read(self, path: str) -> bytes:
        """One file's bytes.

        Raises:
            FileNotFoundError: there is no such file.
        """
        ...

    def close(self) -> None: ...


def run_git(git_dir: str, *args: str, input: bytes | None = None) -> bytes:
    """`git --git-dir=GIT_DIR ARGS`; the error names git's last line.

    Raises:
        GitError: git failed or is not installed.
    """
    try:
        proc = subprocess.run(
            ["git", f"--git-dir={git_dir}", *args], capture_output=True, input=input, check=False
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed; install git") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {lines[-1] if lines else proc.returncode}")
    return proc.stdout


class GitTree:
    """The files of `commit` in the repository at `git_dir` (a `.git` folder
    or a bare clone)."""

    def __init__(self, git_dir: str, commit: str) -> None:
        self.git_dir = git_dir
        self.commit = commit
        self._files: dict[str, tuple[GitFile, str]] | None = None
        self._batch: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _listing(self) -> dict[str, tuple[GitFile, str]]:
        if self._files is None:
            out = run_git(self.git_dir, "ls-tree", "-r", "-z", "--full-tree", self.commit)
            files: dict[str, tuple[GitFile, str]] = {}
            for item in out.decode("utf-8", "surrogateescape").split("\0"):
                if not item:
                    continue
                meta, _, path = item.partition("\t")
                mode, kind, sha = meta.split()
                if kind == "blob":
                    files[path] = (GitFile(path, mode == "100755", mode == "120000"), sha)
            self._files = files
        return self._files

    def files(self) -> dict[str, GitFile]:
        return {path: entry for path, (entry, _sha) in self._listing().items()}

    def read(self, path: str) -> bytes:
        found = self._listing().get(path)
        if found is None:
            raise FileNotFoundError(path)
        return self._cat(found[1])

    def _cat(self, sha: str) -> bytes:
        with self._lock:
            if self._batch is None:
                self._batch = subprocess.Popen(
                    ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            proc = self._batch
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise GitError(
                    f"git cat-file cannot read {sha} of {self.commit[:8]}: "
                    f"{b' '.join(header).decode(errors='replace') or 'no answer'}; "
                    "check that the source is reachable"
                )
            size = int(header[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after each object
            return data

    def close(self) -> None:
        with self._lock:
            proc, self._batch = self._batch, None
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
