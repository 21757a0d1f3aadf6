"""When passes run: requeue or jittered resync, backoff attempts, the per-resource gate, the Secret watch's rules."""

from __future__ import annotations

import random
import threading

import pytest

from personalize_operator.api.names import DATA_HASH_ANNOTATION
from personalize_operator.kube.secrets import data_hash
from personalize_operator.kube.secretwatch import exact_namespaces, namespace_matches, needs_repair
from personalize_operator.reconciler.requeue import JITTER, next_delay
from personalize_operator.runtime.locks import Gates
from personalize_operator.runtime.workqueue import Attempts


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
