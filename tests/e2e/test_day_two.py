"""Day two: the operator keeps looking after Active — Secrets heal, drift is put back, errors recover, pause holds.

Secret healing runs with the default resync (600 s), so it can only come
from the Secret watch; drift tests use a solo operator with a 15 s resync.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import pytest
from kubernetes import client

from personalize_emulator.testing import Emulator
from support.solo import Solo, new_dataset_group
from support.trackers import Trackers, manifest
from support.wait import let_pass, wait_for

OWNERSHIP_PREFIX = "personalize.operators.dev/"
DATA_HASH = "personalize.operators.dev/data-hash"
HEAL_SECONDS = 10
DRIFT_SECONDS = 30
PAUSE_WINDOW = 30.0


def digest(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(raw).hexdigest()[:16]


def secret_digest(trackers: Trackers, name: str) -> str | None:
    """A hash of the Secret's trackingId (the value itself is never printed)."""
    secret = trackers.secret(name)
    if secret is None or not secret.data or "trackingId" not in secret.data:
        return None
    return digest(secret.data["trackingId"])


def seconds_to_heal_a_deleted_secret(trackers: Trackers, secret: str, timeout: float) -> float:
    """Delete the Secret and wait until it is back with the same data; the seconds it took."""
    before = secret_digest(trackers, secret)
    assert before is not None
    trackers.core.delete_namespaced_secret(secret, trackers.namespace)
    started = time.monotonic()
    wait_for(lambda: secret_digest(trackers, secret) == before, timeout=timeout, what=f"Secret {secret} recreated")
    return time.monotonic() - started


def seconds_for_a_new_trackers_secret_to_heal(
    trackers: Trackers, name: str, dataset_group: str, timeout: float
) -> float:
    """Create tracker `name`, wait for Active, then time the healing of its deleted Secret."""
    trackers.create(manifest(name, dataset_group))
    trackers.wait_phase(name, "Active", timeout=60)
    return seconds_to_heal_a_deleted_secret(trackers, f"{name}-tracking", timeout)


def remote_tags(emulator: Emulator, arn: str) -> dict[str, str]:
    tags = emulator.client().list_tags_for_resource(resourceArn=arn)["tags"]
    return {t["tagKey"]: t["tagValue"] for t in tags}


class TestSecretHeals:
    """Without waiting for any resync: the Secret watch wakes the owner."""

    def test_a_deleted_secret_is_back_within_seconds_with_the_same_data(
        self, trackers: Trackers, dataset_group: str
    ) -> None:
        took = seconds_for_a_new_trackers_secret_to_heal(trackers, "healing", dataset_group, HEAL_SECONDS)
        print(f"Secret recreated {took:.1f}s after its deletion")
        assert trackers.wait_phase("healing", "Active", timeout=5)

    def test_an_edited_tracking_id_is_repaired_within_seconds(self, trackers: Trackers, dataset_group: str) -> None:
        trackers.create(manifest("edited", dataset_group))
        trackers.wait_phase("edited", "Active", timeout=60)
        before = secret_digest(trackers, "edited-tracking")

        trackers.core.patch_namespaced_secret(
            "edited-tracking", trackers.namespace, {"stringData": {"trackingId": "not-the-real-one"}}
        )
        assert secret_digest(trackers, "edited-tracking") != before
        started = time.monotonic()
        wait_for(
            lambda: secret_digest(trackers, "edited-tracking") == before, timeout=HEAL_SECONDS, what="Secret repaired"
        )
        print(f"Secret repaired {time.monotonic() - started:.1f}s after the edit")


class TestSecretHealsInAWatchedNamespace:
    """An operator given exact namespaces (as the chart's namespaces mode runs it) watches each one."""

    @pytest.fixture
    def solo_env(self) -> dict[str, str]:
        return {}  # the default 600 s resync: healing can only come from the watch

    def test_a_deleted_secret_is_back_within_seconds(self, solo: Solo) -> None:
        group = new_dataset_group(solo.emulator)
        took = seconds_for_a_new_trackers_secret_to_heal(solo.trackers, "exact", group, HEAL_SECONDS)
        print(f"Secret recreated {took:.1f}s after its deletion (watch of one namespace)")
        assert "Secret watch" not in solo.operator.output(), "the watch failed"


