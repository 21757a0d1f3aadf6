"""When passes run: requeue versus jittered resync, backoff attempts, wake-ups, and the Secret watch's rules."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from personalize_operator.pacing import JITTER, Attempts, next_delay
from personalize_operator.secrets import DATA_HASH_ANNOTATION, data_hash
from personalize_operator.secretwatch import exact_namespaces, namespace_matches, needs_repair
from personalize_operator.wakeups import Gates, Wakers, sleep


def test_a_requeue_sooner_than_the_resync_wins() -> None:
    assert next_delay(2.0, 600.0, random.Random(1)) == 2.0


def test_settled_resources_come_back_at_a_jittered_resync() -> None:
    rng = random.Random(7)
    delays = [next_delay(None, 600.0, rng) for _ in range(1000)]
    assert all(600 * (1 - JITTER) <= d <= 600 * (1 + JITTER) for d in delays)
    assert max(delays) - min(delays) > 600 * JITTER  # spread, not one instant


def test_a_long_requeue_never_outlasts_the_resync() -> None:
    assert next_delay(10_000.0, 15.0, random.Random(1)) <= 15 * (1 + JITTER)


def test_attempts_grow_while_a_state_lasts_and_reset_when_it_changes() -> None:
    attempts = Attempts()
    assert [attempts.after("Creating", "Creating", 1, True) for _ in range(3)] == [0, 1, 2]
    assert attempts.after("Active", "Active", 1, False) == 0
    assert attempts.after("Pending", "AccessDenied", 1, True) == 0
    assert attempts.after("Pending", "AccessDenied", 2, True) == 0  # a spec change starts over


def test_a_wake_from_another_thread_cuts_the_sleep_short() -> None:
    async def scenario() -> tuple[bool, float]:
        wakers = Wakers()
        event = wakers.register("uid")
        loop = asyncio.get_running_loop()
        threading.Timer(0.1, wakers.wake, args=("uid",)).start()
        started = loop.time()
        woken = await sleep(event, 30.0)
        return woken, loop.time() - started

    woken, waited = asyncio.run(scenario())
    assert woken and waited < 10


def test_the_sleep_ends_unwoken_at_its_timeout() -> None:
    async def scenario() -> bool:
        return await sleep(Wakers().register("uid"), 0.05)

    assert asyncio.run(scenario()) is False


def test_a_wake_before_the_sleep_is_not_lost() -> None:
    async def scenario() -> tuple[bool, bool]:
        wakers = Wakers()
        event = wakers.register("uid")
        wakers.wake("uid")
        await asyncio.sleep(0)  # call_soon_threadsafe delivers it
        return await sleep(event, 30.0), event.is_set()

    assert asyncio.run(scenario()) == (True, False)


def test_cancelling_a_sleep_stops_it_at_once() -> None:
    """kopf stops a daemon by cancelling it; the sleep must not hold the daemon for its full length."""

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(sleep(Wakers().register("uid"), 30.0))
        await asyncio.sleep(0.05)
        started = loop.time()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return loop.time() - started
        raise AssertionError("a cancelled sleep returned")

    assert asyncio.run(scenario()) < 10


def test_waking_an_unknown_resource_is_a_no_op() -> None:
    assert Wakers().wake("nobody") is False


def test_only_a_changed_fingerprint_calls_for_a_wake() -> None:
    wakers = Wakers()
    assert not wakers.changed("u", (1, None))  # first sight
    assert not wakers.changed("u", (1, None))  # our own status write
    assert wakers.changed("u", (2, None))  # spec edited


def test_one_pass_at_a_time_per_resource() -> None:
    gates, order = Gates(), []

    def hold(tag: str) -> None:
        with gates.held("uid"):
            order.append(f"{tag}-in")
            order.append(f"{tag}-out")

    threads = [threading.Thread(target=hold, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order in (["a-in", "a-out", "b-in", "b-out"], ["b-in", "b-out", "a-in", "a-out"])


DATA = {"trackingId": "aWQ=", "eventTrackerArn": "YXJu"}


@pytest.mark.parametrize(
    ("event", "annotations", "data", "repair"),
    [
        pytest.param("DELETED", {DATA_HASH_ANNOTATION: data_hash(DATA)}, DATA, True, id="deleted"),
        pytest.param("MODIFIED", {DATA_HASH_ANNOTATION: data_hash(DATA)}, DATA, False, id="our-own-write"),
        pytest.param(
            "MODIFIED", {DATA_HASH_ANNOTATION: data_hash(DATA)}, {**DATA, "trackingId": "eA=="}, True, id="data-edited"
        ),
        pytest.param("MODIFIED", {}, DATA, True, id="annotation-removed"),
        pytest.param("ADDED", {DATA_HASH_ANNOTATION: data_hash(DATA)}, DATA, False, id="listed-and-fine"),
    ],
)
def test_the_secret_watch_wakes_only_for_damage(
    event: str, annotations: dict[str, str], data: dict[str, str], repair: bool
) -> None:
    assert needs_repair(event, annotations, data) is repair


@pytest.mark.parametrize(
    ("namespace", "patterns", "watched"),
    [
        ("shop", [], True),
        ("shop", ["shop"], True),
        ("other", ["shop"], False),
        ("solo-1", ["!solo-*"], False),
        ("team-a", ["!solo-*"], True),
        ("team-a", ["team-*", "!team-b"], True),
        ("team-b", ["team-*", "!team-b"], False),
    ],
)
def test_namespace_patterns_follow_kopf(namespace: str, patterns: list[str], watched: bool) -> None:
    assert namespace_matches(namespace, patterns) is watched


def test_exact_namespaces_are_watched_one_by_one_and_patterns_cluster_wide() -> None:
    assert exact_namespaces(["a", "b"]) == ["a", "b"]
    assert exact_namespaces([]) is None
    assert exact_namespaces(["!solo-*"]) is None
