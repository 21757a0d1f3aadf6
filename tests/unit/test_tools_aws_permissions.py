"""doctor's AWS permissions check, the pure parts: who is simulated, on what, and the fix it names."""

from __future__ import annotations

import json

from personalize_operator.tools import aws_permissions
from personalize_operator.tools.permissions import OPERATOR_ACTIONS


def test_an_assumed_role_session_is_simulated_as_its_role() -> None:
    session = "arn:aws:sts::111122223333:assumed-role/personalize-operator/botocore-session-1"

    assert aws_permissions.principal_arn(session) == "arn:aws:iam::111122223333:role/personalize-operator"
    assert aws_permissions.principal_arn("arn:aws:iam::111122223333:user/me") == "arn:aws:iam::111122223333:user/me"


def test_each_action_is_asked_once_on_a_sample_arn_in_the_principals_partition_and_account() -> None:
    asked = aws_permissions.questions("arn:aws-cn:iam::111122223333:role/op", "cn-north-1")

    assert sorted(a for actions in asked.values() for a in actions) == sorted(a.action for a in OPERATOR_ACTIONS)
    tracker = "arn:aws-cn:personalize:cn-north-1:111122223333:event-tracker/personalize-operator-doctor"
    assert set(asked) == {tracker, "*"}


def test_the_fix_is_a_statement_that_parses_and_grants_the_action() -> None:
    denied = [("personalize:TagResource", "*", "implicitDeny"), ("personalize:DeleteEventTracker", "x", "explicitDeny")]

    fix = aws_permissions.statements_to_add(denied)

    grant, removal = fix.split("; ")
    assert json.loads(grant) == {"Effect": "Allow", "Action": "personalize:TagResource", "Resource": "*"}
    assert removal == "remove the Deny statement matching personalize:DeleteEventTracker"
