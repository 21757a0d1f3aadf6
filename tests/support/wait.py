"""The one way tests wait: poll a predicate until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GiveUp(Exception):
    """Raised by a predicate when waiting longer cannot help (a process died): ends the wait at once."""


class WaitTimeout(AssertionError):
    """Raised with the description and the last value seen, so failures explain themselves."""


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Return the first truthy value of `predicate()`; exceptions count as falsy until the deadline."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except GiveUp:
            raise
        except Exception as error:  # the predicate may race with object creation
            last = error
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def stays(predicate: Callable[[], object], *, seconds: float, interval: float = 0.2, what: str = "condition") -> None:
    """Assert `predicate()` holds on every poll for `seconds` (the converse of wait_for)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            raise AssertionError(f"{what} stopped holding before {seconds}s passed")
        time.sleep(interval)


def let_pass(seconds: float) -> None:
    """An observation window: `seconds` of real time in which something must not happen (counted after)."""
    time.sleep(seconds)
