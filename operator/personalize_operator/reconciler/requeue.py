"""When the next pass runs (pure): every delay the operator waits, and how it grows.

A decision's requeue (backoff by retry count, the fixed re-check of a
conflict or a Secret), else the resync timer with jitter.

Jitter spreads resources that started together (an operator restart resumes
all of them at once) so that 1,000 resources do not look at AWS in the same
second every resync.
"""

from __future__ import annotations

import random

JITTER = 0.2  # +-20 % of the resync interval
CONFLICT_RECHECK_SECONDS = 180.0  # a state only a person can fix is looked at again this often
CREATING_MAX_DELAY = 30.0  # polling a tracker in transition (when no status board follows it)
RETRYABLE_MAX_DELAY = 60.0  # throttling, a connection that failed
REFUSED_MAX_DELAY = 300.0  # access denied, invalid input: someone must change IAM or the spec
SECRET_RETRY_SECONDS = 30.0  # a Secret that could not be written
ERROR_PAUSE_SECONDS = 10.0  # after a pass that failed unexpectedly (for example the API server went away)
FINALIZER_WAIT_SECONDS = 1.0  # kopf adds the finalizer in the cycle that first reports the resource
# A new resource's first pass waits for the watch event that shows kopf's finalizer; this is only the fallback
# for an event that never comes. In a burst of 200 kopf took over 1 s to add some: a shorter fallback ran a
# pass that only read the object and found no finalizer (half a read per resource).
FIRST_PASS_FINALIZER_WAIT_SECONDS = 5.0
# A status-board step (CREATE PENDING -> IN_PROGRESS) is shown once it has lasted this long: a transition that
# ends sooner shows its end instead, and a burst does not spend a read and a status write per resource on it.
STEP_SHOWN_AFTER_SECONDS = 5.0
FINALIZER_WAIT_MAX = 30.0


def backoff(retry: int, *, first: float = 1.0, cap: float = CREATING_MAX_DELAY) -> float:
    """About `first` seconds, doubling with each retry, capped."""
    return float(min(cap, first * 2 ** max(0, min(retry, 20))))


def finalizer_wait(waits: int) -> float:
    """Until kopf has added our finalizer: 1 s, doubling with each wait, capped."""
    return backoff(waits - 1, first=FINALIZER_WAIT_SECONDS, cap=FINALIZER_WAIT_MAX)


def first_pass_wait(has_finalizer: bool) -> float | None:
    """A new resource kopf reports before adding our finalizer waits for the watch event that shows it (at most
    FIRST_PASS_FINALIZER_WAIT_SECONDS) instead of a pass that would only read it and wait; None: its pass runs
    at once."""
    return None if has_finalizer else FIRST_PASS_FINALIZER_WAIT_SECONDS


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
