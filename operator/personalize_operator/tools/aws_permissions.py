"""doctor's AWS permissions check: IAM's simulator asked about each action the operator needs.

Why the simulator: it evaluates the identity's attached policies as IAM
would for a call, without making the call (no tracker is created to find
out). The identity is STS GetCallerIdentity's (an assumed-role session
becomes its role, which the simulator takes), and each tenancy role is asked
too. Needs iam:SimulatePrincipalPolicy on those principals; against real AWS
and against the emulator alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from personalize_operator.tools.permissions import OPERATOR_ACTIONS, AwsAction

_ASSUMED_ROLE = re.compile(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+")
NEEDS = "iam:SimulatePrincipalPolicy"


def principal_arn(caller_arn: str) -> str:
    """The user or role IAM's simulator takes for GetCallerIdentity's ARN (a session becomes its role, path-less)."""
    match = _ASSUMED_ROLE.fullmatch(caller_arn)
    if match:
        partition, account, role = match.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return caller_arn


def questions(source_arn: str, region: str, actions: Sequence[AwsAction] = OPERATOR_ACTIONS) -> dict[str, list[str]]:
    """Sample resource ARN -> the actions to simulate on it (one simulator call each), in the principal's account."""
    parts = source_arn.split(":")
    partition, account = parts[1], parts[4]
    grouped: dict[str, list[str]] = {}
    for action in actions:
        grouped.setdefault(action.sample_arn(partition, region, account), []).append(action.action)
    return grouped


def denied_actions(results: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(action, resource, decision) for every simulator result that is not "allowed"."""
    return [
        (str(r["EvalActionName"]), str(r.get("EvalResourceName", "*")), str(r["EvalDecision"]))
        for r in results
        if r["EvalDecision"] != "allowed"
    ]


def statements_to_add(denied: Sequence[tuple[str, str, str]]) -> str:
    """The policy statements that grant the denied actions (an explicit Deny must be removed instead)."""
    by_name = {action.action: action for action in OPERATOR_ACTIONS}
    lines = []
    for action, _, decision in denied:
        if decision == "explicitDeny":
            lines.append(f"remove the Deny statement matching {action}")
        else:
            lines.append(by_name[action].statement())
    return "; ".join(lines)


def simulate(iam: Any, source_arn: str, region: str) -> list[tuple[str, str, str]]:
    """Ask IAM's simulator about every operator action for `source_arn`; the denied ones."""
    denied: list[tuple[str, str, str]] = []
    for resource, actions in questions(source_arn, region).items():
        answer = iam.simulate_principal_policy(PolicySourceArn=source_arn, ActionNames=actions, ResourceArns=[resource])
        denied += denied_actions(answer["EvaluationResults"])
    return denied
