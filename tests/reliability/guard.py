"""Run a parser under a time limit and check it fails only in its documented way."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import settings

LIMIT = 5.0  # seconds one parser call may take before it counts as a hang
FAST = settings(deadline=None, max_examples=120)
SLOW = settings(deadline=None, max_examples=2000)


class Hang(Exception):
    """A parser call ran past LIMIT."""


@contextmanager
def time_limit(seconds: float = LIMIT) -> Iterator[None]:
    """Raise Hang in the block once `seconds` pass (SIGALRM: main thread only)."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


Allowed = type[BaseException] | tuple[type[BaseException], ...]


def outcome(
    allowed: Allowed, call: Callable[..., Any], *args: Any, **kw: Any
) -> tuple[Any, BaseException | None]:
    """(value, None), or (None, error) for an `allowed` error; a hang or any
    other exception fails the test."""
    try:
        with time_limit():
            return call(*args, **kw), None
    except Hang as exc:
        pytest.fail(f"{getattr(call, '__name__', call)} hung on {args!r:.300}: {exc}")
    except allowed as exc:
        return None, exc


def pair(check: Callable[..., None], *strategies: Any) -> tuple[Callable, Callable]:
    """A property as two tests: FAST for `make test`, SLOW (marked slow) for `make test-slow`."""
    from hypothesis import given

    return FAST(given(*strategies)(check)), pytest.mark.slow(SLOW(given(*strategies)(check)))
