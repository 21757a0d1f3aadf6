"""The adaptive call budget: its decisions row by row, and the budget driven by a fake clock."""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable

import pytest

from personalize_operator.aws.ratelimit import (
    CUBIC_BETA,
    CUBIC_SCALE,
    Bounds,
    BudgetWait,
    CallBudget,
    Curve,
    Park,
    Take,
    after_late_accept,
    after_throttle,
    first_call,
    parkable_pass,
    pause_after_cut,
    rate_at,
    refilled,
    send_wait,
)

BOUNDS = Bounds(floor=1.0, ceiling=50.0)
K10 = (10 * (1 - CUBIC_BETA) / CUBIC_SCALE) ** (1 / 3)  # CUBIC: seconds from a cut at w_max=10 back to 10


@pytest.mark.parametrize(
    ("curve", "now", "expected"),
    [
        pytest.param(Curve(w_max=50.0), 0.0, 50.0, id="never throttled: the ceiling"),
        pytest.param(Curve(w_max=50.0), 1e6, 50.0, id="never throttled, much later: still the ceiling"),
        pytest.param(
            Curve(w_max=10.0, last_cut=100.0), 100.0, 10 * CUBIC_BETA, id="at the cut: 0.9 x the rate AWS allowed"
        ),
        pytest.param(Curve(w_max=10.0, last_cut=100.0), 100.0 + K10, 10.0, id="back at w_max after K seconds"),
        pytest.param(Curve(w_max=10.0, last_cut=100.0), 100.0 + K10 + 5, 11.25, id="then probing beyond it, slowly"),
        pytest.param(Curve(w_max=10.0, last_cut=100.0), 150.0, 50.0, id="recovered: capped at the ceiling"),
        pytest.param(Curve(w_max=1.0, last_cut=100.0), 100.0, 1.0, id="never below the floor"),
    ],
)
def test_rate_at(curve: Curve, now: float, expected: float) -> None:
    assert rate_at(curve, now, BOUNDS) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("curve", "sent_at", "accepted", "now", "expected"),
    [
        pytest.param(Curve(w_max=50.0), 0.2, 10, 0.3, Curve(10.0, 0.3), id="first throttle: AWS took 10 in a second"),
        pytest.param(Curve(w_max=50.0), 0.2, 0, 0.3, Curve(50.0, 0.3), id="nothing accepted: the rate we were at"),
        pytest.param(Curve(10.0, 5.0), 5.0 + K10, 30, 5.0 + K10, Curve(10.0, 5.0 + K10), id="accepted above the rate"),
        pytest.param(Curve(10.0, 5.0), 4.9, 3, 5.1, Curve(10.0, 5.0), id="sent before the last cut: same congestion"),
        pytest.param(Curve(10.0, 5.0), 5.0, 3, 5.1, Curve(3.0, 5.1), id="sent at or after the cut: cut again"),
        pytest.param(Curve(1.0, 5.0), 5.5, 0, 5.5, Curve(1.0, 5.5), id="w_max never below the floor"),
    ],
)
def test_after_throttle(curve: Curve, sent_at: float, accepted: int, now: float, expected: Curve) -> None:
    got = after_throttle(curve, sent_at=sent_at, accepted=accepted, now=now, bounds=BOUNDS)
    assert got.w_max == pytest.approx(expected.w_max, abs=0.01) and got.last_cut == expected.last_cut


@pytest.mark.parametrize(
    ("curve", "sent_at", "accepted", "now", "expected"),
    [
        pytest.param(Curve(4.0, 5.0), 4.9, 10, 5.2, Curve(10.0, 5.0), id="the congestion's late answers: AWS took 10"),
        pytest.param(Curve(4.0, 5.0), 4.9, 3, 5.2, Curve(4.0, 5.0), id="fewer than counted at the cut: no change"),
        pytest.param(Curve(4.0, 5.0), 5.1, 10, 5.2, Curve(4.0, 5.0), id="sent after the cut: the curve recovers"),
        pytest.param(Curve(4.0, 5.0), 4.9, 10, 6.1, Curve(4.0, 5.0), id="more than a second after the cut: too late"),
        pytest.param(Curve(4.0, 5.0), 4.9, 80, 5.2, Curve(50.0, 5.0), id="never above the ceiling"),
        pytest.param(Curve(50.0), 4.9, 80, 5.2, Curve(50.0), id="never cut: nothing to revise"),
    ],
)
def test_after_late_accept(curve: Curve, sent_at: float, accepted: int, now: float, expected: Curve) -> None:
    assert after_late_accept(curve, sent_at=sent_at, accepted=accepted, now=now, bounds=BOUNDS) == expected


