"""An EventTracker's life as a platform engineer sees it: apply, Active, Secret, edit, delete.

Protects the product's promise: the tracker is created once, its state is in
status, its trackingId reaches pods only when usable, and deletion leaves
nothing behind in AWS or Kubernetes.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from personalize_emulator.testing import Emulator
from personalize_operator.api.names import OWNERSHIP_TAG_KEYS
from personalize_operator.kube import secrets
from support.operator_process import OperatorProcess
from support.trackers import Trackers, kubectl, manifest
from support.wait import stays, wait_for

OWNERSHIP_KEYS = set(OWNERSHIP_TAG_KEYS)


def digest(value: str) -> str:
    """Compare credentials by hash so a failing assertion never prints one."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def remote(emulator: Emulator, arn: str) -> dict:
    found = emulator.admin.tracker(arn=arn)
    assert found is not None, f"no tracker {arn} in the emulator"
    return found


class TestCreate:
    """Applying a manifest creates exactly one tracker and exposes it only once usable."""

    def test_valid_manifest_becomes_active_with_owned_secret_and_events(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str, kubeconfig: Path, operator: OperatorProcess
    ) -> None:
        trackers.create(manifest("storefront", dataset_group, tags=[{"tagKey": "team", "tagValue": "growth"}]))
        status = trackers.wait_phase("storefront", "Active", timeout=60)

        ready = trackers.condition("storefront", "Ready")
        synced = trackers.condition("storefront", "Synced")
        assert (ready["status"], ready["reason"]) == ("True", "Active")
        assert synced["status"] == "True"
        assert status["awsStatus"] == "ACTIVE" and status["observedGeneration"] == 1
        assert status["accountId"] and status["secretName"] == "storefront-tracking"
        tracker = remote(emulator, status["eventTrackerArn"])
        assert tracker["datasetGroupArn"] == dataset_group and tracker["name"] == "storefront"

        secret = trackers.secret("storefront-tracking")
        assert secret is not None
        data = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
        assert set(data) == {"trackingId", "eventTrackerArn"}
        assert digest(data["trackingId"]) == digest(tracker["trackingId"])
        assert data["eventTrackerArn"] == status["eventTrackerArn"]
        owner = secret.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.controller, owner.block_owner_deletion) == (
            "EventTracker",
            "storefront",
            True,
            True,
        )
        assert secret.metadata.labels == {
            "app.kubernetes.io/managed-by": "personalize-operator",
            "personalize.operators.dev/event-tracker": "storefront",
            "personalize.operators.dev/owner-uid": trackers.get("storefront")["metadata"]["uid"],
        }
        assert secret.metadata.annotations["personalize.operators.dev/data-hash"] == secrets.data_hash(secret.data)

        def phase_events() -> set[str]:
            reasons = {reason for _, reason, _ in trackers.events("storefront")}
            return reasons if {"Creating", "Active"} <= reasons else set()

        wait_for(phase_events, timeout=30, what="Creating and Active Events")

        waited = kubectl(
            kubeconfig,
            "wait",
            "-n",
            trackers.namespace,
            "--for=condition=Ready",
            "--timeout=30s",
            "eventtracker/storefront",
        )
        assert "condition met" in waited.stdout

        secret_text = tracker["trackingId"]
        everything = str(trackers.get("storefront")) + str(trackers.events("storefront")) + operator.output()
        assert secret_text not in everything, "the trackingId leaked into status, Events or the operator log"

    def test_no_secret_while_the_tracker_is_still_being_created(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str
    ) -> None:
        emulator.admin.hold("CREATE IN_PROGRESS", name_pattern="slow")
        trackers.create(manifest("slow", dataset_group))
        status = trackers.wait_phase("slow", "Creating", timeout=30)
        assert wait_for(
            lambda: trackers.status("slow").get("awsStatus") == "CREATE IN_PROGRESS",
            timeout=30,
            what="CREATE IN_PROGRESS reported",
        )
        stays(lambda: trackers.secret("slow-tracking") is None, seconds=4, what="no Secret while creating")
        assert status["eventTrackerArn"], "the ARN is recorded while creating"
        assert trackers.condition("slow", "Ready")["status"] == "False"
        emulator.admin.release(name_pattern="slow")
        trackers.wait_phase("slow", "Active", timeout=60)
        assert trackers.secret("slow-tracking") is not None


