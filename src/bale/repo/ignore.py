"""`.dvcignore`: gitignore patterns in any folder, read on demand."""

from __future__ import annotations

import os
from collections.abc import Callable

from bale.errors import IgnoreFileError

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
        # Per folder: its patterns rebased to the root, and where each came
        # from (`sub/.dvcignore:3:pattern`), to name the line that matched.
        self._lines: dict[str, tuple[list[str], list[str]]] = {}
        self._specs: dict[tuple[str, ...], tuple[object, list[str]]] = {}

    def _file_lines(self, dir_rel: str) -> tuple[list[str], list[str]]:
        """The patterns of `dir_rel/.dvcignore`, rebased to the root, and their origins."""
        if dir_rel not in self._lines:
            name = f"{dir_rel}/{IGNORE_FILE}" if dir_rel else IGNORE_FILE
            try:
                with open(os.path.join(self.root, dir_rel, IGNORE_FILE), encoding="utf-8") as f:
                    raw = [ln.strip() for ln in f]
            except (FileNotFoundError, NotADirectoryError):
                raw = []
            except UnicodeDecodeError as exc:
                raise IgnoreFileError(name, 0, "not UTF-8 text") from exc
            kept = [(i, ln) for i, ln in enumerate(raw, 1) if ln and not ln.startswith("#")]
            self._lines[dir_rel] = (
                [rebase(ln, dir_rel) for _, ln in kept],
                [f"{name}:{i}:{ln}" for i, ln in kept],
            )
        return self._lines[dir_rel]

    def _spec_for(self, dir_rel: str) -> tuple[object, list[str]] | None:
        """One spec from every `.dvcignore` from the root down to `dir_rel`, in
        order, so a deeper `!pattern` can re-include what a higher one ignored;
        with the origin of each of its patterns."""
        parts = dir_rel.split("/") if dir_rel else []
        bases = tuple(
            base
            for base in ("/".join(parts[:depth]) for depth in range(len(parts) + 1))
            if self._file_lines(base)[0]
        )
        if not bases:
            return None
        if bases not in self._specs:
            lines = [ln for base in bases for ln in self._file_lines(base)[0]]
            origins = [o for base in bases for o in self._file_lines(base)[1]]
            self._specs[bases] = (_compile(lines, origins), origins)
        return self._specs[bases]

    def matcher(self, dir_rel: str) -> Callable[[str, bool], bool] | None:
        """A predicate (name, is_dir) -> ignored for entries of `dir_rel`, or None."""
        found = self._spec_for(dir_rel)
        if found is None:
            return None
        spec = found[0]
        prefix = f"{dir_rel}/" if dir_rel else ""

        def ignored(name: str, is_dir: bool) -> bool:
            rel = prefix + name
            return bool(spec.match_file(rel + "/" if is_dir else rel))  # type: ignore[attr-defined]

        return ignored

    def ignored_by(self, rel: str, *, is_dir: bool = False) -> str | None:
        """The `.dvcignore` line that ignores `rel` (`.dvcignore:1:data`), or None.

        `rel` is matched whole against the rules of its folder, so a path
        inside an ignored folder is ignored too, as git and dvc read it.
        """
        found = self._spec_for(rel.rpartition("/")[0])
        if found is None:
            return None
        spec, origins = found
        result = spec.check_file(rel + "/" if is_dir else rel)  # type: ignore[attr-defined]
        return origins[result.index] if result.include else None

    def for_walk(self, prefix: str) -> Callable[[str], Callable[[str, bool], bool] | None]:
        """An `ignore_for` for walking the folder `prefix` (relative to the root)."""
        return lambda rel: self.matcher(f"{prefix}/{rel}".strip("/") if rel else prefix)


def _compile(lines: list[str], origins: list[str]) -> object:
    """A gitignore spec of `lines`.

    Raises:
        IgnoreFileError: a line is not a valid pattern (named with its file and number).
    """
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # pathspec's pattern errors subclass ValueError
        for line, origin in zip(lines, origins, strict=True):
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except ValueError as exc:
                where, number, text = origin.split(":", 2)
                raise IgnoreFileError(
                    where, int(number), f"{text!r} is not a valid pattern"
                ) from exc
        raise