@pytest.mark.parametrize(
    ("tokens", "rate", "waiting", "promised", "now", "expected", "returning"),
    [
        pytest.param(1.0, 10.0, 0, 0.3, 0.0, 0.4, False, id="a token, but parked passes are due first: in line"),
        pytest.param(1.0, 10.0, 0, 0.3, 0.0, Take(), True, id="a pass back at its slot takes it"),
        pytest.param(1.0, 10.0, 0, 0.3, 0.5, Take(), False, id="every promised slot has come: a newcomer goes"),
    ],
)
def test_first_call_keeps_parked_passes_ahead_of_newcomers(
    tokens: float, rate: float, waiting: int, promised: float, now: float, expected: Take | float, returning: bool
) -> None:
    got = first_call(tokens, rate, priority_waiting=waiting, promised_until=promised, now=now, returning=returning)
    if isinstance(expected, Take):
        assert got == Take()
    else:
        assert isinstance(got, Park) and got.seconds == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("tokens", "rate", "waiting", "promised", "now", "expected"),
    [
        pytest.param(1.0, 10.0, 0, -math.inf, 0.0, Take(), id="a token, nobody waiting: go"),
        pytest.param(1.5, 10.0, 1, -math.inf, 0.0, None, id="a token but a call waits in its thread: it goes first"),
        pytest.param(0.5, 10.0, 0, -math.inf, 0.0, 0.05, id="half a token at 10/s: back in 0.05 s"),
        pytest.param(0.0, 10.0, 0, 0.3, 0.0, 0.4, id="slots promised to 0.3: the next one, 1/rate later"),
        pytest.param(-0.0, 2.0, 0, -math.inf, 1.0, 1.5, id="at 2/s an empty bucket refills in 0.5 s"),
        pytest.param(0.0, 3.0, 0, 20.0, 0.0, 1.0, id="slots promised at a cut rate: never more than 1 s ahead"),
    ],
)
def test_first_call(
    tokens: float, rate: float, waiting: int, promised: float, now: float, expected: Take | float | None
) -> None:
    got = first_call(tokens, rate, priority_waiting=waiting, promised_until=promised, now=now)
    if isinstance(expected, Take):
        assert got == Take()
        return
    assert isinstance(got, Park)
    if expected is not None:
        assert got.promised_until == pytest.approx(expected)
        assert got.seconds > got.promised_until - now  # comes back just after its token, never before


@pytest.mark.parametrize(
    ("tokens", "since", "now", "rate", "burst", "expected"),
    [
        (0.0, 0.0, 0.5, 4.0, 2.0, 2.0),
        (0.0, 0.0, 0.1, 4.0, 2.0, 0.4),
        (1.0, 5.0, 5.0, 4.0, 2.0, 1.0),
        (0.5, 5.0, 4.0, 4.0, 2.0, 0.5),  # a clock that went back refills nothing
    ],
)
def test_refilled(tokens: float, since: float, now: float, rate: float, burst: float, expected: float) -> None:
    assert refilled(tokens, since, now, rate, burst) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("accepted", "now", "expected"),
    [
        pytest.param([], 5.0, 0.0, id="nothing accepted: others use the limit, no pause"),
        pytest.param([4.2, 4.5, 4.9], 5.0, 0.2, id="until the oldest accepted call leaves the sliding second"),
        pytest.param([3.0], 5.0, 0.0, id="already out of the window"),
    ],
)
def test_pause_after_cut(accepted: list[float], now: float, expected: float) -> None:
    assert pause_after_cut(accepted, now) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sent", "rate", "now", "expected", "kept"),
    [
        pytest.param([], 10.0, 5.0, 0.0, 0, id="nothing sent: go"),
        pytest.param([4.5, 4.6], 2.0, 5.0, 0.55, 2, id="ceil(rate) in the window: until the oldest of them leaves"),
        pytest.param([4.5, 4.6], 2.5, 5.0, 0.0, 2, id="a fraction of a call allows one more"),
        pytest.param([3.0, 4.6], 2.0, 5.0, 0.0, 1, id="older than the window: forgotten"),
        pytest.param([4.5, 4.6, 4.7], 2.0, 5.0, 0.65, 3, id="more than allowed (the rate was cut): the newest count"),
        pytest.param([4.9], 0.5, 5.0, 0.95, 1, id="at least one call a window"),
    ],
)
def test_send_wait(sent: list[float], rate: float, now: float, expected: float, kept: int) -> None:
    window = collections.deque(sent)
    assert send_wait(window, rate, now) == pytest.approx(expected) and len(window) == kept


