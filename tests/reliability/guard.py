"""Run a parser under a time limit and check it fails only in its documented way."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import settings

from tests.reliability.report import record

LIMIT = 5.0  # seconds one parser call may take before it counts as a hang
FAST = settings(deadline=None, max_examples=120)
SLOW = settings(deadline=None, max_examples=2000)
REPRODUCE = "pytest tests/reliability/test_parsers.py -m 'slow or not slow'"


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
    """A property as two tests: FAST for `make test`, SLOW (marked slow) for
    `make test-slow`; each records how many inputs it tried."""
    from hypothesis import given

    name = check.__name__.removeprefix("check_")
    tried = [0]

    @functools.wraps(check)
    def counted(*args: Any, **kw: Any) -> None:
        tried[0] += 1
        check(*args, **kw)

    def test(profile: settings) -> Callable[[], None]:
        run = profile(given(*strategies)(counted))

        def property_test() -> None:
            tried[0] = 0
            run()
            record("parsers", name, tried[0], tried[0], reproduce=REPRODUCE)

        return property_test

    return test(FAST), pytest.mark.slow(test(SLOW))
