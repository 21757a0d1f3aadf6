"""From one Personalize call to IAM's questions, and from IAM's answer to AWS's AccessDeniedException.

Why separate from the evaluator: this is where the reference decides what
IAM is asked. Each resource type the reference lists for the action is
authorized on the request's ARN of that type (a Create* call on the ARN of
the resource it makes); an action with no resource type on "*". The request
context holds the global keys and only those service keys the reference
lists for the action and that resource type: a condition on any other key
sees it missing, as in IAM.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personalize_emulator import errors, iam_reference
from personalize_emulator.iam_evaluation import Decision, EvalDecision, Policy, evaluate


@dataclass(frozen=True)
class Principal:
    """Who is asking: an IAM user (an access key) or a role session (AssumeRole's keys)."""

    arn: str  # as AccessDeniedException names it: user/... or assumed-role/ROLE/SESSION
    principal_arn: str  # aws:PrincipalArn: the user or the role
    account_id: str
    kind: str  # aws:PrincipalType: User or AssumedRole
    user_id: str

    @property
    def username(self) -> str | None:
        return self.principal_arn.rsplit("/", 1)[-1] if self.kind == "User" else None


@dataclass(frozen=True)
class Question:
    """One authorization IAM makes for a call: an action on one resource, with its request context."""

    action: str
    resource: str
    context: Mapping[str, Sequence[str]]


def global_context(principal: Principal, region: str, now: float | None = None) -> dict[str, list[str]]:
    """The global condition keys the emulator knows the values of (plain HTTP: aws:SecureTransport false)."""
    moment = time.time() if now is None else now
    context = {
        "aws:PrincipalArn": [principal.principal_arn],
        "aws:PrincipalAccount": [principal.account_id],
        "aws:PrincipalType": [principal.kind],
        "aws:userid": [principal.user_id],
        "aws:RequestedRegion": [region],
        "aws:CurrentTime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))],
        "aws:EpochTime": [str(int(moment))],
        "aws:SecureTransport": ["false"],
    }
    if principal.username:
        context["aws:username"] = [principal.username]
    return context


def _listed(key: str, listed: Sequence[str]) -> bool:
    """Is `key` (aws:RequestTag/team) one of the reference's keys (aws:RequestTag/${TagKey})?"""
    for name in listed:
        stem = name.split("${", 1)[0].split("<", 1)[0]
        if key.lower() == name.lower() or (stem != name and key.lower().startswith(stem.lower())):
            return True
    return False


def service_context(
    params: Mapping[str, Any], resource: str, resource_tags: Callable[[str], Mapping[str, str]]
) -> dict[str, list[str]]:
    """Every tag key the call could put in the context, before the reference's filter."""
    context: dict[str, list[str]] = {}
    request_tags = {item["tagKey"]: item["tagValue"] for item in params.get("tags") or []}
    for key, value in request_tags.items():
        context[f"aws:RequestTag/{key}"] = [value]
    tag_keys = list(request_tags) or list(params.get("tagKeys") or [])
    if tag_keys:
        context["aws:TagKeys"] = tag_keys
    if resource != "*":
        for key, value in resource_tags(resource).items():
            context[f"aws:ResourceTag/{key}"] = [value]
    return context


def created_arns(operation: str, params: Mapping[str, Any], partition: str, region: str, account: str) -> list[str]:
    """The ARN a Create* call would give its resource, named by the request's `name` (its id is not drawn yet)."""
    if not operation.startswith("Create") or not isinstance(params.get("name"), str):
        return []
    arns = []
    for resource_type in iam_reference.action(f"personalize:{operation}").resource_types:
        arn = resource_type.arn_format.replace("${Partition}", partition).replace("${Region}", region)
        arns.append(arn.replace("${Account}", account).replace("${ResourceId}", params["name"]))
    return arns


def questions(
    operation: str,
    params: Mapping[str, Any],
    *,
    created: Sequence[str],
    base_context: Mapping[str, Sequence[str]],
    resource_tags: Callable[[str], Mapping[str, str]],
    service: str = "personalize",
) -> list[Question]:
    """What IAM checks for this call; `created`: the ARNs a Create* call makes (see `created_arns`)."""
    reference = iam_reference.action(f"{service}:{operation}")
    arns = [value for key, value in params.items() if key.endswith("Arn") and isinstance(value, str)]
    arns += list(created)
    asked: list[Question] = []
    for resource_type in reference.resource_types:
        arn = next((candidate for candidate in arns if resource_type.matches(candidate)), None)
        if arn is None:
            continue
        listed = reference.keys_for(resource_type)
        context = {k: v for k, v in service_context(params, arn, resource_tags).items() if _listed(k, listed)}
        asked.append(Question(reference.action, arn, {**base_context, **context}))
    if not asked:
        listed = reference.keys_for(None)
        context = {k: v for k, v in service_context(params, "*", resource_tags).items() if _listed(k, listed)}
        asked.append(Question(reference.action, "*", {**base_context, **context}))
    return asked


def authorize(policies: Sequence[Policy], asked: Sequence[Question]) -> tuple[Question, Decision] | None:
    """The first question IAM refuses, with its decision; None when every one is allowed."""
    for question in asked:
        decision = evaluate(policies, question.action, question.resource, question.context)
        if not decision.allowed:
            return question, decision
    return None


def access_denied(principal: Principal, question: Question, decision: Decision) -> errors.ApiError:
    """AWS's AccessDeniedException wording for an identity-policy denial."""
    why = (
        "with an explicit deny in an identity-based policy"
        if decision.decision is EvalDecision.EXPLICIT_DENY
        else f"because no identity-based policy allows the {question.action} action"
    )
    message = (
        f"User: {principal.arn} is not authorized to perform: {question.action} on resource: {question.resource} {why}"
    )
    return errors.ApiError("AccessDeniedException", message, status=400)