@pytest.fixture
def solo_env() -> dict[str, str]:
    return {"PERSONALIZE_OPERATOR_RESYNC_SECONDS": "15"}


class TestDriftAtResync:
    def test_a_tracker_deleted_out_of_band_is_recreated_and_its_secret_updated(self, solo: Solo) -> None:
        group = new_dataset_group(solo.emulator)
        solo.trackers.create(manifest("vanishing", group))
        first = solo.trackers.wait_phase("vanishing", "Active", timeout=60)
        old_digest = secret_digest(solo.trackers, "vanishing-tracking")
        old_secret = solo.trackers.secret("vanishing-tracking")
        assert old_secret is not None
        old_hash = (old_secret.metadata.annotations or {}).get(DATA_HASH)
        assert old_hash

        solo.emulator.admin.delete_out_of_band(first["eventTrackerArn"])
        started = time.monotonic()

        def recreated() -> dict[str, Any] | None:
            status = solo.trackers.status("vanishing")
            fresh = status.get("eventTrackerArn") not in (None, first["eventTrackerArn"])
            return status if fresh and status.get("phase") == "Active" else None

        second = wait_for(recreated, timeout=DRIFT_SECONDS, what="a new tracker, Active")
        print(f"new tracker Active {time.monotonic() - started:.1f}s after the out-of-band delete")
        wait_for(
            lambda: secret_digest(solo.trackers, "vanishing-tracking") not in (None, old_digest),
            timeout=10,
            what="Secret holds the new trackingId",
        )
        new_secret = solo.trackers.secret("vanishing-tracking")
        assert new_secret is not None
        new_hash = (new_secret.metadata.annotations or {}).get(DATA_HASH)
        assert new_hash and new_hash != old_hash
        arns = [t["arn"] for t in solo.emulator.admin.trackers()]
        assert arns == [second["eventTrackerArn"]]
        missing = [e for e in solo.trackers.events("vanishing") if e[1] == "RemoteMissing"]
        assert [kind for kind, _, _ in missing] == ["Warning"], missing

    def test_tags_changed_in_aws_are_put_back(self, solo: Solo) -> None:
        group = new_dataset_group(solo.emulator)
        solo.trackers.create(
            manifest(
                "tagged", group, tags=[{"tagKey": "team", "tagValue": "growth"}, {"tagKey": "cost", "tagValue": "42"}]
            )
        )
        arn = solo.trackers.wait_phase("tagged", "Active", timeout=60)["eventTrackerArn"]
        wanted = remote_tags(solo.emulator, arn)
        assert wanted["team"] == "growth" and sum(k.startswith(OWNERSHIP_PREFIX) for k in wanted) == 4

        personalize = solo.emulator.client()
        personalize.tag_resource(resourceArn=arn, tags=[{"tagKey": "intruder", "tagValue": "x"}])
        personalize.untag_resource(resourceArn=arn, tagKeys=["cost"])
        started = time.monotonic()
        wait_for(lambda: remote_tags(solo.emulator, arn) == wanted, timeout=DRIFT_SECONDS, what="tags put back")
        print(f"tags put back {time.monotonic() - started:.1f}s after the change in AWS")


class TestSecretWatchOff:
    """secretWatch.enabled=false (no list/watch on Secrets): the Secret heals at the next resync instead."""

    @pytest.fixture
    def solo_env(self) -> dict[str, str]:
        return {"PERSONALIZE_OPERATOR_RESYNC_SECONDS": "15", "PERSONALIZE_OPERATOR_SECRET_WATCH": "false"}

    def test_a_deleted_secret_comes_back_at_the_resync(self, solo: Solo) -> None:
        group = new_dataset_group(solo.emulator)
        took = seconds_for_a_new_trackers_secret_to_heal(solo.trackers, "unwatched", group, DRIFT_SECONDS)
        print(f"Secret recreated {took:.1f}s after its deletion (no watch, resync 15s)")
        assert "watching the operator's Secrets" not in solo.operator.output()


