"""Waiting resources follow the status board; an unchanged Active resource resumes from one list."""

from __future__ import annotations

import base64
import random
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from kubernetes.client.rest import ApiException

from personalize_operator.api.names import DATA_HASH_ANNOTATION
from personalize_operator.aws.statusboard import BoardTrackers, StatusBoard
from personalize_operator.aws.tracker import Sighting
from personalize_operator.kube.secrets import data_hash
from personalize_operator.reconciler import resume as economy
from personalize_operator.reconciler.decide import Decision, Phase, Step, decide_resumed
from personalize_operator.reconciler.outcome import Outcome, conclude
from personalize_operator.reconciler.requeue import SAFETY_NET_SECONDS, first_delay, next_delay
from support.builders import ARN, active_recorded, desired
from support.fakes import FakeRegion

DESIRED = desired(generation=3, tags={})
ACTIVE = active_recorded(observed_generation=3)


def board(region: FakeRegion) -> StatusBoard:
    return StatusBoard(region.list, lambda uid: None, interval=60)


def secret(arn: str = ARN, uid: str = "uid-1", edited: bool = False) -> Any:
    data = {"trackingId": base64.b64encode(b"tid").decode(), "eventTrackerArn": base64.b64encode(arn.encode()).decode()}
    annotations = {DATA_HASH_ANNOTATION: data_hash(data)}
    if edited:
        data = {**data, "trackingId": base64.b64encode(b"edited").decode()}
    owner = SimpleNamespace(
        uid=uid, controller=True, kind="EventTracker", api_version="personalize.operators.dev/v1beta1"
    )
    meta = SimpleNamespace(annotations=annotations, owner_references=[owner])
    return SimpleNamespace(data=data, metadata=meta)


class FakeCore:
    def __init__(self, found: Any = None) -> None:
        self.found = found

    def read_namespaced_secret(self, name: str, namespace: str, **_: Any) -> Any:
        if self.found is None:
            raise ApiException(status=404)
        return self.found


def waiting(aws_status: str, requeue: float | None = 2.0, synced: bool = True) -> Outcome:
    decision = Decision(Step.WAIT, Phase.CREATING, "Creating", "waiting", requeue=requeue, synced=synced)
    return Outcome(decision=decision, status={"eventTrackerArn": ARN, "awsStatus": aws_status})


class TestFollowing:
    def test_a_pass_waiting_on_a_creation_follows_the_tracker_with_a_long_safety_net(self) -> None:
        status_board = board(FakeRegion.holding())
        outcome = economy.follow_if_waiting(status_board, "uid-1", waiting("CREATE PENDING"))
        assert status_board.following() == {"uid-1": ARN}
        assert outcome.requeue == SAFETY_NET_SECONDS
        status_board.stop()

    def test_settled_states_errors_and_no_board_are_left_to_the_pass(self) -> None:
        status_board = board(FakeRegion.holding())
        for outcome in (waiting("ACTIVE", requeue=None), waiting("CREATE PENDING", synced=False)):
            assert economy.follow_if_waiting(status_board, "uid-1", outcome) is outcome
        assert economy.follow_if_waiting(None, "uid-1", waiting("CREATE PENDING")).requeue == 2.0
        assert status_board.following() == {}
        status_board.stop()


