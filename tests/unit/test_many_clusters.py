"""Many clusters, one AWS account: ownership is cluster + namespace + name, decided from tags (pure and through
reconcile.py with in-memory fakes of our own edges).

The end-to-end proof with two control planes is tests/e2e/test_many_clusters_end_to_end.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from personalize_operator.api.names import ARN_ANNOTATION, CLUSTER_TAG, NAME_TAG, NAMESPACE_TAG, UID_TAG
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.reconciler import inputs, status
from personalize_operator.reconciler.conditions import is_stalled
from personalize_operator.reconciler.decide import (
    Desired,
    Observation,
    Ownership,
    Phase,
    Recorded,
    Step,
    decide,
    decide_deletion,
    decide_tags_read,
    looks_first,
    ownership,
    settled_active,
)
from personalize_operator.reconciler.reconcile import Context, finalize, reconcile
from support.builders import desired, remote_tracker
from support.fakes import FakeOwners, FakeSecrets, FakeTrackers

A, B = "cluster-a", "cluster-b"
HERE = desired(uid="uid-new", tags={}, cluster=A)


def tags(cluster: str = A, namespace: str = "shop", name: str = "storefront", uid: str = "uid-old") -> dict[str, str]:
    found = {UID_TAG: uid, NAMESPACE_TAG: namespace, NAME_TAG: name}
    return {**found, CLUSTER_TAG: cluster} if cluster else found


def tracker(found_tags: dict[str, str]) -> RemoteTracker:
    return remote_tracker(tags=found_tags)


@pytest.mark.parametrize(
    ("found", "desired", "expected"),
    [
        pytest.param(tags(), HERE, Ownership.OURS, id="same-cluster-namespace-name-any-uid"),
        pytest.param(tags(B), HERE, Ownership.OTHER_CLUSTER, id="other-cluster"),
        pytest.param(tags(B), replace(HERE, adopt=True), Ownership.OTHER_CLUSTER, id="adopt-changes-nothing"),
        pytest.param(tags(name="other"), HERE, Ownership.FOREIGN, id="same-cluster-other-resource"),
        pytest.param(tags("", uid="uid-new"), HERE, Ownership.OURS, id="before-cluster-tags-by-uid"),
        pytest.param(tags("", uid="uid-old"), HERE, Ownership.FOREIGN, id="before-cluster-tags-other-uid"),
        pytest.param(tags(B, uid="uid-new"), replace(HERE, cluster=""), Ownership.OURS, id="no-identity-by-uid"),
        pytest.param({}, HERE, Ownership.FOREIGN, id="untagged"),
    ],
)
def test_ownership_is_cluster_namespace_and_name_and_by_uid_before_cluster_tags(
    found: dict[str, str], desired: Desired, expected: Ownership
) -> None:
    assert ownership(tracker(found), desired) == expected


class TestDecisions:
    def test_another_clusters_tracker_is_failed_naming_that_cluster_and_never_adopted(self) -> None:
        for want in (HERE, replace(HERE, adopt=True), replace(HERE, take_over_from="cluster-c")):
            decision = decide(want, Recorded(), Observation(other_cluster=tracker(tags(B))))
            assert (decision.step, decision.phase, decision.reason) == (
                Step.CONFLICT,
                Phase.FAILED,
                "OwnedByOtherCluster",
            )
            assert B in decision.message and "shop/storefront" in decision.message
            assert decision.owner_cluster == B and decision.forget_arn and is_stalled(decision.phase, decision.reason)

    def test_the_take_over_annotation_naming_exactly_that_cluster_takes_it(self) -> None:
        decision = decide(replace(HERE, take_over_from=B), Recorded(), Observation(other_cluster=tracker(tags(B))))
        assert (decision.step, decision.reason) == (Step.ADOPT, "TakingOver")

    def test_tags_read_on_a_tracker_found_by_arn_refuse_another_clusters_even_with_take_over(self) -> None:
        assert decide_tags_read(replace(HERE, take_over_from=B), tracker({}), tags(B)).reason == "OwnedByOtherCluster"
        assert decide_tags_read(HERE, tracker({}), tags()) is None
        assert decide_tags_read(HERE, tracker({}), tags("")) is None

    def test_deleting_never_deletes_another_clusters_tracker(self) -> None:
        decision = decide_deletion(HERE, Observation(tracker=tracker(tags(B))))
        assert (decision.step, decision.reason, decision.owner_cluster) == (Step.RELEASE, "OwnedByOtherCluster", B)
        assert decide_deletion(HERE, Observation(tracker=tracker(tags()))).step == Step.DELETE

    @pytest.mark.parametrize(
        ("desired", "recorded", "listed", "expected"),
        [
            pytest.param(HERE, Recorded(), False, False, id="new-name-not-listed"),
            pytest.param(HERE, Recorded(), True, True, id="restore-name-listed"),
            pytest.param(HERE, Recorded(arn="arn:x"), False, True, id="recorded-arn"),
            pytest.param(HERE, Recorded(create_requested=True), False, True, id="create-requested"),
            pytest.param(replace(HERE, adopt=True), Recorded(), False, True, id="adopt"),
            pytest.param(replace(HERE, take_over_from=B), Recorded(), False, True, id="take-over"),
        ],
    )
    def test_a_pass_looks_before_creating_when_anything_says_a_tracker_may_be_there(
        self, desired: Desired, recorded: Recorded, listed: bool, expected: bool
    ) -> None:
        assert looks_first(desired, recorded, name_listed=lambda: listed) is expected

    def test_a_status_from_before_cluster_tags_is_not_settled_so_the_first_pass_tags_the_tracker(self) -> None:
        settled = Recorded(
            arn="arn:x",
            phase="Active",
            reason="Active",
            observed_generation=1,
            secret_name="storefront-tracking",
            owner_cluster=A,
        )
        assert settled_active(HERE, settled)
        assert not settled_active(HERE, replace(settled, owner_cluster=""))


class TestStatusAndAnnotation:
    def test_status_names_the_owning_cluster(self) -> None:
        ours = decide(HERE, Recorded(), Observation(tracker=tracker(tags())))
        theirs = decide(HERE, Recorded(), Observation(other_cluster=tracker(tags(B))))
        assert status.render(HERE, Recorded(), ours, tracker(tags()), [], "t")["ownerCluster"] == A
        rendered = status.render(HERE, Recorded(arn="arn:x"), theirs, None, [], "t")
        assert rendered["ownerCluster"] == B and rendered["eventTrackerArn"] is None

    def test_the_arn_annotation_follows_status_and_names_the_tracker_when_status_is_gone(self) -> None:
        body = {"metadata": {"annotations": {ARN_ANNOTATION: "arn:old"}}}
        assert inputs.arn_annotation(body, {"eventTrackerArn": "arn:new"}) == {ARN_ANNOTATION: "arn:new"}
        assert inputs.arn_annotation(body, {"eventTrackerArn": None}) == {ARN_ANNOTATION: None}
        assert inputs.arn_annotation(body, {"eventTrackerArn": "arn:old"}) is None
        assert inputs.arn_annotation(body, {"phase": "Active"}) is None
        assert inputs.recorded_from(body).arn == "arn:old"


class World:
    def __init__(self) -> None:
        self.aws = FakeTrackers()
        self.secrets = FakeSecrets()

    def context(self, desired: Desired = HERE, recorded: Recorded | None = None) -> Context:
        return Context(
            aws=self.aws,
            secrets=self.secrets,
            owners=FakeOwners(),
            desired=desired,
            recorded=recorded or Recorded(),
            previous_conditions=[],
        )

    def changes(self) -> list[str]:
        return [
            c
            for c in self.aws.calls
            if c in {"CreateEventTracker", "TagResource", "UntagResource", "DeleteEventTracker"}
        ]


class TestThroughTheReconciler:
    def test_a_restore_same_cluster_new_uid_no_status_resumes_the_tracker_without_a_create(self) -> None:
        world = World()
        found = world.aws.add("ACTIVE", tags())
        outcome = reconcile(world.context())
        assert "CreateEventTracker" not in world.aws.calls and outcome.decision.phase == Phase.ACTIVE
        assert world.secrets.written == {"storefront-tracking": found.tracking_id}
        assert world.aws.trackers[found.arn].tags[UID_TAG] == "uid-new"  # the uid tag stays, as information

    def test_another_clusters_copy_changes_nothing_and_gets_no_secret(self) -> None:
        world = World()
        world.aws.add("ACTIVE", tags(B))
        for want in (HERE, replace(HERE, adopt=True)):
            outcome = reconcile(world.context(want))
            assert outcome.decision.reason == "OwnedByOtherCluster"
        assert world.changes() == [] and world.secrets.written == {}

    def test_take_over_rewrites_the_cluster_tag_without_a_create(self) -> None:
        world = World()
        found = world.aws.add("ACTIVE", tags(B))
        outcome = reconcile(world.context(replace(HERE, take_over_from=B)))
        assert outcome.decision.reason == "TakingOver" and world.changes() == ["TagResource"]
        assert world.aws.trackers[found.arn].tags[CLUSTER_TAG] == A

    def test_the_cluster_that_lost_its_tracker_changes_nothing_and_forgets_it(self) -> None:
        world = World()
        found = world.aws.add("ACTIVE", tags(B))
        outcome = reconcile(world.context(recorded=Recorded(arn=found.arn, phase="Active", reason="Active")))
        assert outcome.decision.reason == "OwnedByOtherCluster" and world.changes() == []
        assert outcome.status["eventTrackerArn"] is None and world.secrets.written == {}

    def test_deleting_a_resource_whose_tracker_was_taken_over_leaves_the_tracker(self) -> None:
        world = World()
        found = world.aws.add("ACTIVE", tags(B))
        outcome = finalize(world.context(recorded=Recorded(arn=found.arn, phase="Active", reason="Active")))
        assert outcome.release and world.changes() == [] and world.aws.trackers[found.arn].status == "ACTIVE"

    def test_a_tracker_from_before_cluster_tags_is_ours_by_uid_and_gets_the_tag(self) -> None:
        world = World()
        found = world.aws.add("ACTIVE", tags("", uid="uid-new"))
        reconcile(world.context(recorded=Recorded(arn=found.arn, phase="Active", reason="Active")))
        assert world.aws.trackers[found.arn].tags[CLUSTER_TAG] == A