ERROR_FAULTS = [
    pytest.param("AccessDeniedException", 403, "AccessDenied", id="access-denied"),
    pytest.param("ExpiredTokenException", 400, "CredentialsExpired", id="expired-token"),
    pytest.param("NoSuchThingAnyoneKnows", 400, "AWSUnavailable", id="unknown-code"),
    pytest.param("InternalFailure", 500, "AWSUnavailable", id="internal-500"),
    pytest.param("LimitExceededException", 400, "LimitExceeded", id="limit-exceeded"),
]


@pytest.mark.parametrize(("code", "http_status", "reason"), ERROR_FAULTS)
def test_a_create_error_is_shown_then_recovers_by_itself(
    trackers: Trackers, emulator: Emulator, dataset_group: str, code: str, http_status: int, reason: str
) -> None:
    name = f"recovering-{uuid.uuid4().hex[:6]}"  # AWS names are unique per account and region
    emulator.admin.error(code, http_status, operations=["CreateEventTracker"])
    trackers.create(manifest(name, dataset_group))
    trackers.wait_phase(name, "Pending", reason=reason, timeout=60)
    synced = trackers.condition(name, "Synced")
    assert synced["status"] == "False" and code in synced["message"]

    emulator.admin.clear_faults()
    status = trackers.wait_phase(name, "Active", timeout=120)
    in_group = [t["arn"] for t in emulator.admin.trackers() if t["datasetGroupArn"] == dataset_group]
    assert in_group == [status["eventTrackerArn"]]


class TestPause:
    def test_a_paused_resource_makes_no_call_until_resumed(self, solo: Solo) -> None:
        group = new_dataset_group(solo.emulator)
        solo.trackers.create(manifest("held", group, tags=[{"tagKey": "team", "tagValue": "a"}]))
        arn = solo.trackers.wait_phase("held", "Active", timeout=60)["eventTrackerArn"]

        solo.trackers.patch("held", {"metadata": {"annotations": {"personalize.operators.dev/paused": "true"}}})
        wait_for(
            lambda: solo.trackers.condition("held", "Synced").get("reason") == "Paused",
            timeout=20,
            what="Synced=False Paused",
        )
        solo.emulator.admin.reset_calls()
        solo.trackers.patch("held", {"spec": {"tags": [{"tagKey": "team", "tagValue": "b"}]}})
        let_pass(PAUSE_WINDOW)
        calls = sum(solo.emulator.admin.calls().values())
        print(f"{calls} AWS calls in {PAUSE_WINDOW:.0f}s while paused (spec changed meanwhile)")
        assert calls == 0
        assert remote_tags(solo.emulator, arn)["team"] == "a"
        assert any(reason == "Paused" for _, reason, _ in solo.trackers.events("held"))

        solo.trackers.patch("held", {"metadata": {"annotations": {"personalize.operators.dev/paused": None}}})
        wait_for(lambda: remote_tags(solo.emulator, arn)["team"] == "b", timeout=20, what="tags applied on resume")
        wait_for(
            lambda: solo.trackers.condition("held", "Synced").get("status") == "True", timeout=20, what="Synced again"
        )

    def test_a_paused_resource_is_still_deleted_with_its_tracker(self, solo: Solo) -> None:
        group = new_dataset_group(solo.emulator)
        solo.trackers.create(manifest("frozen", group))
        solo.trackers.wait_phase("frozen", "Active", timeout=60)
        solo.trackers.patch("frozen", {"metadata": {"annotations": {"personalize.operators.dev/paused": "true"}}})
        wait_for(
            lambda: solo.trackers.condition("frozen", "Synced").get("reason") == "Paused", timeout=20, what="paused"
        )
        solo.trackers.delete("frozen")
        solo.trackers.wait_gone("frozen", timeout=60)
        assert solo.emulator.admin.trackers() == []


def test_the_secret_is_annotated_with_the_hash_of_its_data(trackers: Trackers, dataset_group: str) -> None:
    trackers.create(manifest("hashed", dataset_group))
    trackers.wait_phase("hashed", "Active", timeout=60)
    secret: client.V1Secret | None = trackers.secret("hashed-tracking")
    assert secret is not None and (secret.metadata.annotations or {}).get(DATA_HASH)
