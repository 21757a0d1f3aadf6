"""When the next pass runs (pure): the decision's requeue, else the resync timer with jitter.

Jitter spreads resources that started together (an operator restart resumes
all of them at once) so that 1,000 resources do not look at AWS in the same
second every resync.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

JITTER = 0.2  # +-20 % of the resync interval
# A resource the status board follows still looks by itself this often (a lost wake-up costs this).
SAFETY_NET_SECONDS = 120.0


def resync_delay(resync_seconds: float, rng: random.Random) -> float:
    return resync_seconds * (1.0 + rng.uniform(-JITTER, JITTER))


FIRST_RESYNC_FLOOR = 0.1  # the first resync after start-up comes after at least 10 % of the interval


def first_delay(resync_seconds: float, rng: random.Random) -> float:
    """The first resync after start-up, anywhere in [10 %, 100 %] of the interval.

    A restart resumes every resource at once; spreading their first full look
    (Describe and ListTagsForResource each) evenly over the interval keeps a
    restart of 1,000 resources to a trickle of calls instead of a burst at
    the end of the first interval, and leaves the first minute quiet.
    """
    return resync_seconds * rng.uniform(FIRST_RESYNC_FLOOR, 1.0)


def next_delay(requeue: float | None, resync_seconds: float, rng: random.Random, *, first: bool = False) -> float:
    """Seconds to sleep after a pass: its own requeue when sooner than the resync, else a jittered resync.

    `first`: after the resource's first pass in this process, the resync is spread over the interval.
    """
    resync = first_delay(resync_seconds, rng) if first else resync_delay(resync_seconds, rng)
    return min(requeue, resync) if requeue is not None else resync


@dataclass
class Attempts:
    """Consecutive passes that ended in the same state: the `retry` that backoff grows with."""

    count: int = 0
    last: tuple[str, str, object] | None = None

    def after(self, phase: str, reason: str, generation: object, requeued: bool) -> int:
        """Record a pass; the next pass's retry number (0 once the state or spec changed, or it settled)."""
        state = (phase, reason, generation)
        self.count = self.count + 1 if requeued and state == self.last else 0
        self.last = state
        return self.count

    def reset(self) -> None:
        self.count, self.last = 0, None
