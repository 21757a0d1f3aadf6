"""Pure rendering: conditions keep their transition times, the Secret's shape, the resource's inputs."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from personalize_operator.api.names import UID_TAG
from personalize_operator.kube import secrets
from personalize_operator.reconciler import conditions
from personalize_operator.reconciler import inputs as resource

DG = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop"


class TestConditions:
    """lastTransitionTime moves only when a condition's status flips."""

    def test_unchanged_status_keeps_the_transition_time(self) -> None:
        before = [{"type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": "T0"}]
        after = conditions.merge(before, [conditions.condition("Ready", False, "Creating", "still", 1)], "T1")
        assert after[0]["lastTransitionTime"] == "T0" and after[0]["message"] == "still"

    def test_flipped_status_takes_the_new_time(self) -> None:
        before = [{"type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": "T0"}]
        after = conditions.merge(before, [conditions.condition("Ready", True, "Active", "", 2)], "T1")
        assert (after[0]["status"], after[0]["lastTransitionTime"], after[0]["observedGeneration"]) == ("True", "T1", 2)

    def test_other_conditions_are_kept_and_order_is_stable(self) -> None:
        before = [{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "T0"}]
        after = conditions.merge(before, [conditions.condition("Ready", True, "Active", "", 1)], "T1")
        assert [c["type"] for c in after] == ["Ready", "Synced"]


class TestSecret:
    """The Secret carries exactly the two keys, our labels and a controller reference."""

    owner = secrets.Owner(namespace="shop", name="storefront", uid="uid-1")

    def test_rendered_secret_has_keys_labels_and_controller_owner(self) -> None:
        body = secrets.render(self.owner, "storefront-tracking", "tid", "arn:x")
        assert {k: base64.b64decode(v).decode() for k, v in body["data"].items()} == {
            "trackingId": "tid",
            "eventTrackerArn": "arn:x",
        }
        assert body["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "personalize-operator",
            "personalize.operators.dev/event-tracker": "storefront",
            "personalize.operators.dev/owner-uid": "uid-1",
        }
        assert body["metadata"]["annotations"] == {
            "personalize.operators.dev/data-hash": secrets.data_hash(body["data"])
        }
        reference = body["metadata"]["ownerReferences"][0]
        assert (reference["kind"], reference["uid"], reference["controller"], reference["blockOwnerDeletion"]) == (
            "EventTracker",
            "uid-1",
            True,
            True,
        )


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "metadata": {"name": "storefront", "namespace": "shop", "uid": "uid-1", "generation": 3},
        "spec": {"datasetGroupArn": DG, "tags": [{"tagKey": "team", "tagValue": "growth"}]},
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {}, {"tracker_name": "storefront", "secret_name": "storefront-tracking", "retain": False}, id="defaults"
        ),
        pytest.param(
            {"spec": {"datasetGroupArn": DG, "name": "clicks", "secretName": "s", "deletionPolicy": "Retain"}},
            {"tracker_name": "clicks", "secret_name": "s", "retain": True},
            id="explicit",
        ),
    ],
)
def test_desired_state_is_defaulted_from_the_resource(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    desired = resource.desired_from(body(**changes))
    assert {k: getattr(desired, k) for k in expected} == expected
    assert desired.generation == 3 and desired.remote_tags[UID_TAG] == "uid-1"


def test_annotations_ask_for_adoption_and_retry() -> None:
    meta = {
        "name": "s",
        "namespace": "n",
        "uid": "u",
        "annotations": {"personalize.operators.dev/adopt": "true", "personalize.operators.dev/retry": "2"},
    }
    desired = resource.desired_from({"metadata": meta, "spec": {"datasetGroupArn": DG}})
    assert desired.adopt and desired.retry_token == "2"


def test_recorded_state_reads_what_earlier_passes_wrote() -> None:
    recorded = resource.recorded_from(
        {
            "status": {
                "eventTrackerArn": "arn:x",
                "phase": "Active",
                "observedGeneration": 2,
                "retryHandled": "1",
                "secretName": "s",
            }
        }
    )
    assert (recorded.arn, recorded.phase, recorded.observed_generation, recorded.retry_token, recorded.secret_name) == (
        "arn:x",
        "Active",
        2,
        "1",
        "s",
    )
