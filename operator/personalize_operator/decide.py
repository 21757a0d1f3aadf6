"""Pure decisions: given what we want and what AWS shows, the one next step.

No I/O and no kopf here, so every row of DESIGN.md's behaviour table is a
table test (tests/unit/test_decide.py). The reconciler (reconcile.py)
observes, calls `decide`, then carries out the step it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from personalize_operator.aws import AlreadyExists, AwsError, InUse, InvalidInput, NotFound, RemoteTracker, Retryable
from personalize_operator.model import OWNERSHIP_TAG_KEYS, RESERVED_TAG_PREFIX, Phase

OWNER_PREFIX = RESERVED_TAG_PREFIX
UID_TAG, NAMESPACE_TAG, NAME_TAG = OWNERSHIP_TAG_KEYS
ADOPT_ANNOTATION = f"{OWNER_PREFIX}adopt"
RETRY_ANNOTATION = f"{OWNER_PREFIX}retry"

CREATING_STATES = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS"})
DELETING_STATES = frozenset({"DELETE PENDING", "DELETE IN_PROGRESS"})
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"

CONFLICT_RECHECK_SECONDS = 180.0
CREATING_MAX_DELAY = 30.0
REFUSED_MAX_DELAY = 300.0


class Step(StrEnum):
    """What the reconciler does next; one step per pass."""

    CREATE = "Create"
    WAIT = "Wait"
    SYNC = "Sync"  # tracker ACTIVE: tags and Secret brought in line
    REPORT_FAILED = "ReportFailed"
    DELETE_FAILED = "DeleteFailed"  # retry of a CREATE FAILED tracker: delete it first
    CONFLICT = "Conflict"
    ADOPT = "Adopt"
    DELETE = "Delete"
    RELEASE = "Release"  # drop the finalizer


@dataclass(frozen=True)
class Desired:
    """The resource as the reconciler needs it, already defaulted."""

    uid: str
    namespace: str
    name: str
    generation: int
    tracker_name: str
    dataset_group_arn: str
    region: str
    secret_name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    retain: bool = False
    adopt: bool = False
    retry_token: str = ""  # value of the retry annotation, "" when absent

    @property
    def ownership_tags(self) -> dict[str, str]:
        return {UID_TAG: self.uid, NAMESPACE_TAG: self.namespace, NAME_TAG: self.name}

    @property
    def remote_tags(self) -> dict[str, str]:
        """Tags the remote tracker should carry: the user's plus ours."""
        return {**self.tags, **self.ownership_tags}


@dataclass(frozen=True)
class Recorded:
    """What our own earlier passes wrote into status."""

    arn: str = ""
    phase: str = ""
    observed_generation: int | None = None
    retry_token: str = ""
    secret_name: str = ""


@dataclass(frozen=True)
class Observation:
    """The remote side as seen in this pass."""

    tracker: RemoteTracker | None = None  # ours: by the ARN in status, or by our uid tag
    foreign: RemoteTracker | None = None  # another tracker holding the dataset group
    lost: bool = False  # status had an ARN that AWS no longer knows


@dataclass(frozen=True)
class Decision:
    step: Step
    phase: Phase
    reason: str
    message: str
    requeue: float | None = None  # seconds until the next pass; None: settled


def backoff(retry: int, *, first: float = 1.0, cap: float = CREATING_MAX_DELAY) -> float:
    """About `first` seconds, doubling with each retry, capped."""
    return float(min(cap, first * 2 ** max(0, min(retry, 20))))


def is_owned(tracker: RemoteTracker, uid: str) -> bool:
    return tracker.tags.get(UID_TAG) == uid


def wants_retry(desired: Desired, recorded: Recorded) -> bool:
    """A CREATE FAILED tracker is retried after a spec change or a new retry annotation."""
    spec_changed = recorded.observed_generation is not None and recorded.observed_generation < desired.generation
    asked = bool(desired.retry_token) and desired.retry_token != recorded.retry_token
    return spec_changed or asked


