"""The client-side token bucket keeps AWS calls within the budget, in arrival order."""

from __future__ import annotations

import threading

import pytest

from personalize_operator.aws.ratelimit import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(rate: float, burst: float) -> tuple[TokenBucket, FakeTime]:
    time = FakeTime()
    return TokenBucket(rate, burst, clock=time.clock, sleep=time.sleep), time


def test_a_full_bucket_lets_a_burst_through_without_waiting() -> None:
    limiter, time = bucket(rate=5, burst=3)
    assert [limiter.acquire() for _ in range(3)] == [0, 0, 0]
    assert time.slept == []


def test_past_the_burst_each_call_waits_one_interval_more() -> None:
    limiter, _ = bucket(rate=4, burst=1)
    limiter.acquire()
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.25, 0.5, 0.75])


def test_no_one_second_window_sees_more_than_burst_plus_rate_calls() -> None:
    limiter, time = bucket(rate=8, burst=2)
    sent: list[float] = []
    for _ in range(100):
        limiter.acquire()
        sent.append(time.now)
    assert max(sum(1 for t in sent if start <= t < start + 1) for start in sent) <= 10
    assert sent[-1] == pytest.approx((100 - 2) / 8)


def test_tokens_come_back_while_idle_but_never_beyond_the_burst() -> None:
    limiter, time = bucket(rate=2, burst=2)
    limiter.acquire(), limiter.acquire()
    time.now += 100
    assert [limiter.reserve() for _ in range(3)] == pytest.approx([0, 0, 0.5])


def test_concurrent_callers_each_get_their_own_slot() -> None:
    limiter, _ = bucket(rate=1000, burst=1)  # time stands still: only the lock orders the callers
    waits: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        waited = limiter.reserve()
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=call) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([i / 1000 for i in range(50)])


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_bucket_that_could_never_serve_is_refused(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_every_acquire_tells_its_wait_for_the_budget_wait_histogram() -> None:
    time, waits = FakeTime(), []
    limiter = TokenBucket(2, 1, clock=time.clock, sleep=time.sleep, on_wait=waits.append)
    limiter.acquire()
    limiter.acquire()
    assert waits == pytest.approx([0.0, 0.5])
