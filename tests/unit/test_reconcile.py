"""reconcile.py driven through in-memory fakes of its edges, one row per line of the behaviour table.

The fakes are of our own interfaces (Trackers, SecretWriter, Owners), not of
boto3 or Kubernetes: the end-to-end suite proves those. Here every row checks
what a pass does remotely, what it decides and which Events it posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from personalize_operator.api.names import UID_TAG
from personalize_operator.aws.errors import AccessDenied, AwsError, NotFound, Retryable
from personalize_operator.aws.ratelimit import BudgetWait
from personalize_operator.reconciler.decide import Desired, Phase, Recorded, Step
from personalize_operator.reconciler.reconcile import Context, Outcome, finalize, reconcile
from support.builders import desired
from support.fakes import FakeOwners, FakeSecrets, FakeTrackers

DESIRED = desired()
OURS = {UID_TAG: "uid-1"}


@dataclass
class World:
    aws: FakeTrackers = field(default_factory=FakeTrackers)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    owners: FakeOwners = field(default_factory=FakeOwners)
    marks: list[str] = field(default_factory=list)

    def context(self, desired: Desired = DESIRED, recorded: Recorded | None = None) -> Context:
        return Context(
            aws=self.aws,
            secrets=self.secrets,
            owners=self.owners,
            desired=desired,
            recorded=recorded or Recorded(),
            previous_conditions=[],
            mark_create_requested=lambda: self.marks.append("createRequested"),
            now=lambda: "2026-11-27T10:00:00Z",
        )


def reasons(outcome: Outcome) -> list[str]:
    return [event.reason for event in outcome.events]


class TestLiveResource:
    def test_a_new_resource_records_the_request_then_creates_once(self) -> None:
        world = World()
        outcome = reconcile(world.context())
        assert world.marks == ["createRequested"]
        assert world.aws.calls.count("CreateEventTracker") == 1
        assert outcome.decision.phase == Phase.CREATING and outcome.status["createRequested"] is True
        assert outcome.status["eventTrackerArn"] in world.aws.trackers
        assert reasons(outcome) == ["Creating"]  # the create is said in its message (decide.pass_events)

    def test_an_active_tracker_gets_its_tags_and_secret(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", OURS)
        outcome = reconcile(world.context(recorded=Recorded(arn=tracker.arn, phase="Creating", reason="Creating")))
        assert outcome.decision.step == Step.SYNC and outcome.decision.phase == Phase.ACTIVE
        assert world.secrets.written == {"storefront-tracking": tracker.tracking_id}
        assert world.aws.trackers[tracker.arn].tags["team"] == "growth"
        assert reasons(outcome) == ["Active", "TagsUpdated"]  # the Secret is said in the Active Event

    def test_an_active_resource_in_line_writes_nothing_and_posts_nothing(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", {**OURS, **DESIRED.remote_tags})
        world.secrets.written["storefront-tracking"] = tracker.tracking_id
        outcome = reconcile(world.context(recorded=Recorded(arn=tracker.arn, phase="Active", reason="Active")))
        assert world.aws.calls == ["DescribeEventTracker", "ListTagsForResource"]
        assert outcome.events == [] and outcome.requeue is None

    def test_a_tracker_deleted_out_of_band_is_recreated_with_one_warning(self) -> None:
        world = World()
        outcome = reconcile(world.context(recorded=Recorded(arn="arn:gone", phase="Active", reason="Active")))
        assert outcome.decision.reason == "RemoteMissing"
        assert world.aws.calls.count("CreateEventTracker") == 1
        assert reasons(outcome).count("RemoteMissing") == 1
        assert [e.type for e in outcome.events if e.reason == "RemoteMissing"] == ["Warning"]

    def test_a_lost_arn_is_found_again_by_our_uid_tag(self) -> None:
        world = World()
        ours = world.aws.add("ACTIVE", OURS)
        outcome = reconcile(world.context(recorded=Recorded(create_requested=True)))
        assert "CreateEventTracker" not in world.aws.calls
        assert outcome.status["eventTrackerArn"] == ours.arn

    def test_a_create_that_must_wait_for_the_call_budget_leaves_nothing_behind(self) -> None:
        """The token is taken before createRequested is written: a pass sent back to wait wrote nothing."""
        world = World()

        def empty() -> None:
            raise BudgetWait(0.5)

        with pytest.raises(BudgetWait):
            reconcile(replace(world.context(), secure_call=empty))
        assert world.marks == [] and world.aws.calls == []

    def test_a_new_resource_creates_without_listing_first(self) -> None:
        world = World()
        reconcile(world.context())
        assert world.aws.calls == ["CreateEventTracker"]

    def test_a_new_resource_asked_to_adopt_looks_first_and_never_tries_a_create(self) -> None:
        world = World()
        world.aws.add("ACTIVE", {}, name="old")
        outcome = reconcile(world.context(desired=desired(adopt=True)))
        assert outcome.decision.step == Step.ADOPT and "CreateEventTracker" not in world.aws.calls

    def test_a_create_into_a_group_holding_our_tracker_finds_it_and_writes_the_secret_in_the_same_pass(
        self,
    ) -> None:
        world = World()
        ours = world.aws.add("ACTIVE", OURS, name="renamed-since")  # not in the region's list under our name
        outcome = reconcile(world.context())
        assert world.aws.calls[:2] == ["CreateEventTracker", "ListEventTrackers"] and len(world.aws.trackers) == 1
        assert outcome.status["eventTrackerArn"] == ours.arn and outcome.decision.phase == Phase.ACTIVE
        assert world.secrets.written == {"storefront-tracking": ours.tracking_id}

    def test_a_new_resource_whose_name_the_region_lists_looks_first_and_never_tries_a_create(self) -> None:
        world = World()
        ours = world.aws.add("ACTIVE", OURS)  # a restore: the tracker is there, status is not
        outcome = reconcile(world.context())
        assert "CreateEventTracker" not in world.aws.calls and outcome.status["eventTrackerArn"] == ours.arn
        assert world.secrets.written == {"storefront-tracking": ours.tracking_id}

    def test_a_tracker_just_created_with_the_current_spec_turns_active_without_listing_its_tags(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", DESIRED.remote_tags)
        recorded = Recorded(arn=tracker.arn, phase="Creating", reason="Creating", observed_generation=1)
        outcome = reconcile(world.context(recorded=recorded))
        assert world.aws.calls == ["DescribeEventTracker"] and outcome.decision.phase == Phase.ACTIVE
        assert world.secrets.written == {"storefront-tracking": tracker.tracking_id}

    def test_a_spec_changed_during_creation_gets_its_tags_compared(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", OURS)
        recorded = Recorded(arn=tracker.arn, phase="Creating", reason="Creating", observed_generation=1)
        reconcile(world.context(desired=desired(generation=2), recorded=recorded))
        assert "ListTagsForResource" in world.aws.calls and world.aws.trackers[tracker.arn].tags["team"] == "growth"

    def test_a_foreign_tracker_is_a_conflict_with_no_remote_change(self) -> None:
        world = World()
        world.aws.add("ACTIVE", {}, name="theirs")
        outcome = reconcile(world.context())
        assert outcome.decision.reason == "Conflict"
        assert "TagResource" not in world.aws.calls and len(world.aws.trackers) == 1  # the create was refused

    def test_adoption_never_takes_a_tracker_another_live_resource_owns(self) -> None:
        world = World(owners=FakeOwners(alive_uids={"uid-a"}))
        theirs = world.aws.add(
            "ACTIVE",
            {
                UID_TAG: "uid-a",
                "personalize.operators.dev/namespace": "team-a",
                "personalize.operators.dev/name": "shop",
            },
            name="shop",
        )
        outcome = reconcile(world.context(desired=desired(adopt=True)))
        assert outcome.decision.reason == "Conflict" and "team-a/shop" in outcome.decision.message
        assert world.aws.trackers[theirs.arn].tags[UID_TAG] == "uid-a"
        assert world.secrets.written == {}

    def test_adoption_takes_a_tracker_whose_owner_is_gone(self) -> None:
        world = World()
        orphan = world.aws.add("ACTIVE", {UID_TAG: "uid-dead"}, name="old")
        outcome = reconcile(world.context(desired=desired(adopt=True)))
        assert outcome.decision.step == Step.ADOPT
        assert world.aws.trackers[orphan.arn].tags[UID_TAG] == "uid-1"
        assert len(world.aws.trackers) == 1

    def test_paused_makes_no_call_and_writes_no_secret(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", OURS)
        outcome = reconcile(
            world.context(
                desired=desired(paused=True, tags={"new": "tag"}),
                recorded=Recorded(arn=tracker.arn, phase="Active", reason="Active"),
            )
        )
        assert world.aws.calls == [] and world.secrets.written == {}
        assert outcome.decision.reason == "Paused" and outcome.decision.phase == Phase.ACTIVE
        assert reasons(outcome) == ["Paused"]

    @pytest.mark.parametrize(
        ("error", "reason", "phase"),
        [
            pytest.param(
                AccessDenied("AccessDeniedException", "no", "CreateEventTracker"),
                "AccessDenied",
                Phase.PENDING,
                id="access-denied",
            ),
            pytest.param(
                Retryable("InternalFailure", "", "CreateEventTracker"), "AWSUnavailable", Phase.PENDING, id="5xx"
            ),
            pytest.param(
                NotFound("ResourceNotFoundException", "no dg", "CreateEventTracker"),
                "DatasetGroupNotFound",
                Phase.PENDING,
                id="dataset-group-missing",
            ),
        ],
    )
    def test_a_failed_create_is_explained_and_retried(self, error: AwsError, reason: str, phase: Phase) -> None:
        world = World(aws=FakeTrackers(fail={"CreateEventTracker": error}))
        outcome = reconcile(world.context())
        assert (outcome.decision.reason, outcome.decision.phase) == (reason, phase)
        assert outcome.requeue and "CannotCreateEventTracker" in reasons(outcome)
        synced = next(c for c in outcome.status["conditions"] if c["type"] == "Synced")
        assert synced["status"] == "False" and synced["reason"] == reason

    def test_a_secret_that_belongs_to_someone_else_is_a_conflict(self) -> None:
        world = World(secrets=FakeSecrets(conflict=True))
        world.aws.add("ACTIVE", OURS)
        outcome = reconcile(world.context())
        assert (outcome.decision.phase, outcome.decision.reason) == (Phase.FAILED, "SecretConflict")

    def test_a_secret_kubernetes_refuses_is_not_written(self) -> None:
        world = World(secrets=FakeSecrets(broken=True))
        world.aws.add("ACTIVE", OURS)
        outcome = reconcile(world.context())
        assert (outcome.decision.phase, outcome.decision.reason) == (Phase.PENDING, "SecretNotWritten")


class TestDeletion:
    def test_retain_releases_without_a_look_at_aws_beyond_untagging_once(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", {**OURS, "team": "growth"})
        outcome = finalize(world.context(desired=desired(retain=True), recorded=Recorded(arn=tracker.arn)))
        assert outcome.release
        assert world.aws.calls == ["ListTagsForResource", "UntagResource"]
        assert UID_TAG not in world.aws.trackers[tracker.arn].tags and tracker.arn in world.aws.trackers

    def test_retain_releases_even_when_every_call_fails(self) -> None:
        boom = Retryable("InternalFailure", "", "ListTagsForResource")
        world = World(aws=FakeTrackers(fail={"ListTagsForResource": boom}))
        outcome = finalize(world.context(desired=desired(retain=True), recorded=Recorded(arn="arn:x")))
        assert outcome.release and "CannotReleaseEventTracker" in reasons(outcome)

    def test_a_resource_that_never_asked_for_a_tracker_releases_with_no_call(self) -> None:
        world = World(aws=FakeTrackers(fail={"ListEventTrackers": Retryable("InternalFailure", "", "List")}))
        outcome = finalize(world.context())
        assert outcome.release and world.aws.calls == []

    def test_delete_policy_deletes_then_waits_until_gone(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", OURS)
        first = finalize(world.context(recorded=Recorded(arn=tracker.arn)))
        assert not first.release and world.aws.trackers[tracker.arn].status == "DELETE PENDING"
        del world.aws.trackers[tracker.arn]
        assert finalize(world.context(recorded=Recorded(arn=tracker.arn))).release

    def test_a_create_requested_but_unrecorded_tracker_is_found_and_deleted(self) -> None:
        world = World()
        tracker = world.aws.add("ACTIVE", OURS)
        outcome = finalize(world.context(recorded=Recorded(create_requested=True)))
        assert not outcome.release and world.aws.trackers[tracker.arn].status == "DELETE PENDING"

    def test_a_foreign_tracker_is_never_deleted(self) -> None:
        world = World()
        theirs = world.aws.add("ACTIVE", {UID_TAG: "someone"})
        outcome = finalize(world.context(recorded=Recorded(create_requested=True)))
        assert outcome.release and world.aws.trackers[theirs.arn].status == "ACTIVE"

    def test_aws_errors_while_deleting_keep_the_finalizer_and_retry(self) -> None:
        world = World(aws=FakeTrackers(fail={"DescribeEventTracker": AccessDenied("AccessDeniedException", "", "D")}))
        outcome = finalize(world.context(recorded=Recorded(arn="arn:x")))
        assert not outcome.release and outcome.decision.phase == Phase.DELETING and outcome.requeue


class TestClientThatCannotBeBuilt:
    def test_a_region_botocore_refuses_is_a_status_not_a_traceback(self) -> None:
        from personalize_operator.aws.client import ClientPool
        from personalize_operator.aws.errors import InvalidInput
        from personalize_operator.reconciler.passes import Unreachable

        with pytest.raises(InvalidInput) as refused:
            ClientPool().for_region("us-east-")
        world = World()
        ctx = world.context(desired=desired(region="us-east-"))
        ctx.aws = Unreachable(refused.value)  # type: ignore[assignment]
        outcome = reconcile(ctx)
        assert (outcome.decision.phase, outcome.decision.reason) == (Phase.FAILED, "InvalidSpec")
        assert "us-east-" in outcome.decision.message
        assert "CannotObserveEventTracker" in reasons(outcome)  # a new resource's first call looks for its name
        deleting = world.context(desired=desired(region="us-east-", retain=True))
        deleting.aws = Unreachable(refused.value)  # type: ignore[assignment]
        assert finalize(deleting).release
