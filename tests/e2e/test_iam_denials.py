"""The shipped policy less one action, each of the seven in turn: the resource names the denied action, nothing leaks.

The emulator authorizes the operator's key with docs/iam-policy.json minus
one action, as IAM would; the resource that needs the action must show
AccessDenied naming it, with no tracker leaked or duplicated; then the full
policy is restored, and the resource recovers and deletes cleanly. doctor,
run with the same key, names the missing action too.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from personalize_operator.tools.permissions import OPERATOR_ACTIONS
from support.cli import personalize_operator
from support.shipped_policies import OPERATOR_ACCESS_KEY, operator_policy, policy_without
from support.solo import Solo, new_dataset_group
from support.trackers import manifest
from support.wait import WaitTimeout, wait_for

# What the operator is doing when it first needs each action: creating or adopting a resource, or changing or
# deleting an Active one. (A plain create needs neither ListEventTrackers nor Describe, whose answers the create
# and the status board stand in for, nor ListTagsForResource, the tags being those it sent: they are first needed
# to find a tracker to adopt (or after a crash), by a delete, and by a tag edit.)
NEEDED_WHEN = {
    "personalize:ListEventTrackers": "adopt",
    "personalize:CreateEventTracker": "create",
    "personalize:DescribeEventTracker": "delete",
    "personalize:ListTagsForResource": "tag",
    "personalize:TagResource": "tag",
    "personalize:UntagResource": "untag",
    "personalize:DeleteEventTracker": "delete",
}


def denial(solo: Solo, name: str, action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wait until a condition of the resource says AccessDenied and names `action`; (status, that condition)."""

    def named() -> tuple[dict[str, Any], dict[str, Any]] | None:
        status = solo.trackers.status(name)
        for condition in status.get("conditions") or []:
            if condition.get("reason") == "AccessDenied" and action in condition.get("message", ""):
                return status, condition
        return None

    try:
        return wait_for(named, timeout=90, what=f"{name}: AccessDenied naming {action}")
    except WaitTimeout as timeout:
        raise AssertionError(f"{timeout}; status: {solo.trackers.status(name)}") from None


def trackers_in(solo: Solo, group: str) -> list[dict[str, Any]]:
    return [t for t in solo.emulator.admin.trackers() if t["datasetGroupArn"] == group]


def test_every_operator_action_is_covered() -> None:
    assert set(NEEDED_WHEN) == {action.action for action in OPERATOR_ACTIONS}


@pytest.mark.parametrize("action", list(NEEDED_WHEN))
def test_the_policy_less_one_action_shows_access_denied_naming_it_and_leaks_nothing(solo: Solo, action: str) -> None:
    admin, trackers = solo.emulator.admin, solo.trackers
    group = new_dataset_group(solo.emulator)
    when = NEEDED_WHEN[action]
    tags = [{"tagKey": "team", "tagValue": "growth"}, {"tagKey": "tier", "tagValue": "gold"}]
    if when not in ("create", "adopt"):
        trackers.create(manifest("clicks", group, tags=tags))
        trackers.wait_phase("clicks", "Active", timeout=60)

    admin.attach_policies([policy_without(operator_policy(), action)], access_key_id=OPERATOR_ACCESS_KEY)
    try:
        if when == "create":
            trackers.create(manifest("clicks", group, tags=tags))
        elif when == "adopt":
            solo.emulator.client().create_event_tracker(name="clicks", datasetGroupArn=group)  # made elsewhere
            adopting = manifest("clicks", group, tags=tags, name="clicks")
            adopting["metadata"]["annotations"] = {"personalize.operators.dev/adopt": "true"}
            trackers.create(adopting)
        elif when == "tag":
            trackers.patch("clicks", {"spec": {"tags": [{"tagKey": "team", "tagValue": "search"}, tags[1]]}})
        elif when == "untag":
            trackers.patch("clicks", {"spec": {"tags": tags[:1]}})
        else:
            trackers.delete("clicks")

        status, condition = denial(solo, "clicks", action)
        print(f"{action}: phase {status.get('phase')}, {condition['type']}={condition['status']} AccessDenied")
        assert f"is not authorized to perform: {action}" in condition["message"]
        if when in ("create", "adopt"):
            assert status.get("phase") == "Pending"
        assert len(trackers_in(solo, group)) == (0 if when == "create" else 1), "a tracker leaked or doubled"
    finally:
        admin.attach_policies([operator_policy()], access_key_id=OPERATOR_ACCESS_KEY)

    if when != "delete":
        trackers.wait_phase("clicks", "Active", timeout=90)
        assert len(trackers_in(solo, group)) == 1, "a duplicate tracker after recovery"
        trackers.delete("clicks")
    trackers.wait_gone("clicks", timeout=90)
    assert trackers_in(solo, group) == [], "the tracker leaked"


@pytest.mark.parametrize("action", ["personalize:TagResource", "personalize:DescribeEventTracker"])
def test_doctor_names_the_missing_action_and_the_statement_to_add(solo: Solo, action: str) -> None:
    solo.emulator.admin.attach_policies([policy_without(operator_policy(), action)], access_key_id=OPERATOR_ACCESS_KEY)
    env = {
        **solo.emulator.env(access_key_id=OPERATOR_ACCESS_KEY),
        "KUBECONFIG": str(solo.operator.kubeconfig),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }

    done = personalize_operator("doctor", "--region", "us-east-1", "-o", "json", env=env)

    checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
    failed = [name for name, check in checks.items() if not check["ok"]]
    assert failed == ["AWS permissions"], done.stdout
    assert f"user/{OPERATOR_ACCESS_KEY} is denied {action} on " in checks["AWS permissions"]["detail"]
    assert f'"Action": "{action}"' in checks["AWS permissions"]["hint"]
