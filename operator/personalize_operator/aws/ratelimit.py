"""The call budget: one adaptive token bucket per (account, region) in front of every AWS call.

AWS limits control-plane requests per second per account and region and
publishes no figure; above it Personalize answers LimitExceededException. So
the budget measures instead of guessing, like botocore's `adaptive` retry
mode: it starts at a ceiling (a setting), and each throttling answer (as
botocore's ThrottlingErrorDetector reads it) cuts the rate with botocore's
CUBIC curve (`botocore.retries.throttling.CubicCalculator`, with a gentler cut
and a slower probe than botocore's, see CUBIC_SCALE), which brings it back,
slowly near the rate AWS refused and faster beyond, while no throttle
comes; never below the floor nor above the ceiling. After a cut it sends
nothing until the second in which AWS refused has passed. Unlike botocore's mode
the budget is shared by every client of the account and region, limits from
the first call (a burst is held back before AWS refuses it), cuts once per
congestion (a refusal of a call sent before the last cut says nothing new),
and takes as the rate AWS allowed the answers it accepted in the second
before (its limit is a sliding second), raised by the answers of that
congestion's calls that arrive after the cut. And it never lets out more than
ceil(rate) requests in a sliding second (a little more, for the way there),
however many tokens are at hand: a token is taken when a call is decided,
which for a create is before a write to the API server.

Who waits, and where (no head-of-line blocking, docs/design.md section 3):
a reconcile pass's first call that finds the bucket empty does not wait in
its worker thread: `BudgetWait` unwinds the pass (nothing written yet) and
the work queue runs it again when its turn in the bucket comes, so passes
that need no AWS call (Secret and status writes after a status-board
wake-up) never queue behind it. Every other call waits in its thread, ahead
of the passes queued that way: a pass's later calls and botocore's retries
(the pass has started its step), the status boards' lists, deletions.
"""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.retries import standard
from botocore.retries.throttling import CubicCalculator

ACCEPTED_WINDOW_SECONDS = 1.0  # AWS's limit is over a sliding second: what it accepted in one is what it allows
SLOT_MARGIN_SECONDS = 0.005
# CUBIC's constants; botocore's adaptive mode uses a scale of 0.4 and a cut to 0.7 x the rate. A region's
# control-plane limit is steady, and the rate a burst can hold is a little under it (calls bunch up on the way:
# measured at an emulated 10 calls/s, refusals came with the budget at 8.9 and 10 calls accepted in the second).
# So the cut is gentle and the probe past the last cut slow: with 0.7 and a scale of 0.1 the budget spent
# most of a 200 burst between 7 and 9 calls/s and was cut every 2 to 3 s; with 0.9 and 0.01 it holds 8.2 to 9.2
# and is cut every 5 s or so, fewer refused calls for more calls sent (docs/performance.md). A limit that truly
# fell is met by the next refusal (a cut from what AWS accepted, not only 0.9 x).
CUBIC_SCALE = 0.01
CUBIC_BETA = 0.9
# A slot is promised at the rate of the moment; after a cut the rate recovers within seconds, and slots handed
# out 1/rate apart at the cut rate would hold a burst's passes back long after (measured: 200 passes parked at
# 3 calls/s came back at 3 a second for a minute while the budget was back at 50). So no slot lies further ahead
# than this: a pass that finds the budget still empty then parks again (no read: it holds its token first).
MAX_PARK_SECONDS = 1.0
CONTENDED_SECONDS = 1.0  # a budget that sent a pass back this recently has more work than calls (`state`)
# Tokens are taken when a call is decided, and a create's goes out after the createRequested write, 20 to 200 ms
# later as the API server is loaded: calls decided 1/rate apart bunch on the way, and AWS counts them where they
# arrive (measured at an emulated 10 calls/s: refusals with the budget at 8.9). So a request also waits, in its
# thread, until fewer than ceil(rate) of this budget's requests went out in the last SEND_WINDOW_SECONDS: AWS's
# sliding second and a margin for the way there. The wait is the spacing of two calls at most, never a token's.
SEND_WINDOW_SECONDS = ACCEPTED_WINDOW_SECONDS + 0.05


class BudgetWait(Exception):
    """A pass's first AWS call found the budget empty: give the worker back and run again in `seconds`."""

    def __init__(self, seconds: float, budget: CallBudget | None = None) -> None:
        super().__init__(f"AWS call budget empty: again in {seconds:.2f}s")
        self.seconds = seconds
        self.budget = budget  # the pass's next run takes its token from it before reading anything (`secure`)


