"""Printing helpers shared by commands: progress bars and summaries."""

from __future__ import annotations

import sys
from typing import Any


class BarProgress:
    """A rich progress bar on stderr, drawn only on a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def start(self, desc: str, total: int | None) -> None:
        from rich.progress import Progress

        self.done()
        self._bar = Progress(transient=True)
        self._bar.start()
        self._task = self._bar.add_task(desc, total=total)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def progress_for(args: Any) -> Any:
    from bale.progress import NO_PROGRESS

    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        return NO_PROGRESS
    return BarProgress()


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(counts: list[tuple[int, str]]) -> str:
    """DVC's summary line: `2 files fetched, 1 file added and 1 file deleted`."""
    words = [f"{plural(n, 'file')} {what}" for n, what in counts if n]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def human_size(size: int) -> str:
    """A size as dvc prints it: bytes below 1024, else 1.2k, 34.0M, …"""
    if size < 1024:
        return str(size)
    value = float(size)
    for unit in ("k", "M", "G", "T", "P", "E", "Z"):
        value /= 1024
        if value < 999.5:
            digits = 2 if value < 9.995 else 1 if value < 99.95 else 0
            return f"{value:.{digits}f}{unit}"
    return f"{value:.1f}Y"


def print_json(data: Any) -> None:
    """JSON on stdout: indented on a terminal, one line for a pipe."""
    import json

    print(json.dumps(data, indent=2 if sys.stdout.isatty() else None, default=str))


def warn_revisions(what: str, problems: list[tuple[str, BaseException]], workspace: str) -> None:
    """One `WARNING:` line per distinct problem of a revision (or of the
    workspace, named `workspace`) that could not be read."""
    seen: set[str] = set()
    for rev, exc in problems:
        where = "in the workspace" if rev == workspace else f"at {rev}"
        line = f"WARNING: {what} {where}: {exc}"
        if line not in seen:
            seen.add(line)
            print(line, file=sys.stderr)
