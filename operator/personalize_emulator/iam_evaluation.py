"""IAM's decision for one request against identity policies: pure, no I/O.

The rules (IAM User Guide, "Policy evaluation logic", identity policies of
one account): a matching Deny statement wins; otherwise a matching Allow
allows; otherwise the request is implicitly denied. A statement matches when
its Action (or NotAction) matches the action, case-insensitively with `*`
and `?`; its Resource (or NotResource) matches the resource, ARN segment by
segment, case-sensitively; and its Condition holds for the request context.
An action without a resource type is authorized on "*", which only a
Resource of "*" (or a NotResource that leaves it) matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from personalize_emulator.iam_conditions import Context, PolicyError, arn_like, block_holds, check, like

VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal"}


class EvalDecision(StrEnum):
    """SimulatePrincipalPolicy's names for the three outcomes."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...]
    not_resources: tuple[str, ...] | None
    condition: Mapping[str, Mapping[str, Any]]
    sid: str = ""
    index: int = 0

    def matches(self, action: str, resource: str, context: Context) -> bool:
        if self.not_actions is not None:
            if any(like(pattern, action, ignore_case=True) for pattern in self.not_actions):
                return False
        elif not any(like(pattern, action, ignore_case=True) for pattern in self.actions):
            return False
        if self.not_resources is not None:
            if any(_resource_matches(pattern, resource) for pattern in self.not_resources):
                return False
        elif not any(_resource_matches(pattern, resource) for pattern in self.resources):
            return False
        return block_holds(self.condition, context)


@dataclass(frozen=True)
class Policy:
    """One identity policy: a name (SimulatePrincipalPolicy's SourcePolicyId) and its statements."""

    name: str
    statements: tuple[Statement, ...]
    document: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class MatchedStatement:
    policy: str
    sid: str
    index: int


@dataclass(frozen=True)
class Decision:
    decision: EvalDecision
    matched: tuple[MatchedStatement, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is EvalDecision.ALLOWED


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    if resource == "*":  # only "*" itself covers an action without a resource type
        return False
    return arn_like(pattern, resource)


def _strings(statement: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    if key not in statement:
        return None
    value = statement[key]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{key} must be a string or a non-empty list of strings")
    return tuple(items)


def _statement(raw: Any, index: int) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError("each Statement must be an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"statement {index}: unknown elements {sorted(unknown)}")
    if "Principal" in raw:
        raise PolicyError(f"statement {index}: an identity policy has no Principal")
    if raw.get("Effect") not in ("Allow", "Deny"):
        raise PolicyError(f"statement {index}: Effect must be Allow or Deny")
    actions, not_actions = _strings(raw, "Action"), _strings(raw, "NotAction")
    resources, not_resources = _strings(raw, "Resource"), _strings(raw, "NotResource")
    if (actions is None) == (not_actions is None):
        raise PolicyError(f"statement {index}: exactly one of Action and NotAction")
    if (resources is None) == (not_resources is None):
        raise PolicyError(f"statement {index}: exactly one of Resource and NotResource")
    condition = raw.get("Condition", {})
    check(condition)
    return Statement(
        effect=raw["Effect"],
        actions=actions or (),
        not_actions=not_actions,
        resources=resources or (),
        not_resources=not_resources,
        condition=condition,
        sid=str(raw.get("Sid", "")),
        index=index,
    )


def parse(document: Mapping[str, Any] | str, name: str) -> Policy:
    """A policy document (JSON text or parsed) as IAM would store it; PolicyError when IAM would refuse it."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(f"policy {name}: not JSON: {error}") from error
    if not isinstance(document, Mapping):
        raise PolicyError(f"policy {name}: the document must be an object")
    if document.get("Version") not in VERSIONS:
        raise PolicyError(f"policy {name}: Version must be one of {VERSIONS}")
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    if raw is None or not items:
        raise PolicyError(f"policy {name}: no Statement")
    try:
        statements = tuple(_statement(item, index) for index, item in enumerate(items))
    except PolicyError as error:
        raise PolicyError(f"policy {name}: {error}") from None
    return Policy(name=name, statements=statements, document=document)


def evaluate(policies: Sequence[Policy], action: str, resource: str, context: Context) -> Decision:
    """IAM's decision for `action` on `resource` (an ARN, or "*" for an action with no resource type)."""
    allows: list[MatchedStatement] = []
    denies: list[MatchedStatement] = []
    for policy in policies:
        for statement in policy.statements:
            if statement.matches(action, resource, context):
                found = MatchedStatement(policy=policy.name, sid=statement.sid, index=statement.index)
                (denies if statement.effect == "Deny" else allows).append(found)
    if denies:
        return Decision(EvalDecision.EXPLICIT_DENY, tuple(denies))
    if allows:
        return Decision(EvalDecision.ALLOWED, tuple(allows))
    return Decision(EvalDecision.IMPLICIT_DENY)