class TestResume:
    def test_an_unchanged_active_resource_with_an_intact_secret_resumes_from_one_list(self) -> None:
        region = FakeRegion.holding()
        status_board = board(region)
        core = FakeCore(secret())
        assert all(economy.resumes_unchanged(status_board, core, DESIRED, ACTIVE, since=0) for _ in range(50))
        assert region.calls == 1

    def test_anything_in_doubt_takes_the_full_pass(self) -> None:
        cases = [
            (FakeRegion.holding("CREATE FAILED"), FakeCore(secret()), DESIRED, ACTIVE),
            (FakeRegion.holding(""), FakeCore(secret()), DESIRED, ACTIVE),  # gone from AWS
            (FakeRegion.holding(), FakeCore(None), DESIRED, ACTIVE),  # Secret deleted
            (FakeRegion.holding(), FakeCore(secret(edited=True)), DESIRED, ACTIVE),
            (FakeRegion.holding(), FakeCore(secret(arn="arn:other")), DESIRED, ACTIVE),
            (FakeRegion.holding(), FakeCore(secret(uid="someone-else")), DESIRED, ACTIVE),
            (FakeRegion.holding(), FakeCore(secret()), replace(DESIRED, generation=4), ACTIVE),  # spec changed
            (FakeRegion.holding(), FakeCore(secret()), replace(DESIRED, paused=True), ACTIVE),
            (FakeRegion.holding(), FakeCore(secret()), replace(DESIRED, retry_token="again"), ACTIVE),
            (FakeRegion.holding(), FakeCore(secret()), DESIRED, replace(ACTIVE, phase="Failed", reason="CreateFailed")),
        ]
        for region, core, want, recorded in cases:
            assert not economy.resumes_unchanged(board(region), core, want, recorded, since=0)

    def test_a_failing_list_means_the_full_pass(self) -> None:
        def broken() -> list[Sighting]:
            raise RuntimeError("LimitExceededException")

        status_board = StatusBoard(broken, lambda uid: None, interval=60)
        assert not economy.resumes_unchanged(status_board, FakeCore(secret()), DESIRED, ACTIVE, since=0)

    def test_a_resumed_pass_writes_nothing_and_posts_nothing(self) -> None:
        outcome = conclude(
            decide_resumed(DESIRED), desired=DESIRED, recorded=ACTIVE, previous_conditions=(), now="", unchanged=True
        )
        assert outcome.status == {} and outcome.events == [] and outcome.requeue is None
        assert outcome.decision.phase == Phase.ACTIVE


class TestFirstResync:
    def test_the_first_resync_after_start_up_is_spread_over_the_interval_but_never_in_the_first_tenth(self) -> None:
        rng = random.Random(7)
        delays = [first_delay(600, rng) for _ in range(2000)]
        assert min(delays) >= 60 and max(delays) <= 600
        assert sum(1 for d in delays if d < 330) / len(delays) > 0.4  # roughly uniform, not bunched at the end

    def test_a_sooner_requeue_still_wins_on_the_first_pass(self) -> None:
        assert next_delay(2.0, 600, random.Random(1), first=True) == 2.0


class FakeClient:
    """An aws.TrackerClient stand-in: the create answer kept, Describe counted."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[str, str]] = {ARN: ("tid-from-create", DESIRED.dataset_group_arn)}
        self.describes = 0

    def created(self, arn: str) -> tuple[str, str] | None:
        return self.kept.get(arn)

    def forget_created(self, arn: str) -> None:
        self.kept.pop(arn, None)

    def describe(self, arn: str, *, with_tags: bool = False) -> Any:
        self.describes += 1
        return "described"

    def tags(self, arn: str) -> dict[str, str]:
        return {"passed": "through"}


class TestTurningActive:
    def test_a_tracker_we_created_seen_active_by_a_recent_list_needs_no_describe(self) -> None:
        region, inner = FakeRegion.holding("ACTIVE"), FakeClient()
        status_board = board(region)
        status_board.refresh()
        trackers = BoardTrackers(inner, status_board, DESIRED.dataset_group_arn)  # type: ignore[arg-type]
        seen = trackers.describe(ARN)
        assert seen.status == "ACTIVE" and seen.tracking_id == "tid-from-create" and inner.describes == 0
        assert seen.account_id == "111122223333" and seen.dataset_group_arn == DESIRED.dataset_group_arn
        assert trackers.describe(ARN) == "described"  # the create answer is used once, then forgotten
        assert trackers.tags(ARN) == {"passed": "through"}

    def test_a_tracker_in_transition_is_read_from_a_recent_list(self) -> None:
        region, inner = FakeRegion.holding("CREATE IN_PROGRESS"), FakeClient()
        status_board = board(region)
        status_board.refresh()
        seen = BoardTrackers(inner, status_board, DESIRED.dataset_group_arn).describe(ARN)  # type: ignore[arg-type]
        assert seen.status == "CREATE IN_PROGRESS" and seen.tracking_id == "" and inner.describes == 0
        assert inner.kept  # the create answer waits for ACTIVE

    def test_without_a_recent_sighting_that_says_enough_it_describes(self) -> None:
        for status, kept in (("CREATE FAILED", True), ("ACTIVE", False)):
            region, inner = FakeRegion.holding(status), FakeClient()
            if not kept:
                inner.kept.clear()
            status_board = board(region)
            status_board.refresh()
            assert BoardTrackers(inner, status_board, DESIRED.dataset_group_arn).describe(ARN) == "described"  # type: ignore[arg-type]
        never_listed = BoardTrackers(FakeClient(), board(FakeRegion.holding()), DESIRED.dataset_group_arn)  # type: ignore[arg-type]
        assert never_listed.describe(ARN) == "described"
