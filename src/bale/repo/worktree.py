"""The files of a working tree on disk, as a `FileTree`.

What git would commit: its tracked files that still exist and untracked ones
it does not ignore (so `.dvc` files are in, the outputs they name are out,
since `add` ignores them). Without git, every file but `.git/` and `.dvc/`'s
own state.
"""

from __future__ import annotations

import os
import stat
import subprocess

from bale.errors import GitError
from bale.repo.git import find_git_root
from bale.repo.gittree import GitFile


def _git_message(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no message"


_STATE = (".dvc/cache/", ".dvc/tmp/")  # in `.dvc/` but not the repository's files


class WorkTree:
    """The working tree under `top` (a git top level, or any folder)."""

    def __init__(self, top: str) -> None:
        self.top = os.path.abspath(top)
        self._files: dict[str, GitFile] | None = None

    def _names(self) -> list[str]:
        if find_git_root(self.top) is None:
            return self._walk()
        proc = subprocess.run(
            ["git", "-C", self.top, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise GitError(f"git ls-files failed in {self.top}: {_git_message(proc.stderr)}")
        out = proc.stdout
        return sorted({name for name in out.decode("utf-8", "surrogateescape").split("\0") if name})

    def _walk(self) -> list[str]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.top):
            rel = os.path.relpath(dirpath, self.top).replace(os.sep, "/")
            rel = "" if rel == "." else rel + "/"
            dirnames[:] = [d for d in dirnames if rel + d != ".git"]
            found += [rel + name for name in filenames]
        return sorted(found)

    def files(self) -> dict[str, GitFile]:
        if self._files is None:
            files: dict[str, GitFile] = {}
            for name in self._names():
                if name.startswith(_STATE):
                    continue
                try:
                    sres = os.lstat(os.path.join(self.top, name))
                except OSError:
                    continue  # deleted since git last saw it
                if stat.S_ISREG(sres.st_mode) or stat.S_ISLNK(sres.st_mode):
                    files[name] = GitFile(name, bool(sres.st_mode & 0o100),
                                          stat.S_ISLNK(sres.st_mode))  # fmt: skip
            self._files = files
        return self._files

    def read(self, path: str) -> bytes:
        if path not in self.files():
            raise FileNotFoundError(path)
        full = os.path.join(self.top, path)
        if os.path.islink(full):
            return os.readlink(full).encode("utf-8", "surrogateescape")  # as git stores it
        with open(full, "rb") as fobj:
            return fobj.read()

    def close(self) -> None:
        pass
