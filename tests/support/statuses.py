"""Every status the operator writes: its own decisions, rendered as reconcile.py renders them.

The Argo CD health check and kstatus are judged on these, so a new decision in
decide.py is one new row here and is checked by both tools at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personalize_operator import conditions
from personalize_operator.decide import (
    UID_TAG,
    Decision,
    Desired,
    Observation,
    Recorded,
    decide,
    decide_deletion,
    decide_error,
    decide_invalid_spec,
    decide_paused,
    decide_release,
    decide_secret_conflict,
    decide_secret_not_written,
)
from personalize_operator.errors import (
    AccessDenied,
    AlreadyExists,
    InUse,
    InvalidInput,
    NotFound,
    Retryable,
    Throttled,
    TooManyTags,
)
from personalize_operator.remote import RemoteTracker
from personalize_operator.status import condition_list

DG = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop"
ARN = "arn:aws:personalize:eu-west-1:111122223333:event-tracker/0f3c5e7a"
SINCE = "2025-01-01T10:00:00Z"
GENERATION = 2


@dataclass(frozen=True)
class DecisionCase:
    name: str
    decision: Decision
    deleting: bool


def _desired(**changes: Any) -> Desired:
    base: dict[str, Any] = {
        "uid": "uid-1",
        "namespace": "shop",
        "name": "storefront",
        "generation": GENERATION,
        "tracker_name": "storefront-clicks",
        "dataset_group_arn": DG,
        "region": DG.split(":")[3],
        "secret_name": "storefront-tracking",
    }
    return Desired(**(base | changes))


def _remote(aws_status: str, *, uid: str = "uid-1") -> RemoteTracker:
    return RemoteTracker(
        arn=ARN, name="storefront-clicks", status=aws_status, dataset_group_arn=DG, tags={UID_TAG: uid}
    )


def _decisions() -> list[DecisionCase]:
    desired = _desired()
    fresh, active = Recorded(), Recorded(arn=ARN, phase="Active", observed_generation=GENERATION)
    denied = AccessDenied("AccessDeniedException", "not authorized", "CreateEventTracker")
    expired = AccessDenied("ExpiredTokenException", "expired", "DescribeEventTracker")
    quota = Throttled("LimitExceededException", "too many trackers", "CreateEventTracker")
    throttled = Throttled("ThrottlingException", "slow down", "DescribeEventTracker")
    unavailable = Retryable("InternalFailure", "", "CreateEventTracker")
    busy = InUse("ResourceInUseException", "busy", "DeleteEventTracker")
    foreign = Observation(foreign=_remote("ACTIVE", uid="x"))
    cases = [
        ("create", decide(desired, fresh, Observation()), False),
        ("remote-missing", decide(desired, active, Observation(lost=True)), False),
        ("adopting", decide(_desired(adopt=True), fresh, foreign), False),
        ("conflict", decide(desired, fresh, foreign), False),
        ("creating", decide(desired, fresh, Observation(tracker=_remote("CREATE IN_PROGRESS"))), False),
        ("active", decide(desired, active, Observation(tracker=_remote("ACTIVE"))), False),
        ("create-failed", decide(desired, active, Observation(tracker=_remote("CREATE FAILED"))), False),
        ("retrying", decide(_desired(retry_token="1"), active, Observation(tracker=_remote("CREATE FAILED"))), False),
        ("remote-deleting", decide(desired, active, Observation(tracker=_remote("DELETE PENDING"))), False),
        ("unknown-aws-status", decide(desired, active, Observation(tracker=_remote("UPDATING"))), False),
        (
            "dataset-group-not-found",
            decide_error(NotFound("ResourceNotFoundException", "gone", "x"), desired, fresh),
            False,
        ),
        ("access-denied-before-create", decide_error(denied, desired, fresh), False),
        ("access-denied-while-active", decide_error(denied, desired, active), False),
        ("limit-exceeded", decide_error(quota, desired, fresh), False),
        ("throttled-while-active", decide_error(throttled, desired, active), False),
        ("aws-unavailable", decide_error(unavailable, desired, fresh), False),
        ("credentials-expired-while-active", decide_error(expired, desired, active), False),
        (
            "too-many-tags",
            decide_error(TooManyTags("TooManyTagsException", "50", "TagResource"), desired, active),
            False,
        ),
        (
            "owned-by-a-live-resource",
            decide(
                _desired(adopt=True),
                fresh,
                Observation(foreign=_remote("ACTIVE", uid="x"), foreign_owner="team-a/shop"),
            ),
            False,
        ),
        ("paused", decide_paused(active), False),
        ("unparseable-spec", decide_invalid_spec("spec.tags: too many"), False),
        (
            "name-conflict",
            decide_error(AlreadyExists("ResourceAlreadyExistsException", "x", "y"), desired, fresh),
            False,
        ),
        ("invalid-spec", decide_error(InvalidInput("InvalidInputException", "bad", "y"), desired, fresh), False),
        ("secret-conflict", decide_secret_conflict("Secret shop/taken exists and is not ours"), False),
        ("secret-not-written", decide_secret_not_written("writing Secret storefront-tracking failed: 403"), False),
        ("delete", decide_deletion(desired, Observation(tracker=_remote("ACTIVE"))), True),
        ("deleting", decide_deletion(desired, Observation(tracker=_remote("DELETE IN_PROGRESS"))), True),
        ("waiting-for-creation", decide_deletion(desired, Observation(tracker=_remote("CREATE PENDING"))), True),
        ("retained", decide_deletion(_desired(retain=True), Observation(tracker=_remote("ACTIVE"))), True),
        ("retained-at-once", _released(decide_release(_desired(retain=True), active)), True),
        ("never-created", _released(decide_release(desired, fresh)), True),
        ("deleted", decide_deletion(desired, Observation()), True),
        ("delete-in-use", decide_error(busy, desired, active, deleting=True), True),
        ("delete-access-denied", decide_error(denied, desired, active, deleting=True), True),
    ]
    return [DecisionCase(name, decision, deleting) for name, decision, deleting in cases]


def _released(decision: Decision | None) -> Decision:
    assert decision is not None
    return decision


DECISIONS = _decisions()


def rendered_status(decision: Decision, *, generation: int = GENERATION) -> dict[str, Any]:
    """The status reconcile.py writes for `decision` (conditions as status.py renders them)."""
    updates = condition_list(decision, generation)
    return {
        "phase": str(decision.phase),
        "trackerName": "storefront-clicks",
        "observedGeneration": generation,
        "conditions": conditions.merge([], updates, SINCE),
    }


def rendered_event_tracker(decision: Decision, *, deleting: bool, generation: int = GENERATION) -> dict[str, Any]:
    """A whole EventTracker carrying the status of `decision`, marked for deletion when `deleting`."""
    metadata: dict[str, Any] = {"name": "storefront", "namespace": "shop", "uid": "uid-1", "generation": generation}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T12:00:00Z"
        metadata["finalizers"] = ["personalize.operators.dev/finalizer"]
    return {
        "apiVersion": "personalize.operators.dev/v1beta1",
        "kind": "EventTracker",
        "metadata": metadata,
        "spec": {"name": "storefront-clicks", "datasetGroupArn": DG},
        "status": rendered_status(decision, generation=generation),
    }
