"""Progress reporting: engine code calls these; only the CLI draws."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, desc: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...


class NoProgress:
    """The default: report nothing (API users, --json, no terminal)."""

    def start(self, desc: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


NO_PROGRESS = NoProgress()
