"""A client-side call budget: a token bucket per (account, region) in front of every AWS call.

AWS limits control-plane requests per second per account and region (the
figure is unpublished; above it Personalize answers LimitExceededException).
A burst of resources would otherwise turn into a storm of throttled calls and
retries, so every attempt, botocore's own retries included, first takes a
token here and waits for one when the bucket is empty. At most
`burst + rate` calls go out in any one second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`; thread safe, first come first served.

    A caller reserves the next token under the lock and sleeps outside it, so
    waiting callers queue in arrival order and none holds the lock while asleep.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float], None] = lambda _: None,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, not {rate}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, not {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._on_wait = on_wait  # told every acquire's wait (the budget-wait histogram)
        self._lock = threading.Lock()
        self._tokens = burst
        self._updated = clock()

    def reserve(self) -> float:
        """Take one token; returns the seconds the caller must wait before using it (0: at once)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1  # may go negative: later callers wait for the debt to be repaid
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        self._on_wait(wait)
        return wait