def test_bounds_refuse_a_floor_above_the_ceiling() -> None:
    with pytest.raises(ValueError, match="floor"):
        Bounds(floor=20, ceiling=10)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def budget(ceiling: float = 10.0, burst: float = 1.0) -> tuple[CallBudget, FakeClock, list[float]]:
    clock, rates = FakeClock(), []
    return CallBudget(Bounds(1.0, ceiling), burst, clock=clock, on_rate=rates.append), clock, rates


def while_the_clock_moves(work: Callable[[], None], clock: FakeClock) -> None:
    """Run `work` in a thread (it may block for tokens) while the fake clock moves on, 50 ms at a time."""
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    while not done.wait(0.01):
        clock.now += 0.05
    thread.join()


class TestCallBudget:
    def test_a_pass_whose_first_call_finds_it_empty_is_sent_back_not_held(self) -> None:
        calls, _clock, _ = budget(ceiling=10.0, burst=1.0)
        with parkable_pass():
            calls.before_send()  # the burst's one token
        with parkable_pass(), pytest.raises(BudgetWait) as parked:
            calls.before_send()
        assert 0.1 <= parked.value.seconds < 0.11 and calls.parked == 1
        with parkable_pass(), pytest.raises(BudgetWait) as second:
            calls.before_send()
        assert second.value.seconds == pytest.approx(0.2, abs=0.01)  # the slot after the first one's

    def test_a_parked_pass_coming_back_at_its_slot_goes(self) -> None:
        calls, clock, _ = budget(ceiling=10.0, burst=1.0)
        with parkable_pass():
            calls.before_send()
        with parkable_pass(), pytest.raises(BudgetWait) as parked:
            calls.before_send()
        clock.now += parked.value.seconds
        with parkable_pass():
            calls.before_send()

    def test_secure_takes_the_token_the_next_call_uses(self) -> None:
        calls, _clock, _ = budget(ceiling=10.0, burst=1.0)
        with parkable_pass():
            calls.secure()
            calls.before_send()  # uses the token taken ahead: no wait, no park
        with parkable_pass(), pytest.raises(BudgetWait):
            calls.secure()  # empty now: the pass goes back before writing anything

    def test_a_parked_pass_comes_back_holding_its_token_before_reading_anything(self) -> None:
        """BudgetWait names its budget: the next run secures a token first (no API server read if sent back
        again); securing twice in one pass (again before the create) takes one token, not two."""
        calls, clock, _ = budget(ceiling=10.0, burst=1.0)
        with parkable_pass():
            calls.before_send()
        with parkable_pass(), pytest.raises(BudgetWait) as parked:
            calls.before_send()
        assert parked.value.budget is calls
        clock.now += parked.value.seconds
        with parkable_pass():
            calls.secure()  # before the pass reads the object
            calls.secure()  # before createRequested is written: the same token
            calls.before_send()  # the create goes with it
        with parkable_pass(), pytest.raises(BudgetWait):
            calls.before_send()  # one token was taken in all, not two: the next one is not due yet

    def test_a_token_taken_before_a_cut_does_not_go_into_the_congestion(self) -> None:
        """A create secured its token, then wrote createRequested while another call was refused: the create
        waits in its thread for a token of the cut rate (measured: sent at once, it was refused and cut the
        budget a second time, to 1.8 calls/s)."""
        clock, waits = FakeClock(), []
        calls = CallBudget(Bounds(1.0, 10.0), 2.0, clock=clock, on_wait=waits.append)

        def create() -> None:
            with parkable_pass():
                calls.secure()
                clock.now += 0.1  # the createRequested write
                calls.record(throttled=True, sent_at=clock.now - 0.05)  # another pass's call refused meanwhile
                calls.before_send()

        while_the_clock_moves(create, clock)
        assert waits[0] == 0.0 and waits[-1] > 0  # secured at once; sent only after waiting

    def test_a_token_taken_with_no_cut_since_goes_as_taken(self) -> None:
        clock, waits = FakeClock(), []
        calls = CallBudget(Bounds(1.0, 10.0), 1.0, clock=clock, on_wait=waits.append)
        with parkable_pass():
            calls.secure()
            clock.now += 0.1
            calls.before_send()
        assert waits == [0.0]

    def test_tokens_at_hand_never_send_more_than_the_rate_in_a_sliding_second(self) -> None:
        """Three tokens at hand (a create's token is taken before its createRequested write, so tokens taken
        apart reach the send together) at 2 calls/s: two go, the third waits in its thread for the window."""
        clock = FakeClock()
        calls = CallBudget(Bounds(1.0, 2.0), 3.0, clock=clock)
        sent: list[float] = []

        def three_calls() -> None:
            for _ in range(3):
                calls.before_send()
                sent.append(clock.now)

        while_the_clock_moves(three_calls, clock)
        assert sent[1] == sent[0] and sent[2] - sent[0] >= 1.05

    def test_calls_outside_a_pass_and_later_calls_of_a_pass_wait_in_their_thread(self) -> None:
        calls, clock, _ = budget(ceiling=10.0, burst=1.0)

        def board_list() -> None:
            calls.before_send()
            calls.before_send()  # waits for a refill (the fake clock moves meanwhile)

        while_the_clock_moves(board_list, clock)
        assert calls.parked == 0

    def test_throttles_cut_the_rate_once_per_congestion_and_it_recovers(self) -> None:
        calls, clock, rates = budget(ceiling=50.0)
        for _ in range(10):
            calls.record(throttled=False, sent_at=clock.now)
        clock.now += 0.1
        calls.record(throttled=True, sent_at=clock.now - 0.01)
        assert calls.rate == pytest.approx(9.0) and rates[-1] == pytest.approx(9.0)
        calls.record(throttled=True, sent_at=clock.now - 0.01)  # sent before the cut: the same congestion
        assert calls.rate == pytest.approx(9.0)
        clock.now += 60
        assert calls.rate == 50.0

    def test_answers_of_the_congestion_arriving_after_the_cut_raise_the_rate_aws_allowed(self) -> None:
        calls, clock, rates = budget(ceiling=50.0)
        sent = clock.now
        for _ in range(4):
            calls.record(throttled=False, sent_at=sent)
        clock.now += 0.1
        calls.record(throttled=True, sent_at=sent)
        assert calls.rate == pytest.approx(3.6)  # 0.9 x the 4 accepted so far
        for _ in range(6):  # the rest of that second's answers, accepted
            calls.record(throttled=False, sent_at=sent)
        assert calls.rate == pytest.approx(9.0) and rates[-1] == pytest.approx(9.0)

    def test_after_a_cut_nothing_goes_out_until_the_refusing_second_has_passed(self) -> None:
        calls, clock, _ = budget(ceiling=50.0, burst=2.0)
        calls.record(throttled=False, sent_at=clock.now)
        clock.now += 0.3
        calls.record(throttled=True, sent_at=clock.now)
        with parkable_pass(), pytest.raises(BudgetWait) as parked:
            calls.before_send()
        assert parked.value.seconds >= 0.7  # the accepted call at 100.0 leaves the window at 101.0

    def test_state_says_contended_while_passes_are_sent_back(self) -> None:
        calls, clock, _ = budget(ceiling=10.0, burst=1.0)
        assert calls.state() == (10.0, False)
        with parkable_pass():
            calls.before_send()
        with parkable_pass(), pytest.raises(BudgetWait):
            calls.before_send()
        assert calls.state() == (10.0, True)
        clock.now += 1.5
        assert calls.state() == (10.0, False)

    def test_gauge_starts_at_the_ceiling(self) -> None:
        _, _, rates = budget(ceiling=25.0)
        assert rates == [25.0]

    def test_every_call_tells_its_wait_for_the_budget_wait_histogram(self) -> None:
        clock, waits = FakeClock(), []
        calls = CallBudget(Bounds(1.0, 10.0), 1.0, clock=clock, on_wait=waits.append)
        with parkable_pass():
            calls.before_send()  # the burst's one token: no wait
        with parkable_pass(), pytest.raises(BudgetWait) as parked:
            calls.before_send()  # a first call that finds it empty is sent back for its wait
        assert waits == pytest.approx([0.0, parked.value.seconds])