@dataclass(frozen=True)
class Bounds:
    """Calls per second the budget moves between."""

    floor: float
    ceiling: float

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError(f"need 0 < floor <= ceiling, not floor={self.floor} ceiling={self.ceiling}")

    def clamp(self, rate: float) -> float:
        return min(self.ceiling, max(self.floor, rate))


@dataclass(frozen=True)
class Curve:
    """Where the CUBIC curve stands: the rate at the last throttle (`w_max`) and when it came.

    Before any throttle `last_cut` is -inf: the curve is past its top and the rate is the ceiling.
    """

    w_max: float
    last_cut: float = -math.inf


# -- pure decisions (table-tested in tests/unit/test_ratelimit.py) --------------------------------------


def rate_at(curve: Curve, now: float, bounds: Bounds) -> float:
    """The budget's rate at `now`: botocore's CUBIC recovery from the last cut, within the bounds."""
    if curve.last_cut == -math.inf:
        return bounds.ceiling
    cubic = CubicCalculator(
        starting_max_rate=curve.w_max, start_time=curve.last_cut, scale_constant=CUBIC_SCALE, beta=CUBIC_BETA
    )
    return bounds.clamp(cubic.success_received(now))


def after_throttle(curve: Curve, *, sent_at: float, accepted: int, now: float, bounds: Bounds) -> Curve:
    """The curve after AWS refused a call sent at `sent_at`, having accepted `accepted` in the last second.

    A call sent before the last cut met the congestion that cut already answered: no second cut.
    Otherwise the rate AWS allowed is the lower of the rate we were at and what it accepted
    (when it accepted nothing, the rate we were at), and the curve restarts from there (x CUBIC_BETA).
    """
    if sent_at < curve.last_cut:
        return curve
    current = rate_at(curve, now, bounds)
    allowed = min(current, float(accepted)) if accepted > 0 else current
    return Curve(w_max=max(bounds.floor, allowed), last_cut=now)


def after_late_accept(curve: Curve, *, sent_at: float, accepted: int, now: float, bounds: Bounds) -> Curve:
    """The curve after AWS accepted a call sent before the last cut, `accepted` answers in the last second.

    A burst's answers come back in any order: the first refusal may arrive before most of the calls AWS took in
    that second, and the cut then counts too few (measured: 4 of the 10 an emulator allowed, a cut to 3 calls/s
    and six seconds to climb back). Answers to calls of the same congestion, within a second of the cut, raise
    the rate AWS allowed to what it has been seen to take; nothing else moves the curve.
    """
    late = sent_at < curve.last_cut and now - curve.last_cut <= ACCEPTED_WINDOW_SECONDS
    if not late or accepted <= curve.w_max:
        return curve
    return Curve(w_max=min(bounds.ceiling, float(accepted)), last_cut=curve.last_cut)


def pause_after_cut(accepted: list[float], now: float) -> float:
    """Seconds to send nothing after a cut: until the oldest call AWS accepted in the last second leaves its
    sliding second (before that the window is still full and any call would be refused too)."""
    return max(0.0, accepted[0] + ACCEPTED_WINDOW_SECONDS - now) if accepted else 0.0


@dataclass(frozen=True)
class Take:
    """Go: one token taken."""


@dataclass(frozen=True)
class Park:
    """No token for a pass's first call: run the pass again in `seconds`; `promised_until` is its slot."""

    seconds: float
    promised_until: float


def first_call(
    tokens: float, rate: float, *, priority_waiting: int, promised_until: float, now: float, returning: bool = False
) -> Take | Park:
    """A pass's first call: a token now if one is free, no in-thread caller waits and no parked pass is due
    before it, else a slot in line.

    Slots are handed out 1/rate apart after the last one promised, so parked passes come back in turn
    instead of all at once; a token is free for one of them when it comes (`returning`: a pass back at its
    slot). A new pass does not take that token ahead of them (measured at 10 calls/s: passes that lost
    their token to newcomers parked again at the end of the line, and a resource applied first was created
    18 s after the others began). None lies more than MAX_PARK_SECONDS ahead (the rate may have recovered).
    """
    if tokens >= 1 and priority_waiting == 0 and (returning or promised_until <= now):
        return Take()
    ready = now + max(0.0, 1 - tokens) / rate
    slot = min(max(ready, promised_until + 1 / rate), now + MAX_PARK_SECONDS)
    return Park(seconds=slot - now + SLOT_MARGIN_SECONDS, promised_until=slot)


