"""`.dvcignore`: gitignore patterns in any folder, read on demand."""

from __future__ import annotations

import os
from collections.abc import Callable

IGNORE_FILE = ".dvcignore"


def rebase(pattern: str, base: str) -> str:
    """A `.dvcignore` line from folder `base`, rewritten relative to the root,
    so the files of a chain merge into one spec as DVC merges them."""
    if not base:
        return pattern
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    trailing = body.endswith("/") and body != "/"
    core = body[:-1] if trailing else body
    # gitignore: a pattern with an inner or leading slash is relative to its
    # file's folder; one without matches at any depth below it.
    rebased = f"{base}/{core.lstrip('/')}" if "/" in core else f"{base}/**/{core}"
    return ("!" if negate else "") + rebased + ("/" if trailing else "")


class IgnoreRules:
    """The `.dvcignore` files of one repository, loaded folder by folder."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._lines: dict[str, list[str]] = {}
        self._specs: dict[tuple[str, ...], object] = {}

    def _file_lines(self, dir_rel: str) -> list[str]:
        """The patterns of `dir_rel/.dvcignore`, rebased to the root."""
        if dir_rel not in self._lines:
            try:
                with open(os.path.join(self.root, dir_rel, IGNORE_FILE), encoding="utf-8") as f:
                    raw = [ln.strip() for ln in f]
            except (FileNotFoundError, NotADirectoryError):
                raw = []
            self._lines[dir_rel] = [
                rebase(ln, dir_rel) for ln in raw if ln and not ln.startswith("#")
            ]
        return self._lines[dir_rel]

    def _spec_for(self, dir_rel: str) -> object | None:
        """One spec from every `.dvcignore` from the root down to `dir_rel`, in
        order, so a deeper `!pattern` can re-include what a higher one ignored."""
        parts = dir_rel.split("/") if dir_rel else []
        bases = tuple(
            base
            for base in ("/".join(parts[:depth]) for depth in range(len(parts) + 1))
            if self._file_lines(base)
        )
        if not bases:
            return None
        if bases not in self._specs:
            import pathspec

            lines = [ln for base in bases for ln in self._file_lines(base)]
            self._specs[bases] = pathspec.GitIgnoreSpec.from_lines(lines)
        return self._specs[bases]

    def matcher(self, dir_rel: str) -> Callable[[str, bool], bool] | None:
        """A predicate (name, is_dir) -> ignored for entries of `dir_rel`, or None."""
        spec = self._spec_for(dir_rel)
        if spec is None:
            return None
        prefix = f"{dir_rel}/" if dir_rel else ""

        def ignored(name: str, is_dir: bool) -> bool:
            rel = prefix + name
            return bool(spec.match_file(rel + "/" if is_dir else rel))  # type: ignore[attr-defined]

        return ignored

    def is_ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        parent, _, name = rel.rpartition("/")
        match = self.matcher(parent)
        return bool(match and match(name, is_dir))

    def for_walk(self, prefix: str) -> Callable[[str], Callable[[str, bool], bool] | None]:
        """An `ignore_for` for walking the folder `prefix` (relative to the root)."""
        return lambda rel: self.matcher(f"{prefix}/{rel}".strip("/") if rel else prefix)
