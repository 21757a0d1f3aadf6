"""Every failure is explained in status and recovers without a human where it can."""

from __future__ import annotations

from personalize_emulator.testing import Emulator, dataset_group_arn
from support.solo import Solo, new_dataset_group
from support.trackers import Trackers, manifest
from support.wait import let_pass, wait_for

CONFLICT_WINDOW = 30.0
CONFLICT_CALL_BOUND = 12


def test_create_failed_is_reported_then_retried_on_request(
    trackers: Trackers, emulator: Emulator, dataset_group: str
) -> None:
    emulator.admin.fail_creation(reason="dataset schema has no EVENT_TYPE", name_pattern="broken")
    trackers.create(manifest("broken", dataset_group))
    status = trackers.wait_phase("broken", "Failed", reason="CreateFailed", timeout=60)
    assert status["awsStatus"] == "CREATE FAILED"
    # DescribeEventTracker has no failure reason field, so the message explains what to do instead.
    assert "CREATE FAILED" in trackers.condition("broken", "Ready")["message"]
    wait_for(  # Events are posted after the status write: wait for it rather than race it
        lambda: any(kind == "Warning" and reason == "CreateFailed" for kind, reason, _ in trackers.events("broken")),
        timeout=30,
        what="a CreateFailed Warning Event",
    )

    emulator.admin.clear_failures()
    trackers.patch("broken", {"metadata": {"annotations": {"personalize.operators.dev/retry": "1"}}})
    status = trackers.wait_phase("broken", "Active", timeout=90)
    remaining = [t for t in emulator.admin.trackers() if t["datasetGroupArn"] == dataset_group]
    assert [t["arn"] for t in remaining] == [status["eventTrackerArn"]]


def test_foreign_tracker_is_a_conflict_and_is_not_hammered(solo: Solo) -> None:
    group = new_dataset_group(solo.emulator)
    solo.emulator.client().create_event_tracker(name="someone-elses", datasetGroupArn=group)
    solo.emulator.admin.reset_calls()
    solo.trackers.create(manifest("mine", group))
    status = solo.trackers.wait_phase("mine", "Failed", reason="Conflict", timeout=30)
    assert "someone-elses" in solo.trackers.condition("mine", "Ready")["message"]
    assert not status.get("eventTrackerArn")

    before = sum(solo.emulator.admin.calls().values())
    let_pass(CONFLICT_WINDOW)
    calls = sum(solo.emulator.admin.calls().values()) - before
    print(f"{calls} AWS calls in {CONFLICT_WINDOW:.0f}s while in Conflict")
    assert calls <= CONFLICT_CALL_BOUND, f"{calls} AWS calls in {CONFLICT_WINDOW:.0f}s while in Conflict"
    trackers_in_group = [t for t in solo.emulator.admin.trackers() if t["datasetGroupArn"] == group]
    assert [t["name"] for t in trackers_in_group] == ["someone-elses"], "nothing created or deleted remotely"


def test_missing_dataset_group_is_pending_until_it_exists(trackers: Trackers, emulator: Emulator) -> None:
    group = dataset_group_arn("later-" + trackers.namespace[-6:])
    trackers.create(manifest("early", group))
    trackers.wait_phase("early", "Pending", reason="DatasetGroupNotFound", timeout=30)
    assert group in trackers.condition("early", "Ready")["message"]
    emulator.client().create_dataset_group(name=group.rsplit("/", 1)[1])
    trackers.wait_phase("early", "Active", timeout=120)


def test_secret_name_taken_by_someone_else_is_failed_and_never_overwritten(
    trackers: Trackers, dataset_group: str
) -> None:
    from kubernetes import client

    trackers.core.create_namespaced_secret(
        trackers.namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="taken"), string_data={"mine": "1"})
    )
    trackers.create(manifest("squatted", dataset_group, secretName="taken"))
    trackers.wait_phase("squatted", "Failed", reason="SecretConflict", timeout=60)
    assert trackers.condition("squatted", "Ready")["status"] == "False"
    secret = trackers.secret("taken")
    assert secret is not None and set(secret.data) == {"mine"}
    trackers.patch("squatted", {"spec": {"secretName": "free"}})
    trackers.wait_phase("squatted", "Active", timeout=60)