def send_wait(sent: collections.deque[float], rate: float, now: float) -> float:
    """Seconds before a request may go out so that no SEND_WINDOW_SECONDS holds more than ceil(rate) of them;
    `sent` (oldest first) loses the times that left the window."""
    while sent and sent[0] <= now - SEND_WINDOW_SECONDS:
        sent.popleft()
    allowed = max(1, math.ceil(rate))
    if len(sent) < allowed:
        return 0.0
    return sent[-allowed] + SEND_WINDOW_SECONDS - now


def refilled(tokens: float, since: float, now: float, rate: float, burst: float) -> float:
    return min(burst, tokens + max(0.0, now - since) * rate)


# -- the budget (state and threads) ---------------------------------------------------------------------


class _PassState(threading.local):
    """The reconcile pass running in this thread, if any: calls made so far, a token taken ahead."""

    active: bool = False
    calls: int = 0
    held: object | None = None  # the budget a token was taken from ahead of the first call (`secure`)
    held_at: float = 0.0  # when that token was taken
    sent_at: float = 0.0  # when this thread's last request was let through (for `after_throttle`)


_PASS = _PassState()


@contextlib.contextmanager
def parkable_pass() -> Iterator[None]:
    """Run a reconcile pass in this thread: its first AWS call may raise BudgetWait instead of waiting."""
    _PASS.active, _PASS.calls, _PASS.held = True, 0, None
    try:
        yield
    finally:
        _PASS.active, _PASS.calls, _PASS.held = False, 0, None


_DETECTOR = standard.ThrottlingErrorDetector(retry_event_adapter=standard.RetryEventAdapter())


def is_throttling(**needs_retry: Any) -> bool:
    """botocore's own reading of a response as throttling (LimitExceededException, ThrottlingException, 429...)."""
    return bool(_DETECTOR.is_throttling_error(**needs_retry))


