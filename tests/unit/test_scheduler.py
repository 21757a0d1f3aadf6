"""The scheduler: when each resource's pass runs, with a pass function of our own recording calls."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from personalize_operator.runtime.workqueue import Entry, Scheduler

Scenario = Callable[[Scheduler, list[tuple[str, float]]], Awaitable[Any]]


def run(scenario: Scenario, *, delays: dict[str, float | None] | None = None, concurrency: int = 4) -> Any:
    """Start a scheduler whose passes record (uid, loop time) and return `delays[uid]` (default 30 s)."""

    async def main() -> Any:
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

    return asyncio.run(main())


async def until(done: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for a condition (a bound against hangs only: no assertion here is about speed)."""
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.005)


def test_a_new_resource_runs_at_once_and_again_after_its_delay() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> list[float]:
        assert scheduler.track("a", "ns", "a")
        assert not scheduler.track("a", "ns", "a")  # seen again: no extra pass
        await until(lambda: len(calls) >= 3)
        return [t for _, t in calls[:3]]

    times = run(scenario, delays={"a": 0.1})
    assert all(later - earlier >= 0.1 for earlier, later in itertools.pairwise(times))  # never before it is due


def test_a_wake_from_another_thread_runs_the_pass_now_and_resets_the_backoff() -> None:
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

    assert run(scenario) == (2, 0, False)


def test_a_wake_during_a_pass_runs_it_again_right_after() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> int:
        scheduler.track("a", "ns", "a")
        await until(lambda: bool(calls))  # the pass has started and sleeps 10 ms
        assert scheduler._entries["a"].running
        scheduler.wake("a")
        await until(lambda: len(calls) == 2)
        await asyncio.sleep(0.05)
        return len(calls)

    assert run(scenario) == 2  # not lost, and not run twice at once


def test_a_pass_that_returns_none_or_a_forgotten_resource_runs_no_more() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[list[str], int]:
        scheduler.track("gone", "ns", "gone")
        scheduler.track("deleted", "ns", "deleted")
        await until(lambda: len(calls) == 2 and len(scheduler) == 1)
        scheduler.forget("deleted")
        await asyncio.sleep(0.3)  # "deleted" would have been due twice by now
        return [uid for uid, _ in calls], len(scheduler)

    uids, left = run(scenario, delays={"gone": None, "deleted": 0.05})
    assert uids.count("gone") == 1
    assert uids.count("deleted") == 1
    assert left == 0


def test_forgetting_tells_the_status_boards() -> None:
    forgotten: list[str] = []
    scheduler = Scheduler(concurrency=1, on_forget=forgotten.append)

    async def main() -> None:
        scheduler.start(lambda uid, entry: asyncio.sleep(0, result=30.0))
        scheduler.track("a", "ns", "a")
        scheduler.forget("a")
        scheduler.forget("a")  # once only
        scheduler.forget("never-seen")
        await scheduler.stop()

    asyncio.run(main())
    assert forgotten == ["a"]


def test_no_more_passes_at_once_than_the_concurrency() -> None:
    async def main() -> int:
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
        return most

    assert asyncio.run(main()) == 3


def test_wake_all_wakes_every_tracked_resource() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[int, int]:
        for uid in "abc":
            scheduler.track(uid, "ns", uid)
        await until(lambda: len(calls) == 3 and not any(e.running for e in scheduler._entries.values()))
        woken = scheduler.wake_all()
        await until(lambda: len(calls) == 6)
        return woken, len(calls)

    assert run(scenario) == (3, 6)


def test_only_a_changed_fingerprint_calls_for_a_wake() -> None:
    scheduler = Scheduler(concurrency=1)
    assert not scheduler.changed("u", (1, None))  # first sight
    assert not scheduler.changed("u", (1, None))  # our own status write
    assert scheduler.changed("u", (2, None))  # spec edited


def test_stop_ends_the_task_and_passes_run_no_more() -> None:
    async def scenario(scheduler: Scheduler, calls: list[tuple[str, float]]) -> tuple[bool, int, int]:
        scheduler.track("a", "ns", "a")
        await until(lambda: len(calls) >= 2)
        await scheduler.stop()
        stopped_at = len(calls)
        scheduler.wake("a")
        await asyncio.sleep(0.1)  # "a" is due every 10 ms
        return scheduler._task is not None and scheduler._task.done(), stopped_at, len(calls)

    done, before, after = run(scenario, delays={"a": 0.0})
    assert done and before == after
