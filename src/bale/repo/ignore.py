"""`.dvcignore`: gitignore patterns in any folder, read on demand."""

from __future__ import annotations

import os
from collections.abc import Callable

IGNORE_FILE = ".dvcignore"


class IgnoreRules:
    """The `.dvcignore` files of one repository, loaded folder by folder."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._specs: dict[str, object | None] = {}

    def _spec(self, dir_rel: str) -> object | None:
        """The compiled patterns of `dir_rel/.dvcignore`, None if none apply."""
        if dir_rel in self._specs:
            return self._specs[dir_rel]
        spec = None
        try:
            with open(os.path.join(self.root, dir_rel, IGNORE_FILE), encoding="utf-8") as fobj:
                lines = [
                    ln.strip() for ln in fobj if ln.strip() and not ln.lstrip().startswith("#")
                ]
        except (FileNotFoundError, NotADirectoryError):
            lines = []
        if lines:
            import pathspec

            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._specs[dir_rel] = spec
        return spec

    def _chain(self, dir_rel: str) -> list[tuple[str, object]]:
        chain = []
        parts = dir_rel.split("/") if dir_rel else []
        for depth in range(len(parts) + 1):
            base = "/".join(parts[:depth])
            spec = self._spec(base)
            if spec is not None:
                chain.append((base, spec))
        return chain

    def matcher(self, dir_rel: str) -> Callable[[str, bool], bool] | None:
        """A predicate (name, is_dir) -> ignored for entries of `dir_rel`, or None."""
        chain = self._chain(dir_rel)
        if not chain:
            return None

        def ignored(name: str, is_dir: bool) -> bool:
            rel = f"{dir_rel}/{name}" if dir_rel else name
            for base, spec in chain:
                sub = rel[len(base) + 1 :] if base else rel
                if spec.match_file(sub + "/" if is_dir else sub):  # type: ignore[attr-defined]
                    return True
            return False

        return ignored

    def is_ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        parent, _, name = rel.rpartition("/")
        match = self.matcher(parent)
        return bool(match and match(name, is_dir))

    def for_walk(self, prefix: str) -> Callable[[str], Callable[[str, bool], bool] | None]:
        """An `ignore_for` for walking the folder `prefix` (relative to the root)."""
        return lambda rel: self.matcher(f"{prefix}/{rel}".strip("/") if rel else prefix)