class CallBudget:
    """The calls one account may make in one region; thread safe.

    `before_send` is botocore's before-send hook (every attempt), `answered` its needs-retry hook.
    `on_rate(rate)` is called whenever the rate is computed (the metrics gauge); `on_wait(seconds)` with
    every call's wait for a token (0 when it went at once; a parked first call's wait in the work queue).
    """

    def __init__(
        self,
        bounds: Bounds,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_rate: Callable[[float], None] = lambda _: None,
        on_wait: Callable[[float], None] = lambda _: None,
    ) -> None:
        if burst < 1:
            raise ValueError(f"burst must be >= 1, not {burst}")
        self.bounds = bounds
        self.burst = burst
        self._clock = clock
        self._on_rate = on_rate
        self._on_wait = on_wait  # the budget-wait histogram
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._curve = Curve(w_max=bounds.ceiling)
        self._tokens = burst
        self._updated = clock()
        self._promised = -math.inf
        self._priority_waiting = 0
        self._accepted: collections.deque[float] = collections.deque()
        self._sent: collections.deque[float] = collections.deque()  # requests let out in the last send window
        self.parked = 0  # first calls sent back to the work queue (for tests and benchmarks)
        self._last_parked = -math.inf
        on_rate(bounds.ceiling)

    @property
    def rate(self) -> float:
        with self._lock:
            return rate_at(self._curve, self._clock(), self.bounds)

    def state(self) -> tuple[float, bool]:
        """(the rate, whether it is contended: a pass was sent back to wait for it within the last second)."""
        with self._lock:
            now = self._clock()
            return rate_at(self._curve, now, self.bounds), now - self._last_parked <= CONTENDED_SECONDS

    @property
    def curve(self) -> Curve:
        with self._lock:
            return self._curve

    def _refill(self, now: float) -> float:
        rate = rate_at(self._curve, now, self.bounds)
        self._tokens = refilled(self._tokens, self._updated, now, rate, self.burst)
        self._updated = now
        self._on_rate(rate)
        return rate

    # -- taking tokens -------------------------------------------------------------------------

    def before_send(self, **_: Any) -> None:
        """Let one request out (returning None lets botocore send it), or raise BudgetWait (see module doc)."""
        sent_at = None
        if _PASS.active and _PASS.held is self:
            _PASS.held = None
            sent_at = self._held_token_goes(_PASS.held_at)
        elif _PASS.active and _PASS.calls == 0:
            self._take_first()
        else:
            self._wait_for_token()
        self._spaced()
        _PASS.calls += 1
        _PASS.sent_at = self._clock() if sent_at is None else sent_at

    def _spaced(self) -> None:
        """Wait, holding the token, until the request keeps this budget's sliding window (`send_wait`); count it."""
        with self._lock:
            while (wait := send_wait(self._sent, rate_at(self._curve, now := self._clock(), self.bounds), now)) > 0:
                self._changed.wait(wait)
            self._sent.append(now)

    def _held_token_goes(self, held_at: float) -> float | None:
        """A token taken ahead (`secure`) goes as taken, unless the budget was cut since: then the call waits for a
        new one in its thread (the pass has written createRequested, it cannot park) rather than meet the
        congestion the cut answered. Returns the time the call counts as sent for `after_throttle`: the token's,
        so a refusal of a call decided before the cut cuts nothing again; None: now."""
        with self._lock:
            cut_since = self._curve.last_cut >= held_at
        if not cut_since:
            return held_at
        self._wait_for_token()
        return None

    def secure(self, *, returning: bool = False) -> None:
        """Take the token of the pass's next call now, before a write that only makes sense if the call goes out
        (status.createRequested before CreateEventTracker): a parked pass must not leave it behind.
        `returning`: a pass sent back by this budget, back at its slot."""
        if not _PASS.active or _PASS.held is self:
            return  # not a pass, or its next call's token is already held
        if _PASS.calls == 0:
            self._take_first(returning=returning)
        else:
            self._wait_for_token()
        _PASS.held, _PASS.held_at = self, self._clock()

    def _take_first(self, *, returning: bool = False) -> None:
        with self._lock:
            now = self._clock()
            rate = self._refill(now)
            decision = first_call(
                self._tokens,
                rate,
                priority_waiting=self._priority_waiting,
                promised_until=self._promised,
                now=now,
                returning=returning,
            )
            if isinstance(decision, Take):
                self._tokens -= 1
            else:
                self._promised = decision.promised_until
                self.parked += 1
                self._last_parked = now
        if isinstance(decision, Take):
            self._on_wait(0.0)
            return
        self._on_wait(decision.seconds)
        raise BudgetWait(decision.seconds, self)

    def _wait_for_token(self) -> float:
        """Block this thread until a token is free (ahead of parked passes); returns the seconds waited."""
        waited = self._blocked_for_token()
        self._on_wait(waited)
        return waited

    def _blocked_for_token(self) -> float:
        started = self._clock()
        with self._lock:
            self._priority_waiting += 1
            try:
                while True:
                    rate = self._refill(self._clock())
                    if self._tokens >= 1:
                        self._tokens -= 1
                        return self._clock() - started
                    self._changed.wait((1 - self._tokens) / rate)
            finally:
                self._priority_waiting -= 1

    # -- adapting ------------------------------------------------------------------------------

    def answered(self, **needs_retry: Any) -> None:
        """botocore's needs-retry hook (every attempt's end): adapt the rate; returns None (botocore decides)."""
        if isinstance(needs_retry.get("caught_exception"), BudgetWait):
            return
        self.record(throttled=is_throttling(**needs_retry), sent_at=_PASS.sent_at)

    def record(self, *, throttled: bool, sent_at: float) -> None:
        with self._lock:
            now = self._clock()
            self._refill(now)
            while self._accepted and self._accepted[0] <= now - ACCEPTED_WINDOW_SECONDS:
                self._accepted.popleft()
            if not throttled:
                self._accepted.append(now)
                revised = after_late_accept(
                    self._curve, sent_at=sent_at, accepted=len(self._accepted), now=now, bounds=self.bounds
                )
                if revised is not self._curve:
                    self._curve = revised
                    self._on_rate(rate_at(revised, now, self.bounds))
                return
            before = self._curve
            self._curve = after_throttle(
                before, sent_at=sent_at, accepted=len(self._accepted), now=now, bounds=self.bounds
            )
            if self._curve is before:
                return  # the same congestion as the last cut
            rate = rate_at(self._curve, now, self.bounds)
            self._tokens = min(self._tokens, 0.0) - pause_after_cut(list(self._accepted), now) * rate
            self._on_rate(rate)
