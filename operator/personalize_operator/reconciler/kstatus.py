"""The kstatus conditions, Reconciling and Stalled, worked out from one pass's phase and reason (pure).

Flux health checks, `kpt live status` and other tools built on sigs.k8s.io/cli-utils
read these two conditions before anything else. When Reconciling is True the status
is InProgress. When Stalled is True it is Failed, with that condition's message.
Without them kstatus falls back to Ready, and Ready=False always reads as InProgress,
even for a Conflict that only a person can fix. Flux would then wait until its
timeout instead of failing with the reason.
"""

from __future__ import annotations

from typing import Any

from personalize_operator.api.model import Phase
from personalize_operator.reconciler import conditions

RECONCILING = "Reconciling"
STALLED = "Stalled"

# Reasons the operator cannot fix by retrying: a person must change the spec, AWS or RBAC.
STALLED_REASONS = frozenset({"Conflict", "NameConflict", "CreateFailed", "InvalidSpec", "SecretConflict", "Forbidden"})
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
        conditions.condition(RECONCILING, reconciling, reason, message if reconciling else "", generation),
        conditions.condition(STALLED, stalled, reason, message if stalled else "", generation),
    ]
