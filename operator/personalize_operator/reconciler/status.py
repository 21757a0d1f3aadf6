"""Status rendering (pure): from one pass's decision to the object's `status`.

Ready says whether pods can use the tracker (Active, Secret written); Synced
says whether the last pass went through. Both follow metav1.Condition, so
`kubectl wait --for=condition=Ready` works and lastTransitionTime only moves
when a condition flips.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from personalize_operator.api.names import READY, SYNCED
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.reconciler import conditions
from personalize_operator.reconciler.conditions import kstatus_conditions
from personalize_operator.reconciler.decide import Decision, Desired, Phase, Recorded, Step


def identity(tracker: RemoteTracker | None) -> dict[str, Any]:
    if tracker is None:
        return {}
    return {"eventTrackerArn": tracker.arn, "awsStatus": tracker.status, "accountId": tracker.account_id or None}


def is_ready(decision: Decision) -> bool:
    """Ready is True while the tracker is Active (a paused Active resource included)."""
    return decision.phase == Phase.ACTIVE


def condition_list(decision: Decision, generation: int) -> list[dict[str, Any]]:
    """Ready, Synced and kstatus's Reconciling and Stalled for this decision (without timestamps)."""
    ready = conditions.condition(READY, is_ready(decision), decision.reason, decision.message, generation)
    if decision.synced:
        synced = conditions.condition(SYNCED, True, conditions.SYNC_OK, "", generation)
    else:
        synced = conditions.condition(SYNCED, False, decision.reason, decision.message, generation)
    deleting = decision.phase == Phase.DELETING
    return [
        ready,
        synced,
        *kstatus_conditions(decision.phase, decision.reason, decision.message, generation, deleting=deleting),
    ]


def render(
    desired: Desired,
    recorded: Recorded,
    decision: Decision,
    tracker: RemoteTracker | None,
    previous_conditions: Iterable[Mapping[str, Any]],
    now: str,
    *,
    create_requested: bool = False,
) -> dict[str, Any]:
    """The status patch for one pass of a resource whose spec parsed."""
    status: dict[str, Any] = {
        "phase": str(decision.phase),
        "trackerName": desired.tracker_name,
        "region": desired.region,
        "observedGeneration": desired.generation,
        "conditions": conditions.merge(previous_conditions, condition_list(decision, desired.generation), now),
    }
    if decision.forget_arn:
        status.update({"eventTrackerArn": None, "awsStatus": None, "createRequested": None})
    else:
        status.update(identity(tracker))
    if create_requested:
        status["createRequested"] = True
    if decision.owner_cluster:
        status["ownerCluster"] = decision.owner_cluster
    elif decision.forget_arn:
        status["ownerCluster"] = None
    elif tracker is not None and desired.cluster:
        status["ownerCluster"] = desired.cluster
    if decision.phase == Phase.ACTIVE:
        status["secretName"] = desired.secret_name
        status["configMapName"] = desired.config_map_name or None
    if decision.pending_restarts is not None:
        pending = [{"kind": kind, "name": name} for kind, name in decision.pending_restarts]
        status["pendingRestarts"] = pending or None
    if desired.retry_token:
        status["retryHandled"] = desired.retry_token if decision.step == Step.DELETE_FAILED else recorded.retry_token
    if desired.refresh_token and decision.step != Step.PAUSE:
        status["refreshHandled"] = desired.refresh_token  # this pass read AWS itself (decide.wants_refresh)
    return status


def render_invalid(
    decision: Decision, generation: int, previous_conditions: Iterable[Mapping[str, Any]], now: str
) -> dict[str, Any]:
    """Status for a resource whose spec does not parse: no identity is touched."""
    return {
        "phase": str(decision.phase),
        "observedGeneration": generation,
        "conditions": conditions.merge(previous_conditions, condition_list(decision, generation), now),
    }
