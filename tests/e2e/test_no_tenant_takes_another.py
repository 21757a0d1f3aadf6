"""No tenant takes another's tracker, and every deletion ends without waiting on AWS for nothing."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from personalize_emulator.testing import Emulator, dataset_group_arn
from support.kube import create_namespace, delete_namespace
from support.solo import Solo, new_dataset_group
from support.trackers import Trackers, manifest

ADOPT = {"personalize.operators.dev/adopt": "true"}
UID_TAG = "personalize.operators.dev/uid"
QUICK_DELETE_SECONDS = 10


def unique(stem: str) -> str:
    """AWS names are unique per account and region, and the shared emulator keeps retained trackers."""
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def digest(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()[:16]


def remote_tags(emulator: Emulator, arn: str) -> dict[str, str]:
    return {t["tagKey"]: t["tagValue"] for t in emulator.client().list_tags_for_resource(resourceArn=arn)["tags"]}


@pytest.fixture
def team_b(custom: client.CustomObjectsApi, core: client.CoreV1Api, operator: object) -> Iterator[Trackers]:
    name = create_namespace(core, f"team-b-{uuid.uuid4().hex[:6]}")
    yield Trackers(custom=custom, core=core, namespace=name)
    delete_namespace(core, name)


def test_adopt_cannot_take_a_tracker_another_live_resource_owns(
    trackers: Trackers, team_b: Trackers, emulator: Emulator, dataset_group: str
) -> None:
    trackers.create(manifest("shop", dataset_group, name=unique("shop")))
    arn = trackers.wait_phase("shop", "Active", timeout=60)["eventTrackerArn"]
    shop_secret = trackers.secret("shop-tracking")
    assert shop_secret is not None
    shop_digest = digest(shop_secret.data["trackingId"])
    tags_before = remote_tags(emulator, arn)

    grab = manifest("grab", dataset_group, name=unique("grab"))
    grab["metadata"]["annotations"] = ADOPT
    team_b.create(grab)
    team_b.wait_phase("grab", "Failed", reason="Conflict", timeout=60)
    message = team_b.condition("grab", "Ready")["message"]
    assert f"{trackers.namespace}/shop" in message, message

    assert remote_tags(emulator, arn) == tags_before
    after = trackers.secret("shop-tracking")
    assert after is not None and digest(after.data["trackingId"]) == shop_digest
    for secret in team_b.core.list_namespaced_secret(team_b.namespace).items:
        assert all(digest(v) != shop_digest for v in (secret.data or {}).values()), secret.metadata.name

    team_b.delete("grab")
    team_b.wait_gone("grab", timeout=60)
    assert emulator.admin.tracker(arn=arn) is not None, "deleting the hijacker deleted the victim's tracker"
    assert trackers.wait_phase("shop", "Active", timeout=10)


def test_retain_is_released_at_once_even_when_every_aws_call_fails(
    trackers: Trackers, emulator: Emulator, dataset_group: str
) -> None:
    trackers.create(manifest("kept", dataset_group, name=unique("kept"), deletionPolicy="Retain"))
    arn = trackers.wait_phase("kept", "Active", timeout=60)["eventTrackerArn"]
    emulator.admin.internal_failure()  # every Personalize call answers 500
    started = time.monotonic()
    trackers.delete("kept")
    trackers.wait_gone("kept", timeout=QUICK_DELETE_SECONDS)
    print(f"Retain released in {time.monotonic() - started:.1f}s with every AWS call failing")
    emulator.admin.clear_faults()
    assert emulator.admin.tracker(arn=arn) is not None


def test_a_resource_whose_dataset_group_never_existed_is_deleted_at_once(
    trackers: Trackers, emulator: Emulator
) -> None:
    trackers.create(manifest("orphan", dataset_group_arn(unique("never")), name=unique("orphan")))
    trackers.wait_phase("orphan", "Pending", reason="DatasetGroupNotFound", timeout=60)
    started = time.monotonic()
    trackers.delete("orphan")
    trackers.wait_gone("orphan", timeout=QUICK_DELETE_SECONDS)
    print(f"deleted {time.monotonic() - started:.1f}s after the request")


def test_a_retained_tracker_is_adopted_later_without_a_create(solo: Solo) -> None:
    group = new_dataset_group(solo.emulator)
    solo.trackers.create(manifest("first", group, deletionPolicy="Retain"))
    status = solo.trackers.wait_phase("first", "Active", timeout=60)
    tracking = solo.emulator.admin.tracker(arn=status["eventTrackerArn"])
    assert tracking is not None
    before = digest(tracking["trackingId"])
    solo.trackers.delete("first")
    solo.trackers.wait_gone("first", timeout=QUICK_DELETE_SECONDS)
    assert UID_TAG not in remote_tags(solo.emulator, status["eventTrackerArn"]), "ownership tags not released"

    solo.emulator.admin.reset_calls()
    second = manifest("second", group, name=status["trackerName"])
    second["metadata"]["annotations"] = ADOPT
    solo.trackers.create(second)
    adopted = solo.trackers.wait_phase("second", "Active", timeout=60)
    assert adopted["eventTrackerArn"] == status["eventTrackerArn"]
    assert solo.emulator.admin.calls().get("CreateEventTracker", 0) == 0
    secret = solo.trackers.secret("second-tracking")
    assert secret is not None
    assert digest(base64.b64decode(secret.data["trackingId"])) == before
