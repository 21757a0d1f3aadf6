"""Waiting resources follow the status board; an unchanged Active resource resumes from one list."""

from __future__ import annotations

import base64
import random
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from kubernetes.client.rest import ApiException

from personalize_operator import economy
from personalize_operator.board import Sighting, StatusBoard
from personalize_operator.decide import Decision, Desired, Phase, Recorded, Step
from personalize_operator.pacing import first_delay, next_delay
from personalize_operator.reconcile import Outcome
from personalize_operator.secrets import DATA_HASH_ANNOTATION, data_hash

ARN = "arn:aws:personalize:eu-west-1:111122223333:event-tracker/1"
DESIRED = Desired(
    uid="uid-1",
    namespace="shop",
    name="storefront",
    generation=3,
    tracker_name="storefront",
    dataset_group_arn="arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop",
    region="eu-west-1",
    secret_name="storefront-tracking",
)
ACTIVE = Recorded(arn=ARN, phase="Active", reason="Active", observed_generation=3, secret_name="storefront-tracking")


class FakeRegion:
    def __init__(self, status: str = "ACTIVE") -> None:
        self.status = status
        self.lists = 0

    def list(self) -> list[Sighting]:
        self.lists += 1
        return [Sighting(arn=ARN, name="storefront", status=self.status)] if self.status else []


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
        status_board = board(FakeRegion())
        outcome = economy.follow_if_waiting(status_board, "uid-1", waiting("CREATE PENDING"))
        assert status_board.following() == {"uid-1": ARN}
        assert outcome.requeue == economy.SAFETY_NET_SECONDS
        status_board.stop()

    def test_settled_states_errors_and_no_board_are_left_to_the_pass(self) -> None:
        status_board = board(FakeRegion())
        for outcome in (waiting("ACTIVE", requeue=None), waiting("CREATE PENDING", synced=False)):
            assert economy.follow_if_waiting(status_board, "uid-1", outcome) is outcome
        assert economy.follow_if_waiting(None, "uid-1", waiting("CREATE PENDING")).requeue == 2.0
        assert status_board.following() == {}
        status_board.stop()


class TestResume:
    def test_an_unchanged_active_resource_with_an_intact_secret_resumes_from_one_list(self) -> None:
        region = FakeRegion()
        status_board = board(region)
        core = FakeCore(secret())
        assert all(economy.resumes_unchanged(status_board, core, DESIRED, ACTIVE, since=0) for _ in range(50))
        assert region.lists == 1

    def test_anything_in_doubt_takes_the_full_pass(self) -> None:
        cases = [
            (FakeRegion("CREATE FAILED"), FakeCore(secret()), DESIRED, ACTIVE),
            (FakeRegion(""), FakeCore(secret()), DESIRED, ACTIVE),  # gone from AWS
            (FakeRegion(), FakeCore(None), DESIRED, ACTIVE),  # Secret deleted
            (FakeRegion(), FakeCore(secret(edited=True)), DESIRED, ACTIVE),
            (FakeRegion(), FakeCore(secret(arn="arn:other")), DESIRED, ACTIVE),
            (FakeRegion(), FakeCore(secret(uid="someone-else")), DESIRED, ACTIVE),
            (FakeRegion(), FakeCore(secret()), replace(DESIRED, generation=4), ACTIVE),  # spec changed
            (FakeRegion(), FakeCore(secret()), replace(DESIRED, paused=True), ACTIVE),
            (FakeRegion(), FakeCore(secret()), replace(DESIRED, retry_token="again"), ACTIVE),
            (FakeRegion(), FakeCore(secret()), DESIRED, replace(ACTIVE, phase="Failed", reason="CreateFailed")),
        ]
        for region, core, desired, recorded in cases:
            assert not economy.resumes_unchanged(board(region), core, desired, recorded, since=0)

    def test_a_failing_list_means_the_full_pass(self) -> None:
        def broken() -> list[Sighting]:
            raise RuntimeError("LimitExceededException")

        status_board = StatusBoard(broken, lambda uid: None, interval=60)
        assert not economy.resumes_unchanged(status_board, FakeCore(secret()), DESIRED, ACTIVE, since=0)

    def test_a_resumed_pass_writes_nothing_and_posts_nothing(self) -> None:
        outcome = economy.resumed(DESIRED)
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
        region, inner = FakeRegion("ACTIVE"), FakeClient()
        status_board = board(region)
        status_board.refresh()
        trackers = economy.BoardTrackers(inner, status_board, DESIRED.dataset_group_arn)  # type: ignore[arg-type]
        seen = trackers.describe(ARN)
        assert seen.status == "ACTIVE" and seen.tracking_id == "tid-from-create" and inner.describes == 0
        assert seen.account_id == "111122223333" and seen.dataset_group_arn == DESIRED.dataset_group_arn
        assert trackers.describe(ARN) == "described"  # the create answer is used once, then forgotten
        assert trackers.tags(ARN) == {"passed": "through"}

    def test_a_tracker_in_transition_is_read_from_a_recent_list(self) -> None:
        region, inner = FakeRegion("CREATE IN_PROGRESS"), FakeClient()
        status_board = board(region)
        status_board.refresh()
        seen = economy.BoardTrackers(inner, status_board, DESIRED.dataset_group_arn).describe(ARN)  # type: ignore[arg-type]
        assert seen.status == "CREATE IN_PROGRESS" and seen.tracking_id == "" and inner.describes == 0
        assert inner.kept  # the create answer waits for ACTIVE

    def test_without_a_recent_sighting_that_says_enough_it_describes(self) -> None:
        for status, kept in (("CREATE FAILED", True), ("ACTIVE", False)):
            region, inner = FakeRegion(status), FakeClient()
            if not kept:
                inner.kept.clear()
            status_board = board(region)
            status_board.refresh()
            assert economy.BoardTrackers(inner, status_board, DESIRED.dataset_group_arn).describe(ARN) == "described"  # type: ignore[arg-type]
        never_listed = economy.BoardTrackers(FakeClient(), board(FakeRegion()), DESIRED.dataset_group_arn)  # type: ignore[arg-type]
        assert never_listed.describe(ARN) == "described"