def tag_changes(current: Mapping[str, str], desired: Desired) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove); keys under our prefix are never removed."""
    wanted = desired.remote_tags
    to_set = {k: v for k, v in wanted.items() if current.get(k) != v}
    to_remove = sorted(k for k in current if k not in wanted and not k.startswith(OWNER_PREFIX))
    return to_set, to_remove


def decide(desired: Desired, recorded: Recorded, observed: Observation, *, retry: int = 0) -> Decision:
    """The next step while the resource exists (not being deleted)."""
    tracker = observed.tracker
    if tracker is None:
        if observed.foreign is not None:
            foreign = observed.foreign
            if desired.adopt:
                return Decision(
                    Step.ADOPT,
                    Phase.CREATING,
                    "Adopting",
                    f"adopting event tracker {foreign.name} ({foreign.arn}) as asked by {ADOPT_ANNOTATION}",
                    requeue=1.0,
                )
            return Decision(
                Step.CONFLICT,
                Phase.FAILED,
                "Conflict",
                f"dataset group {desired.dataset_group_arn} already has event tracker {foreign.name} "
                f"({foreign.arn}) that this resource did not create; delete it, or set the annotation "
                f'{ADOPT_ANNOTATION}: "true" to adopt it. Looking again every {CONFLICT_RECHECK_SECONDS:.0f}s',
                requeue=CONFLICT_RECHECK_SECONDS,
            )
        if observed.lost:
            return Decision(
                Step.CREATE,
                Phase.CREATING,
                "RemoteMissing",
                f"event tracker {recorded.arn} no longer exists in AWS; creating it again",
                requeue=1.0,
            )
        return Decision(
            Step.CREATE, Phase.CREATING, "Creating", f"creating event tracker {desired.tracker_name}", requeue=1.0
        )
    if tracker.status in CREATING_STATES:
        delay = backoff(retry)
        return Decision(
            Step.WAIT,
            Phase.CREATING,
            "Creating",
            f"event tracker {tracker.name} is {tracker.status}; checking again in {delay:.0f}s",
            requeue=delay,
        )
    if tracker.status == ACTIVE:
        return Decision(Step.SYNC, Phase.ACTIVE, "Active", f"event tracker {tracker.name} is ACTIVE")
    if tracker.status == CREATE_FAILED:
        detail = f": {tracker.failure_reason}" if tracker.failure_reason else ""
        if wants_retry(desired, recorded):
            return Decision(
                Step.DELETE_FAILED,
                Phase.CREATING,
                "Retrying",
                f"deleting failed event tracker {tracker.name} before creating it again",
                requeue=2.0,
            )
        return Decision(
            Step.REPORT_FAILED,
            Phase.FAILED,
            "CreateFailed",
            f"event tracker {tracker.name} is CREATE FAILED{detail}. It still holds the dataset group; change the "
            f"spec or set the annotation {RETRY_ANNOTATION} to a new value to delete it and try again",
        )
    if tracker.status in DELETING_STATES:
        delay = backoff(retry)
        return Decision(
            Step.WAIT,
            Phase.CREATING,
            "RemoteDeleting",
            f"event tracker {tracker.name} is {tracker.status} outside this resource's control; "
            f"it will be created again once gone (checking in {delay:.0f}s)",
            requeue=delay,
        )
    delay = backoff(retry)
    return Decision(
        Step.WAIT,
        Phase.CREATING,
        "UnknownStatus",
        f"event tracker {tracker.name} reports status {tracker.status!r}; checking again in {delay:.0f}s",
        requeue=delay,
    )


def decide_deletion(desired: Desired, observed: Observation, *, retry: int = 0) -> Decision:
    """The next step once the resource is being deleted; ends with RELEASE, never stuck on a gone tracker."""
    tracker = observed.tracker
    if desired.retain:
        where = f" {tracker.arn}" if tracker else ""
        return Decision(
            Step.RELEASE, Phase.DELETING, "Retained", f"deletionPolicy is Retain: event tracker{where} left in AWS"
        )
    if tracker is None:
        return Decision(Step.RELEASE, Phase.DELETING, "Deleted", "event tracker is gone from AWS")
    delay = backoff(retry)
    if tracker.status in CREATING_STATES:
        return Decision(
            Step.WAIT,
            Phase.DELETING,
            "WaitingForCreation",
            f"event tracker {tracker.name} is {tracker.status}; it is deleted once creation ends "
            f"(checking in {delay:.0f}s)",
            requeue=delay,
        )
    if tracker.status in DELETING_STATES:
        return Decision(
            Step.WAIT,
            Phase.DELETING,
            "Deleting",
            f"event tracker {tracker.name} is {tracker.status}; checking again in {delay:.0f}s",
            requeue=delay,
        )
    return Decision(Step.DELETE, Phase.DELETING, "Deleting", f"deleting event tracker {tracker.name}", requeue=1.0)


def decide_error(
    error: AwsError, desired: Desired, recorded: Recorded, *, retry: int = 0, deleting: bool = False
) -> Decision:
    """Where an AWS error leaves the resource: retried with backoff, or waiting for the user."""
    current = Phase(recorded.phase) if recorded.phase in Phase.__members__.values() else Phase.PENDING
    if deleting:
        current = Phase.DELETING
    if isinstance(error, Retryable):
        delay = backoff(retry)
        return Decision(
            Step.WAIT,
            current,
            "AWSUnavailable",
            f"{error.operation} failed with {error.code}; retrying in {delay:.0f}s",
            requeue=delay,
        )
    if isinstance(error, InUse):
        delay = backoff(retry)
        return Decision(
            Step.WAIT,
            current,
            "ResourceInUse",
            f"{error.operation}: tracker is in use ({error.message}); retrying in {delay:.0f}s",
            requeue=delay,
        )
    if isinstance(error, NotFound) and not deleting:
        delay = backoff(retry, first=5.0, cap=REFUSED_MAX_DELAY)
        return Decision(
            Step.WAIT,
            Phase.PENDING,
            "DatasetGroupNotFound",
            f"dataset group {desired.dataset_group_arn} was not found ({error.message}); retrying in {delay:.0f}s",
            requeue=delay,
        )
    if isinstance(error, AlreadyExists):
        return Decision(
            Step.CONFLICT,
            Phase.FAILED,
            "NameConflict",
            f"an event tracker named {desired.tracker_name} already exists in this account and region "
            f"({error.message}); choose another spec.name. Looking again every "
            f"{CONFLICT_RECHECK_SECONDS:.0f}s",
            requeue=CONFLICT_RECHECK_SECONDS,
        )
    if isinstance(error, InvalidInput) and not deleting:
        return Decision(
            Step.REPORT_FAILED, Phase.FAILED, "InvalidSpec", f"AWS refused the spec: {error.code}: {error.message}"
        )
    delay = backoff(retry, first=5.0, cap=REFUSED_MAX_DELAY)
    reason = error.code.removesuffix("Exception") or "AWSError"
    return Decision(
        Step.WAIT,
        current,
        reason,
        f"{error.operation} failed with {error.code}: {error.message}; retrying in {delay:.0f}s",
        requeue=delay,
    )
