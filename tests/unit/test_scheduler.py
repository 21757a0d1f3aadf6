"""The scheduler: when each resource's pass runs, with a pass function of our own recording calls.

Time is the event loop's, faked by looptime (kopf's plugin): the scheduler reads only
`loop.time()`, so a 0.3 s wait takes no real time and due times are exact.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from personalize_operator.reconciler.requeue import (
    FIRST_PASS_FINALIZER_WAIT_SECONDS,
    STEP_SHOWN_AFTER_SECONDS,
    first_pass_wait,
)
from personalize_operator.runtime.workqueue import (
    DUE,
    STEP,
    TURN,
    WAKE,
    Entry,
    Scheduler,
    lane_after_pass,
    ready_key,
    wake_moves,
)

# noop_cycles=0: the fake clock steps to the next timer at once. With looptime's default no-op cycles the
# scheduler spins: a due time a few 1e-12 s after loop.time() (0.01 + 0.05 in floating point) is already due
# for asyncio (within the clock resolution) but not for the scheduler's `due <= now`, and fake time does not
# move while something runs. Real time always moves on, so the operator only ever loses a nanosecond there.
pytestmark = pytest.mark.looptime(noop_cycles=0)

Scenario = Callable[[Scheduler, list[tuple[str, float]]], Awaitable[Any]]


async def run(scenario: Scenario, *, delays: dict[str, float | None] | None = None, concurrency: int = 4) -> Any:
    """Start a scheduler whose passes record (uid, loop time) and return `delays[uid]` (default 30 s)."""
    scheduler = Scheduler(concurrency=concurrency)
    calls: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()

    async def one_pass(uid: str, entry: Entry) -> float | None:
        calls.append((uid, loop.time()))
        await asyncio.sleep(0.01)
        return (delays or {}).get(uid, 30.0)

    scheduler.start(one_pass)
    try:
        return await scenario(scheduler, calls)
    finally:
        await scheduler.stop()


async def until(done: Callable[[], bool], timeout: float = 30.0, every: float = 0.005) -> None:
    """Wait for a condition, looking `every` loop seconds (a bound against hangs only: nothing here is about speed)."""
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(every)


@pytest.mark.asyncio
async def test_a_new_resource_runs_at_once_and_again_after_its_delay() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> list[float]:
        assert scheduler.track("a", "ns", "a")
        assert not scheduler.track("a", "ns", "a")  # seen again: no extra pass
        await until(lambda: len(calls) >= 3, timeout=600, every=1.0)  # loop time: two minutes pass in no real time
        return [t for _, t in calls[:3]]

    times = await run(scenario, delays={"a": 60.0})
    assert all(later - earlier >= 60.0 for earlier, later in itertools.pairwise(times))  # never before it is due


@pytest.mark.asyncio
async def test_a_wake_from_another_thread_runs_the_pass_now_and_resets_the_backoff() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[int, int, int]:
        scheduler.track("a", "ns", "a")
        await until(lambda: len(calls) == 1 and not scheduler._entries["a"].running)
        entry = scheduler._entries["a"]
        entry.attempts.count = 3
        woke = threading.Thread(target=scheduler.wake, args=("a",))
        woke.start()
        woke.join()
        await until(lambda: len(calls) == 2)
        return len(calls), entry.attempts.count, scheduler.wake("nobody")

    assert await run(scenario) == (2, 0, False)


@pytest.mark.asyncio
async def test_a_wake_during_a_pass_runs_it_again_right_after() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> int:
        scheduler.track("a", "ns", "a")
        await until(lambda: bool(calls))  # the pass has started and sleeps 10 ms
        assert scheduler._entries["a"].running
        scheduler.wake("a")
        await until(lambda: len(calls) == 2)
        await asyncio.sleep(0.05)
        return len(calls)

    assert await run(scenario) == 2  # not lost, and not run twice at once


@pytest.mark.asyncio
async def test_a_pass_that_returns_none_or_a_forgotten_resource_runs_no_more() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[list[str], int]:
        scheduler.track("gone", "ns", "gone")
        scheduler.track("deleted", "ns", "deleted")
        await until(lambda: len(calls) == 2 and len(scheduler) == 1)
        scheduler.forget("deleted")
        await asyncio.sleep(0.3)  # "deleted" would have been due twice by now
        return [uid for uid, _ in calls], len(scheduler)

    uids, left = await run(scenario, delays={"gone": None, "deleted": 0.05})
    assert uids.count("gone") == 1
    assert uids.count("deleted") == 1
    assert left == 0


@pytest.mark.asyncio
async def test_forgetting_tells_the_status_boards() -> None:
    forgotten: list[str] = []
    scheduler = Scheduler(concurrency=1, on_forget=forgotten.append)
    scheduler.start(lambda uid, entry: asyncio.sleep(0, result=30.0))
    scheduler.track("a", "ns", "a")
    scheduler.forget("a")
    scheduler.forget("a")  # once only
    scheduler.forget("never-seen")
    await scheduler.stop()
    assert forgotten == ["a"]


@pytest.mark.asyncio
async def test_no_more_passes_at_once_than_the_concurrency() -> None:
    scheduler = Scheduler(concurrency=3)
    running, most, finished = 0, 0, 0

    async def one_pass(uid: str, entry: Entry) -> float:
        nonlocal running, most, finished
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        finished += 1
        return 30.0

    scheduler.start(one_pass)
    for index in range(20):
        scheduler.track(str(index), "ns", str(index))
    await until(lambda: finished == 20)
    await scheduler.stop()
    assert most == 3


@pytest.mark.asyncio
async def test_wake_all_wakes_every_tracked_resource() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[int, int]:
        for uid in "abc":
            scheduler.track(uid, "ns", uid)
        await until(lambda: len(calls) == 3 and not any(e.running for e in scheduler._entries.values()))
        woken = scheduler.wake_all()
        await until(lambda: len(calls) == 6)
        return woken, len(calls)

    assert await run(scenario) == (3, 6)


def test_only_a_changed_fingerprint_calls_for_a_wake() -> None:
    scheduler = Scheduler(concurrency=1)
    assert not scheduler.changed("u", (1, None))  # first sight
    assert not scheduler.changed("u", (1, None))  # our own status write
    assert scheduler.changed("u", (2, None))  # spec edited


@pytest.mark.asyncio
async def test_stop_ends_the_task_and_passes_run_no_more() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[bool, int, int]:
        scheduler.track("a", "ns", "a")
        await until(lambda: len(calls) >= 2)
        await scheduler.stop()
        stopped_at = len(calls)
        scheduler.wake("a")
        await asyncio.sleep(0.1)  # "a" is due every 10 ms
        return scheduler._task is not None and scheduler._task.done(), stopped_at, len(calls)

    done, before, after = await run(scenario, delays={"a": 0.0})
    assert done and before == after


QUEUE = {"controller": "eventtracker", "name": "eventtracker"}
WORKERS = {"controller": "eventtracker"}


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.asyncio
async def test_the_work_queue_reports_depth_adds_and_active_workers_as_controller_runtime_does() -> None:
    """Three resources, one worker, passes of 10 s: one runs, two wait (depth 2), then all are done."""
    scheduler = Scheduler(concurrency=1)
    done: list[str] = []
    before = {
        "adds": sample("workqueue_adds_total", QUEUE),
        "queued": sample("workqueue_queue_duration_seconds_count", QUEUE),
        "worked": sample("workqueue_work_duration_seconds_count", QUEUE),
    }

    async def one_pass(uid: str, entry: Entry) -> float:
        await asyncio.sleep(10.0)
        done.append(uid)
        return 600.0

    scheduler.start(one_pass)
    try:
        for uid in "abc":
            scheduler.track(uid, "ns", uid)
        await until(lambda: sample("controller_runtime_active_workers", WORKERS) == 1)
        await asyncio.sleep(4.0)  # the first pass has run 4 s of its 10
        during = (
            sample("workqueue_depth", QUEUE),
            sample("controller_runtime_active_workers", WORKERS),
            sample("workqueue_longest_running_processor_seconds", QUEUE),
            sample("workqueue_unfinished_work_seconds", QUEUE),
            sample("controller_runtime_max_concurrent_reconciles", WORKERS),
        )
        await until(lambda: len(done) == 3, timeout=100)
        await asyncio.sleep(0)  # the last pass's end reschedules it
        after = (sample("workqueue_depth", QUEUE), sample("controller_runtime_active_workers", WORKERS))
    finally:
        await scheduler.stop()
    assert during[:2] == (2, 1) and during[2] == during[3] >= 4.0 and during[4] == 1
    assert after == (0, 0)
    assert sample("workqueue_adds_total", QUEUE) - before["adds"] == 6  # three first passes, three requeues
    assert sample("workqueue_queue_duration_seconds_count", QUEUE) - before["queued"] == 3
    assert sample("workqueue_work_duration_seconds_count", QUEUE) - before["worked"] == 3
    assert sample("workqueue_queue_duration_seconds_bucket", {**QUEUE, "le": "1e-08"}) < sample(
        "workqueue_queue_duration_seconds_count", QUEUE
    )  # the second and third waited 10 and 20 s for the worker


@pytest.mark.asyncio
async def test_a_wake_is_an_add_and_a_woken_resource_waits_in_the_depth_until_a_worker_is_free() -> None:
    scheduler = Scheduler(concurrency=1)
    started: list[str] = []

    async def one_pass(uid: str, entry: Entry) -> float:
        started.append(uid)
        await asyncio.sleep(5.0)
        return 600.0

    scheduler.start(one_pass)
    try:
        scheduler.track("a", "ns", "a")
        scheduler.track("b", "ns", "b")
        await until(lambda: len(started) == 2)
        await until(lambda: sample("controller_runtime_active_workers", WORKERS) == 0)
        adds = sample("workqueue_adds_total", QUEUE)
        scheduler.wake("a")
        scheduler.wake("b")
        await until(lambda: len(started) == 3)
        depth = sample("workqueue_depth", QUEUE)
        woken_adds = sample("workqueue_adds_total", QUEUE) - adds
    finally:
        await scheduler.stop()
    assert (depth, woken_adds) == (1, 2)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param([(DUE, 1.0, 1), (WAKE, 5.0, 9)], [(WAKE, 5.0, 9), (DUE, 1.0, 1)], id="a wake before earlier dues"),
        pytest.param([(DUE, 2.0, 1), (DUE, 1.0, 2)], [(DUE, 1.0, 2), (DUE, 2.0, 1)], id="then earliest due"),
        pytest.param([(WAKE, 1.0, 3), (WAKE, 1.0, 2)], [(WAKE, 1.0, 2), (WAKE, 1.0, 3)], id="then first scheduled"),
        pytest.param([(STEP, 1.0, 1), (DUE, 5.0, 9)], [(DUE, 5.0, 9), (STEP, 1.0, 1)], id="a step after later dues"),
        pytest.param([(WAKE, 1.0, 1), (TURN, 5.0, 9)], [(TURN, 5.0, 9), (WAKE, 1.0, 1)], id="a budget's turn first"),
    ],
)
def test_ready_order(keys: list[tuple[int, float, int]], expected: list[tuple[int, float, int]]) -> None:
    assert sorted(ready_key(*key) for key in keys) == expected


@pytest.mark.parametrize(
    ("lane", "due", "current_lane", "current_due", "expected"),
    [
        pytest.param(WAKE, 10.0, DUE, 50.0, True, id="a wake-up brings a later pass forward"),
        pytest.param(WAKE, 10.0, DUE, 5.0, True, id="a wake-up moves a due pass to its lane"),
        pytest.param(WAKE, 10.0, WAKE, 5.0, False, id="a due wake-up stays"),
        pytest.param(STEP, 15.0, DUE, 130.0, True, id="a step brings the safety net forward"),
        pytest.param(STEP, 15.0, DUE, 5.0, False, id="a step never pushes a due first pass back"),
        pytest.param(STEP, 15.0, DUE, 12.0, False, id="nor a pass due before it"),
        pytest.param(STEP, 15.0, WAKE, 5.0, False, id="nor a due wake-up"),
        pytest.param(DUE, 10.0, STEP, 15.0, True, id="the finalizer's event comes before a step"),
        pytest.param(DUE, 10.0, WAKE, 10.0, False, id="and never demotes a wake-up"),
        pytest.param(WAKE, 10.0, TURN, 10.5, True, id="a wake-up does not wait for the budget's turn"),
        pytest.param(STEP, 15.0, TURN, 10.5, False, id="a step never pushes a turn back"),
    ],
)
def test_wake_moves(lane: int, due: float, current_lane: int, current_due: float, expected: bool) -> None:
    assert wake_moves(lane, due, current_lane, current_due) is expected


@pytest.mark.parametrize(
    ("sent_back", "expected"),
    [
        pytest.param(True, TURN, id="sent back by the call budget: its turn goes first"),
        pytest.param(False, DUE, id="any other pass: with those that came due"),
    ],
)
def test_lane_after_pass(sent_back: bool, expected: int) -> None:
    assert lane_after_pass(sent_back) is expected


@pytest.mark.asyncio
async def test_a_status_board_step_waits_until_no_other_pass_does() -> None:
    """In a burst, a step (shown in status only) costs no slot while first passes wait; the end of its
    transition, a wake-up, replaces it."""

    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> list[str]:
        for name in ("stepped", "ended"):
            scheduler.track(name, "ns", name)
        await until(lambda: len(calls) == 2)
        for name in "abcdef":
            scheduler.track(name, "ns", name)
        scheduler.wake("stepped", urgent=False)
        scheduler.wake("ended", urgent=False)
        await asyncio.sleep(0)
        scheduler.wake("ended")  # its transition ended before its step ran
        await until(lambda: len(calls) == 10)
        await asyncio.sleep(1.0)
        return [uid for uid, _ in calls[2:]]

    order = await run(scenario, concurrency=1)
    assert order[-1] == "stepped" and order.count("ended") == 1 and order.index("ended") <= 1


@pytest.mark.asyncio
async def test_a_pass_sent_back_by_the_call_budget_runs_at_its_turn_ahead_of_wake_ups() -> None:
    """A burst's wake-ups (Secrets to write) fill the slots; a create whose turn in the budget has come is not
    held behind them (its token would be lost to the whole burst)."""
    scheduler = Scheduler(concurrency=1)
    calls: list[str] = []

    async def one_pass(uid: str, entry: Entry) -> float | None:
        calls.append(uid)
        await asyncio.sleep(0.1)
        if uid == "create" and calls.count("create") == 1:
            entry.budget = object()  # as handlers._one_pass records a BudgetWait
            return 0.05  # its turn
        return 30.0

    scheduler.start(one_pass)
    try:
        scheduler.track("create", "ns", "create")
        await until(lambda: calls == ["create"])
        for name in "abcd":
            scheduler.track(name, "ns", name)
            scheduler.wake(name)
        await until(lambda: len(calls) == 6)
    finally:
        await scheduler.stop()
    assert calls[:3] == ["create", "a", "create"]


@pytest.mark.asyncio
async def test_a_step_is_shown_once_it_has_lasted_unless_the_transition_ends_first() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for name in ("long", "short"):
            scheduler.track(name, "ns", name)
        await until(lambda: len(calls) == 2)
        for name in ("long", "short"):
            scheduler.wake(name, urgent=False, after=STEP_SHOWN_AFTER_SECONDS)
        await asyncio.sleep(2.0)
        scheduler.wake("short")  # ACTIVE 2 s into its step
        await asyncio.sleep(STEP_SHOWN_AFTER_SECONDS * 2)
        return [(uid, round(t - started, 1)) for uid, t in calls[2:]]

    assert await run(scenario) == [("short", 2.0), ("long", STEP_SHOWN_AFTER_SECONDS)]


@pytest.mark.asyncio
async def test_the_finalizer_showing_up_after_its_pass_started_on_the_timer_runs_no_second_pass() -> None:
    """In a burst kopf may add the finalizer later than the 1 s wait: the pass read it itself, no rerun."""

    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[int, bool]:
        scheduler.track("a", "ns", "a", awaiting_finalizer=FIRST_PASS_FINALIZER_WAIT_SECONDS)
        await until(lambda: len(calls) == 1)
        woke = scheduler.finalizer_added("a")  # its event, processed while the pass runs
        await asyncio.sleep(1.0)
        return len(calls), woke

    assert await run(scenario) == (1, False)


@pytest.mark.asyncio
async def test_a_wake_up_gets_a_free_slot_before_passes_that_came_due_earlier() -> None:
    """A burst of new resources (their first passes due) does not hold back a resource the status board woke."""

    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> list[str]:
        scheduler.track("ready", "ns", "ready")
        await until(lambda: len(calls) == 1)
        for name in "abcdefgh":
            scheduler.track(name, "ns", name)
        scheduler.wake("ready")
        await until(lambda: len(calls) == 10)
        return [uid for uid, _ in calls[1:]]

    order = await run(scenario, concurrency=1)
    assert order.index("ready") <= 1  # at most the one pass that had already taken the slot goes first


@pytest.mark.parametrize(("has_finalizer", "wait"), [(True, None), (False, FIRST_PASS_FINALIZER_WAIT_SECONDS)])
def test_a_new_resource_without_the_finalizer_waits_for_it(has_finalizer: bool, wait: float | None) -> None:
    assert first_pass_wait(has_finalizer) == wait


@pytest.mark.asyncio
async def test_the_finalizer_showing_up_runs_the_first_pass_at_once_and_only_once() -> None:
    """No pass that would only read the object and find no finalizer: the watch event that shows it starts it."""

    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[list[float], bool, bool]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        scheduler.track("a", "ns", "a", awaiting_finalizer=FIRST_PASS_FINALIZER_WAIT_SECONDS)
        await asyncio.sleep(0.2)
        before = list(calls)
        first = scheduler.finalizer_added("a")
        await until(lambda: len(calls) == 1)
        again = scheduler.finalizer_added("a")  # every later watch event shows it too: no extra pass
        await asyncio.sleep(FIRST_PASS_FINALIZER_WAIT_SECONDS * 2)
        return [t - started for _, t in before + calls], first, again

    times, first, again = await run(scenario)
    assert len(times) == 1 and 0.2 <= times[0] < FIRST_PASS_FINALIZER_WAIT_SECONDS and first and not again


@pytest.mark.asyncio
async def test_a_finalizer_that_never_shows_up_still_gets_its_pass_after_the_wait() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> float:
        started = asyncio.get_running_loop().time()
        scheduler.track("a", "ns", "a", awaiting_finalizer=FIRST_PASS_FINALIZER_WAIT_SECONDS)
        await until(lambda: len(calls) == 1)
        return calls[0][1] - started

    assert await run(scenario) >= FIRST_PASS_FINALIZER_WAIT_SECONDS


@pytest.mark.asyncio
@pytest.mark.parametrize(("board", "runs"), [(True, 1), (False, 2)])
async def test_a_pass_that_stopped_waiting_drops_the_status_boards_news_that_came_meanwhile(
    board: bool, runs: int
) -> None:
    """The board saw the tracker ACTIVE while the pass, reading the same list, already acted on it: no rerun.
    Any other wake-up during the pass (a Secret edited) still runs it again."""
    scheduler = Scheduler(concurrency=2)
    calls: list[str] = []

    async def one_pass(uid: str, entry: Entry) -> float | None:
        calls.append(uid)
        if len(calls) == 1:
            scheduler.wake(uid, board=board)
            await asyncio.sleep(0.01)
            entry.drop_board_wakes()  # handlers: the pass ended not waiting on a transition
        return 30.0

    scheduler.start(one_pass)
    try:
        scheduler.track("a", "ns", "a")
        await asyncio.sleep(5.0)
    finally:
        await scheduler.stop()
    assert len(calls) == runs
