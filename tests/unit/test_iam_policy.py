"""docs/iam-policy.json grants exactly the Personalize calls the operator makes, and no more.

The operations are read from operator/personalize_operator/aws/client.py (every
`self._call("Operation", ...)`), so adding a call without updating the policy fails
here. Resource types per action follow the AWS Service Authorization Reference for
Amazon Personalize (see docs/iam.md).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from personalize_operator.api import names

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "docs" / "iam-policy.json"
AWS_MODULE = ROOT / "operator" / "personalize_operator" / "aws" / "client.py"

EVENT_TRACKERS = "arn:*:personalize:*:*:event-tracker/*"
DATASET_GROUPS = "arn:*:personalize:*:*:dataset-group/*"
OWNERSHIP_TAG = names.OWNERSHIP_TAG_KEYS[0]  # personalize.operators.dev/uid, on every tracker the operator owns
REQUEST_CARRIES_OWNERSHIP = {"Null": {f"aws:RequestTag/{OWNERSHIP_TAG}": "false"}}
RESOURCE_CARRIES_OWNERSHIP = {"Null": {f"aws:ResourceTag/{OWNERSHIP_TAG}": "false"}}

# Service Authorization Reference, "Actions defined by Amazon Personalize" (condition keys column) plus
# the eventTracker resource type's aws:ResourceTag/${TagKey}: the keys IAM evaluates for each action.
# A key outside this table never matches, so a condition on it would silently deny (or, negated, allow).
CONDITION_KEYS_BY_ACTION = {
    "personalize:CreateEventTracker": {"aws:RequestTag/", "aws:TagKeys", "aws:ResourceTag/"},
    "personalize:TagResource": {"aws:RequestTag/", "aws:TagKeys", "aws:ResourceTag/"},
    "personalize:UntagResource": {"aws:TagKeys", "aws:ResourceTag/"},
    "personalize:DeleteEventTracker": {"aws:ResourceTag/"},
    "personalize:DescribeEventTracker": {"aws:ResourceTag/"},
    "personalize:ListTagsForResource": {"aws:ResourceTag/"},
    "personalize:ListEventTrackers": set(),
}

# Service Authorization Reference, "Actions defined by Amazon Personalize": the resource
# types each action authorizes on. CreateEventTracker requires both datasetGroup* and
# eventTracker*; the tag actions accept eventTracker among others; ListEventTrackers lists
# no resource type, so only "*" matches it.
RESOURCES_BY_ACTION = {
    "personalize:CreateEventTracker": {DATASET_GROUPS, EVENT_TRACKERS},
    "personalize:DescribeEventTracker": {EVENT_TRACKERS},
    "personalize:DeleteEventTracker": {EVENT_TRACKERS},
    "personalize:ListTagsForResource": {EVENT_TRACKERS},
    "personalize:TagResource": {EVENT_TRACKERS},
    "personalize:UntagResource": {EVENT_TRACKERS},
    "personalize:ListEventTrackers": {"*"},
}


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list."""
    return list(value) if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return json.loads(POLICY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(policy["Statement"])


def called_operations() -> set[str]:
    """Operation names passed as the first argument of `self._call(...)` or `self._pages(...)` in aws/client.py."""
    operations: set[str] = set()
    for node in ast.walk(ast.parse(AWS_MODULE.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"_call", "_pages"}
        ):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
            continue
        first = node.args[0] if node.args else None
        assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
            f"aws.py line {node.lineno}: self._call needs the operation name as a string literal"
        )
        operations.add(first.value)
    return operations


