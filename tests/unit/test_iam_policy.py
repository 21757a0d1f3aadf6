"""docs/iam-policy.json grants exactly the Personalize calls the operator makes, and no more.

The operations are read from operator/personalize_operator/aws.py (every
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

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "docs" / "iam-policy.json"
AWS_MODULE = ROOT / "operator" / "personalize_operator" / "aws.py"

EVENT_TRACKERS = "arn:aws:personalize:*:*:event-tracker/*"
DATASET_GROUPS = "arn:aws:personalize:*:*:dataset-group/*"

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
    """Operation names passed as the first argument of `self._call(...)` in aws.py."""
    operations: set[str] = set()
    for node in ast.walk(ast.parse(AWS_MODULE.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_call"):
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
