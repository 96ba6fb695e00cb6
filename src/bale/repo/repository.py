"""Finding and opening a repository."""

from __future__ import annotations

import os
from functools import cached_property

from bale.errors import NotARepoError, OutsideRepoError
from bale.fsutil import check_utf8_names
from bale.repo.config import Config, load_config
from bale.repo.git import Git, find_git_root
from bale.repo.ignore import IgnoreRules

DVC_DIR = ".dvc"


def find_root(start: str) -> str:
    """The nearest folder at or above `start` holding `.dvc/`.

    Raises:
        NotARepoError: none up to the filesystem root or a mount point.
    """
    path = os.path.abspath(start)
    while True:
        if os.path.isdir(os.path.join(path, DVC_DIR)):
            return path
        parent = os.path.dirname(path)
        if parent == path or os.path.ismount(path):
            raise NotARepoError(start)
        path = parent


class Repo:
    """A repository: its root folder and merged configuration."""

    def __init__(self, root: str, config: Config) -> None:
        self.root = root
        self.config = config

    def __repr__(self) -> str:
        return f"Repo(root={self.root!r})"

    @classmethod
    def open(cls, start: str = ".") -> Repo:
        root = find_root(start)
        return cls(root=root, config=load_config(os.path.join(root, DVC_DIR)))

    @property
    def dvc_dir(self) -> str:
        return os.path.join(self.root, DVC_DIR)

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.dvc_dir, "tmp")

    @cached_property
    def cache_dir(self) -> str:
        return self.config.get("cache", "dir") or os.path.join(self.dvc_dir, "cache")

    @property
    def state_path(self) -> str:
        # bale's own bookkeeping: in .dvc/tmp (git-ignored), where dvc never looks.
        return os.path.join(self.tmp_dir, "bale", "state.db")

    @cached_property
    def link_types(self) -> tuple[str, ...]:
        from bale.repo.schema import parse_link_types

        return parse_link_types("cache.type", self.config.get("cache", "type") or "reflink,copy")

    @cached_property
    def git(self) -> Git | None:
        if self.config.get_bool("core", "no_scm"):
            return None
        git_root = find_git_root(self.root)
        return Git(git_root) if git_root else None

    @cached_property
    def ignore(self) -> IgnoreRules:
        return IgnoreRules(self.root)

    def rel(self, path: str) -> str:
        """`path` relative to the root, posix; must lie inside the root.

        Raises:
            OutsideRepoError: it does not.
            TargetError: its name is not UTF-8.
        """
        absolute = os.path.abspath(path)
        if absolute != self.root and not absolute.startswith(self.root + os.sep):
            raise OutsideRepoError(path, self.root)
        rel = os.path.relpath(absolute, self.root)
        if not rel.isascii():
            check_utf8_names([rel])
        return "" if rel == "." else rel.replace(os.sep, "/")

    def abs(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/")) if rel else self.root