def granted(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Action -> every Resource pattern some statement grants it on."""
    resources: dict[str, set[str]] = {}
    for statement in statements:
        for action in as_list(statement["Action"]):
            resources.setdefault(action, set()).update(as_list(statement["Resource"]))
    return resources


def test_the_policy_is_valid_json_in_the_current_policy_language(policy: dict[str, Any]) -> None:
    assert policy["Version"] == "2012-10-17"
    assert policy["Statement"]


def test_every_statement_allows_and_has_its_own_sid(statements: list[dict[str, Any]]) -> None:
    sids = [statement.get("Sid", "") for statement in statements]

    assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids), sids
    assert len(set(sids)) == len(sids)
    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert not any({"NotAction", "NotResource", "Principal"} & statement.keys() for statement in statements)


def test_the_actions_are_exactly_the_personalize_operations_the_operator_calls(
    statements: list[dict[str, Any]],
) -> None:
    operations = called_operations()

    assert "CreateEventTracker" in operations, "the aws.py scan found nothing; has _call been renamed?"
    assert set(granted(statements)) == {f"personalize:{operation}" for operation in operations}


def test_no_action_uses_a_wildcard(statements: list[dict[str, Any]]) -> None:
    actions = [action for statement in statements for action in as_list(statement["Action"])]

    assert actions
    assert not [action for action in actions if "*" in action or "?" in action]
    assert all(action.startswith("personalize:") for action in actions)


def test_the_operations_exist_in_botocores_personalize_model() -> None:
    model = botocore.session.get_session().get_service_model("personalize")

    assert called_operations() <= set(model.operation_names)


def test_each_action_is_granted_only_on_the_resource_types_it_authorizes_on(
    statements: list[dict[str, Any]],
) -> None:
    assert granted(statements) == RESOURCES_BY_ACTION


def test_only_list_event_trackers_needs_every_resource(statements: list[dict[str, Any]]) -> None:
    everywhere = {action for action, resources in granted(statements).items() if "*" in resources}

    assert everywhere == {"personalize:ListEventTrackers"}


def statements_granting(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in as_list(statement["Action"])]


def condition_keys(statement: dict[str, Any]) -> set[str]:
    """Condition keys of a statement, with the tag key cut off (aws:RequestTag/x -> aws:RequestTag/)."""
    keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
    return {key.split("/", 1)[0] + "/" if "/" in key else key for key in keys}


def test_the_partition_is_never_hard_coded(statements: list[dict[str, Any]]) -> None:
    resources = [resource for statement in statements for resource in as_list(statement["Resource"])]

    assert all(resource == "*" or resource.startswith("arn:*:personalize:") for resource in resources), resources


def test_create_is_allowed_only_with_the_ownership_tag_in_the_request(statements: list[dict[str, Any]]) -> None:
    granting = statements_granting(statements, "personalize:CreateEventTracker")

    assert granting and all(statement.get("Condition") == REQUEST_CARRIES_OWNERSHIP for statement in granting)


@pytest.mark.parametrize("action", ["personalize:DeleteEventTracker", "personalize:UntagResource"])
def test_delete_and_untag_are_allowed_only_on_trackers_carrying_the_ownership_tag(
    statements: list[dict[str, Any]], action: str
) -> None:
    granting = statements_granting(statements, action)

    assert granting and all(statement.get("Condition") == RESOURCE_CARRIES_OWNERSHIP for statement in granting)


def test_tagging_needs_the_ownership_tag_on_the_tracker_or_in_the_request(statements: list[dict[str, Any]]) -> None:
    """Create-with-tags is authorized as TagResource too, on a tracker that has no tags yet: hence the second way."""
    conditions = [
        statement.get("Condition") for statement in statements_granting(statements, "personalize:TagResource")
    ]

    assert sorted(map(json.dumps, conditions)) == sorted(
        map(json.dumps, [RESOURCE_CARRIES_OWNERSHIP, REQUEST_CARRIES_OWNERSHIP])
    )


def test_every_condition_key_is_one_the_reference_lists_for_each_action_of_its_statement(
    statements: list[dict[str, Any]],
) -> None:
    for statement in statements:
        for action in as_list(statement["Action"]):
            unsupported = condition_keys(statement) - CONDITION_KEYS_BY_ACTION[action]
            assert not unsupported, f"{statement['Sid']}: {action} does not support {unsupported}"


def test_the_ownership_tag_in_the_policy_is_the_one_the_operator_writes(policy: dict[str, Any]) -> None:
    text = json.dumps(policy)

    assert set(re.findall(r"aws:(?:Request|Resource)Tag/([^\"]+)", text)) == {OWNERSHIP_TAG}
    assert OWNERSHIP_TAG in names.OWNERSHIP_TAG_KEYS
