"""The `.gitignore` entries DVC writes for cached outputs."""

from __future__ import annotations

import os

from bale.fsutil import atomic_write
from bale.repo.git import Git

_SPECIAL = set("\\[]!*#?")


def entry_problem(name: str) -> str | None:
    """Why no `.gitignore` line can name `name` exactly, or None: git reads
    the file line by line and has no escape for a line break."""
    if "\n" in name or "\r" in name:
        return "holds a line break, which no .gitignore line can name; rename it"
    return None


def _entry_for(path: str) -> tuple[str, str]:
    """(escaped entry, .gitignore path) for an absolute output path; trailing
    spaces are escaped too, as git would drop them."""
    name = os.path.basename(path)
    entry = "/" + "".join(f"\\{c}" if c in _SPECIAL else c for c in name)
    body = entry.rstrip(" ")
    entry = body + "\\ " * (len(entry) - len(body))
    return entry, os.path.join(os.path.dirname(path), ".gitignore")


def ignore(git: Git, path: str) -> str | None:
    """Add `/<name>` to the parent's .gitignore unless git already ignores it."""
    if git.is_ignored(path):
        return None
    entry, gitignore = _entry_for(path)
    try:
        with open(gitignore, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        text = ""
    if entry + "\n" in text.splitlines(keepends=True):
        return None
    prefix = "" if not text or text.endswith("\n") else "\n"
    atomic_write(gitignore, (text + prefix + entry + "\n").encode("utf-8"), fsync=False)
    return gitignore


def unignore(path: str) -> str | None:
    """Drop the entry; delete the .gitignore if nothing else is left."""
    entry, gitignore = _entry_for(path)
    try:
        with open(gitignore, encoding="utf-8") as fobj:
            lines = fobj.readlines()
    except FileNotFoundError:
        return None
    kept = [line for line in lines if line.strip() != entry]
    if len(kept) == len(lines):
        return None
    if not kept:
        os.unlink(gitignore)
    else:
        atomic_write(gitignore, "".join(kept).encode("utf-8"), fsync=False)
    return gitignore
