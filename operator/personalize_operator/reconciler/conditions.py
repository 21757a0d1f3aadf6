"""Conditions (pure): the metav1.Condition shape, how a status's list is merged, and kstatus's two.

Conditions follow metav1.Condition: lastTransitionTime only moves when the
condition's status flips, so `kubectl wait --for=condition=Ready` and humans
can tell how long a state has lasted.

kstatus (Flux health checks, `kpt live status`, anything built on
sigs.k8s.io/cli-utils) reads Reconciling and Stalled before anything else:
Reconciling True is InProgress, Stalled True is Failed with that condition's
message. Without them kstatus falls back to Ready, and Ready=False always
reads as InProgress, even for a Conflict that only a person can fix: Flux
would wait until its timeout instead of failing with the reason.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from personalize_operator.api.names import RECONCILING, STALLED, Phase

SYNC_OK = "ReconcileSuccess"
SYNC_ERROR = "ReconcileError"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def condition(kind: str, ok: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def merge(previous: Iterable[Mapping[str, Any]], updates: Iterable[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Replace conditions by type, keeping lastTransitionTime when the status did not change."""
    old = {c.get("type"): c for c in previous}
    merged: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in old.items() if k}
    for update in updates:
        before = old.get(update["type"])
        unchanged = before is not None and before.get("status") == update["status"]
        stamp = before.get("lastTransitionTime") if unchanged and before else None
        merged[update["type"]] = {**update, "lastTransitionTime": stamp or now}
    return [merged[k] for k in sorted(merged)]


def find(conditions: Iterable[Mapping[str, Any]], kind: str) -> Mapping[str, Any]:
    return next((c for c in conditions if c.get("type") == kind), {})


# Reasons the operator cannot fix by retrying: a person must change the spec, AWS or RBAC.
STALLED_REASONS = frozenset(
    {"Conflict", "NameConflict", "CreateFailed", "InvalidSpec", "SecretConflict", "Forbidden", "OwnedByOtherCluster"}
)
# Phases in which the operator is still working: creating, deleting, or retrying an AWS error with backoff.
RECONCILING_PHASES = frozenset({Phase.PENDING, Phase.CREATING, Phase.DELETING})


def is_stalled(phase: str, reason: str) -> bool:
    """A person must act: a Failed phase or a reason no retry can fix."""
    return phase == Phase.FAILED or reason in STALLED_REASONS


def is_reconciling(phase: str, reason: str, deleting: bool = False) -> bool:
    """The operator is still working. Never true together with Stalled, because kstatus reads whichever comes first."""
    return not is_stalled(phase, reason) and (deleting or phase in RECONCILING_PHASES)


def kstatus_conditions(
    phase: str, reason: str, message: str, generation: int, *, deleting: bool = False
) -> list[dict[str, Any]]:
    """Reconciling and Stalled for this pass. A True condition carries the pass's reason and message.

    A False one keeps the reason and leaves the message empty. Both are always written,
    because merging conditions never drops a type and an old True must turn False.
    """
    stalled = is_stalled(phase, reason)
    reconciling = is_reconciling(phase, reason, deleting)
    return [
        condition(RECONCILING, reconciling, reason, message if reconciling else "", generation),
        condition(STALLED, stalled, reason, message if stalled else "", generation),
    ]