class TestChanges:
    """Edits of tags and secretName are applied in place."""

    def test_tag_edit_makes_remote_tags_equal_spec_plus_ownership(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str
    ) -> None:
        trackers.create(
            manifest(
                "tagged",
                dataset_group,
                tags=[{"tagKey": "team", "tagValue": "growth"}, {"tagKey": "cost", "tagValue": "1"}],
            )
        )
        arn = trackers.wait_phase("tagged", "Active")["eventTrackerArn"]
        trackers.patch(
            "tagged",
            {"spec": {"tags": [{"tagKey": "team", "tagValue": "search"}, {"tagKey": "tier", "tagValue": "gold"}]}},
        )
        personalize = emulator.client()

        def remote_tags() -> dict[str, str]:
            return {t["tagKey"]: t["tagValue"] for t in personalize.list_tags_for_resource(resourceArn=arn)["tags"]}

        wanted = {"team": "search", "tier": "gold"}
        tags = wait_for(
            lambda: (lambda t: t if {k: v for k, v in t.items() if k not in OWNERSHIP_KEYS} == wanted else None)(
                remote_tags()
            ),
            timeout=30,
            what="remote tags updated",
        )
        assert set(tags) == set(wanted) | OWNERSHIP_KEYS
        wait_for(lambda: trackers.status("tagged").get("observedGeneration") == 2, what="generation 2 observed")

    def test_secret_name_edit_moves_the_secret(self, trackers: Trackers, dataset_group: str) -> None:
        trackers.create(manifest("moving", dataset_group, secretName="first"))
        trackers.wait_phase("moving", "Active")
        assert trackers.secret("first") is not None
        trackers.patch("moving", {"spec": {"secretName": "second"}})
        # The pass moves the Secret, then writes status: wait for both (reading status as soon as the
        # Secrets moved raced the status write once in a clean-clone run).
        wait_for(
            lambda: (
                trackers.secret("second") is not None
                and trackers.secret("first") is None
                and trackers.status("moving").get("secretName") == "second"
            ),
            timeout=30,
            what="Secret moved from first to second, and status says so",
        )


class TestDelete:
    """Deletion never leaks a tracker and never leaves a finalizer stuck."""

    def test_policy_delete_waits_for_the_remote_tracker_to_be_gone(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str
    ) -> None:
        trackers.create(manifest("doomed", dataset_group))
        arn = trackers.wait_phase("doomed", "Active")["eventTrackerArn"]
        emulator.admin.hold("DELETE IN_PROGRESS", arn=arn)
        trackers.delete("doomed")
        wait_for(
            lambda: remote(emulator, arn)["status"] == "DELETE IN_PROGRESS",
            timeout=30,
            what="remote DELETE IN_PROGRESS",
        )
        assert trackers.exists("doomed"), "the finalizer must hold the resource while AWS deletes"
        assert trackers.status("doomed")["phase"] == "Deleting"
        emulator.admin.release(arn=arn)
        trackers.wait_gone("doomed", timeout=60)
        assert emulator.admin.tracker(arn=arn) is None
        wait_for(lambda: trackers.secret("doomed-tracking") is None, timeout=30, what="Secret gone")

    def test_deleting_while_creating_waits_then_deletes(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str
    ) -> None:
        emulator.admin.hold("CREATE IN_PROGRESS", name_pattern="hasty")
        trackers.create(manifest("hasty", dataset_group))
        arn = wait_for(lambda: trackers.status("hasty").get("eventTrackerArn"), timeout=30, what="ARN recorded")
        trackers.delete("hasty")
        wait_for(lambda: trackers.status("hasty").get("phase") == "Deleting", timeout=30, what="phase Deleting")
        assert remote(emulator, arn)["status"] in {"CREATE PENDING", "CREATE IN_PROGRESS"}
        assert trackers.exists("hasty")
        emulator.admin.release(name_pattern="hasty")
        trackers.wait_gone("hasty", timeout=90)
        assert emulator.admin.tracker(arn=arn) is None, "the tracker leaked"

    def test_policy_retain_leaves_the_remote_tracker(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str
    ) -> None:
        trackers.create(manifest("kept", dataset_group, deletionPolicy="Retain"))
        arn = trackers.wait_phase("kept", "Active")["eventTrackerArn"]
        trackers.delete("kept")
        trackers.wait_gone("kept", timeout=30)
        assert remote(emulator, arn)["status"] == "ACTIVE"

    def test_tracker_deleted_out_of_band_does_not_block_deletion(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str
    ) -> None:
        trackers.create(manifest("vanished", dataset_group))
        arn = trackers.wait_phase("vanished", "Active")["eventTrackerArn"]
        emulator.admin.delete_out_of_band(arn)
        trackers.delete("vanished")
        trackers.wait_gone("vanished", timeout=30)
