"""AWS's request-rate limit: calls above N per second are refused, as AWS refuses them.

AWS throttles per account and region and per API (the control plane and
personalize-events are separate front ends), over a sliding second. The
Personalize control plane answers LimitExceededException ("The limit on the
number of requests per second has been exceeded"); personalize-events answers
ThrottlingException, AWS's common throttling error. Refused calls do not use
up the allowance, so a client that backs off gets through.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from personalize_emulator import errors

WINDOW_SECONDS = 1.0


class RateLimiter:
    """Sliding one-second windows, one per (api, region); thread safe.

    `limit` is read on every call (so the admin API can change it at run
    time); 0 means no limit.
    """

    def __init__(self, limit: Callable[[], float], now: Callable[[], float]) -> None:
        self._limit = limit
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], collections.deque[float]] = {}
        self._refused: collections.Counter[str] = collections.Counter()

    def admit(self, api: str, region: str, operation: str) -> bool:
        """True when this call is within the limit (and then counted against it)."""
        limit = self._limit()
        if limit <= 0:
            return True
        now = self._now()
        with self._lock:
            window = self._windows.setdefault((api, region), collections.deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                self._refused[operation] += 1
                return False
            window.append(now)
            return True

    def refused(self) -> dict[str, int]:
        """Calls refused per operation since start or the last reset."""
        with self._lock:
            return dict(self._refused)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._refused.clear()


def rate_exceeded(api: str) -> errors.ApiError:
    """The error AWS answers on that API when its rate limit is exceeded."""
    if api == "personalize":
        return errors.ApiError(
            "LimitExceededException", "The limit on the number of requests per second has been exceeded."
        )
    return errors.throttling()
