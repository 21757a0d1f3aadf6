"""Observe, decide, act: one pass of the reconciler, the same for every entry point.

Every kopf handler (create, update, resume, delete) calls `reconcile` or
`finalize`; each call does at most one remote step, so a crash at any line is
safe to repeat. Crash-safe create: every tracker we create carries our uid as
a tag, and before creating (or after AWS says the dataset group is taken) we
look for that tag, so a lost ARN is found again instead of duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from personalize_operator import conditions, metrics, secrets
from personalize_operator.aws import AlreadyExists, AwsError, InUse, NotFound, RemoteTracker, TrackerClient
from personalize_operator.decide import (
    Decision,
    Desired,
    Observation,
    Phase,
    Recorded,
    Step,
    decide,
    decide_deletion,
    decide_error,
    is_owned,
    tag_changes,
)
from personalize_operator.kstatus import kstatus_conditions
from personalize_operator.model import READY, SYNCED

# Warning Event reasons, one per failing external action (crossplane-runtime style).
CANNOT_OBSERVE = "CannotObserveEventTracker"
CANNOT_CREATE = "CannotCreateEventTracker"
CANNOT_UPDATE = "CannotUpdateEventTracker"
CANNOT_DELETE = "CannotDeleteEventTracker"
CANNOT_WRITE_SECRET = "CannotWriteSecret"
WARNING_PHASES = frozenset({Phase.FAILED, Phase.PENDING})
SECRET_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass
class Outcome:
    """What a pass produced: the status patch, Events to post, and when to come back."""

    decision: Decision
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def requeue(self) -> float | None:
        return self.decision.requeue


@dataclass
class Context:
    """The I/O edges one pass may use."""

    aws: TrackerClient
    core: k8s.CoreV1Api
    desired: Desired
    recorded: Recorded
    previous_conditions: list[dict[str, Any]]
    retry: int = 0


def observe(aws: TrackerClient, desired: Desired, recorded: Recorded) -> Observation:
    """Find our tracker: by the ARN in status, else by our uid tag in the dataset group."""
    lost = False
    if recorded.arn:
        tracker = aws.describe(recorded.arn)
        if tracker is not None:
            return Observation(tracker=tracker)
        lost = True
    try:
        candidates = aws.find_in_dataset_group(desired.dataset_group_arn)
    except NotFound:
        candidates = []
    owned = next((t for t in candidates if is_owned(t, desired.uid)), None)
    foreign = next((t for t in candidates if not is_owned(t, desired.uid)), None)
    if owned is not None:
        return Observation(tracker=owned)
    return Observation(foreign=foreign, lost=lost)


def _owner(desired: Desired) -> secrets.Owner:
    return secrets.Owner(namespace=desired.namespace, name=desired.name, uid=desired.uid)


def _identity(tracker: RemoteTracker | None) -> dict[str, Any]:
    if tracker is None:
        return {}
    return {"eventTrackerArn": tracker.arn, "awsStatus": tracker.status, "accountId": tracker.account_id or None}


def _sync_active(ctx: Context, tracker: RemoteTracker) -> list[Event]:
    """Tags and Secret brought in line with the spec; old Secret removed on a rename."""
    events: list[Event] = []
    to_set, to_remove = tag_changes(ctx.aws.tags(tracker.arn), ctx.desired)
    ctx.aws.tag(tracker.arn, to_set)
    ctx.aws.untag(tracker.arn, to_remove)
    if to_set or to_remove:
        events.append(Event("Normal", "TagsUpdated", f"set {len(to_set)} and removed {len(to_remove)} tag(s)"))
    owner = _owner(ctx.desired)
    wanted = secrets.render(owner, ctx.desired.secret_name, tracker.tracking_id, tracker.arn)
    if secrets.apply(ctx.core, wanted, owner):
        events.append(Event("Normal", "SecretWritten", f"Secret {ctx.desired.secret_name} holds the tracking ID"))
    old = ctx.recorded.secret_name
    if old and old != ctx.desired.secret_name and secrets.delete_if_ours(ctx.core, ctx.desired.namespace, old, owner):
        events.append(Event("Normal", "SecretMoved", f"Secret {old} replaced by {ctx.desired.secret_name}"))
    return events


def _act(ctx: Context, decision: Decision, observed: Observation) -> tuple[Decision, RemoteTracker | None, list[Event]]:
    """Carry out one step; may refine the decision (for example a create that finds ours)."""
    desired, tracker = ctx.desired, observed.tracker
    if decision.step == Step.CREATE:
        events = [Event("Warning", "RemoteMissing", decision.message)] if observed.lost else []
        try:
            arn = ctx.aws.create(
                name=desired.tracker_name, dataset_group_arn=desired.dataset_group_arn, tags=desired.remote_tags
            )
        except AlreadyExists:
            # The dataset group is taken: maybe by our own tracker whose ARN was lost.
            again = observe(ctx.aws, desired, Recorded())
            if again.tracker is None and again.foreign is None:
                raise
            return decide(desired, ctx.recorded, again, retry=ctx.retry), again.tracker, events
        created = ctx.aws.describe(arn) or RemoteTracker(
            arn=arn, name=desired.tracker_name, status="CREATE PENDING", dataset_group_arn=desired.dataset_group_arn
        )
        events.append(Event("Normal", "CreatedEventTracker", f"created event tracker {desired.tracker_name} ({arn})"))
        return decision, created, events
    if decision.step == Step.ADOPT and observed.foreign is not None:
        ctx.aws.tag(observed.foreign.arn, desired.ownership_tags)
        return decision, observed.foreign, [Event("Normal", "AdoptedEventTracker", decision.message)]
    if decision.step == Step.DELETE_FAILED and tracker is not None:
        ctx.aws.delete(tracker.arn)
        return decision, None, [Event("Normal", "DeletingFailedEventTracker", decision.message)]
    if decision.step == Step.SYNC and tracker is not None:
        return decision, tracker, _sync_active(ctx, tracker)
    return decision, tracker, []


def _error_event(step: Step | None, error: AwsError) -> Event:
    reason = {
        Step.CREATE: CANNOT_CREATE,
        Step.DELETE: CANNOT_DELETE,
        Step.DELETE_FAILED: CANNOT_DELETE,
        Step.SYNC: CANNOT_UPDATE,
        Step.ADOPT: CANNOT_UPDATE,
    }.get(step or Step.WAIT, CANNOT_OBSERVE)
    return Event("Warning", reason, f"{error.operation} failed: {error.code}: {error.message}")


def _status(
    ctx: Context, decision: Decision, tracker: RemoteTracker | None, error: str | None, clear_arn: bool = False
) -> dict[str, Any]:
    desired = ctx.desired
    ready = conditions.condition(
        READY, decision.phase == Phase.ACTIVE, decision.reason, decision.message, desired.generation
    )
    synced = conditions.condition(
        SYNCED,
        error is None,
        conditions.SYNC_OK if error is None else conditions.SYNC_ERROR,
        error or "",
        desired.generation,
    )
    kstatus = kstatus_conditions(decision.phase, decision.reason, decision.message, desired.generation)
    status: dict[str, Any] = {
        "phase": str(decision.phase),
        "trackerName": desired.tracker_name,
        "observedGeneration": desired.generation,
        "conditions": conditions.merge(ctx.previous_conditions, [ready, synced, *kstatus], conditions.now_rfc3339()),
        **_identity(tracker),
    }
    status["region"] = desired.region
    if clear_arn:
        status.update({"eventTrackerArn": None, "awsStatus": None})
    if decision.phase == Phase.ACTIVE:
        status["secretName"] = desired.secret_name
    if desired.retry_token:
        status["retryHandled"] = (
            desired.retry_token if decision.step == Step.DELETE_FAILED else ctx.recorded.retry_token
        )
    return status


def _phase_events(ctx: Context, decision: Decision) -> list[Event]:
    before = conditions.find(ctx.previous_conditions, READY).get("reason")
    if ctx.recorded.phase == decision.phase and before == decision.reason:
        return []
    kind = "Warning" if decision.phase in WARNING_PHASES or decision.reason == "RemoteMissing" else "Normal"
    return [Event(kind, decision.reason, decision.message)]


def reconcile(ctx: Context) -> Outcome:
    """One pass for a live resource."""
    decision: Decision | None = None
    tracker: RemoteTracker | None = None
    events: list[Event] = []
    try:
        observed = observe(ctx.aws, ctx.desired, ctx.recorded)
        tracker = observed.tracker
        decision = decide(ctx.desired, ctx.recorded, observed, retry=ctx.retry)
        decision, tracker, events = _act(ctx, decision, observed)
        error = None
    except AwsError as failure:
        events.append(_error_event(decision.step if decision else None, failure))
        decision = decide_error(failure, ctx.desired, ctx.recorded, retry=ctx.retry)
        error = f"{failure.operation}: {failure.code}: {failure.message}"
    except secrets.SecretConflict as failure:
        # Pods cannot use the tracker without its Secret: not Ready, and the user must pick another name.
        events.append(Event("Warning", CANNOT_WRITE_SECRET, str(failure)))
        decision = Decision(
            Step.WAIT, Phase.FAILED, "SecretConflict", f"{failure}; set spec.secretName", requeue=SECRET_RETRY_SECONDS
        )
        error = str(failure)
    except ApiException as failure:
        text = f"writing Secret {ctx.desired.secret_name} failed: Kubernetes API answered {failure.status}"
        events.append(Event("Warning", CANNOT_WRITE_SECRET, text))
        decision = Decision(Step.WAIT, Phase.PENDING, "SecretNotWritten", text, requeue=SECRET_RETRY_SECONDS)
        error = text
    metrics.RECONCILES.labels(action=str(decision.step)).inc()
    # The recorded ARN goes when that tracker is known gone: retried, lost, or the group taken by another.
    cleared = decision.step == Step.DELETE_FAILED or (tracker is None and decision.step == Step.CONFLICT)
    status = _status(ctx, decision, None if cleared else tracker, error, clear_arn=cleared)
    return Outcome(decision=decision, status=status, events=_phase_events(ctx, decision) + events)


def finalize(ctx: Context) -> Outcome:
    """One pass for a resource being deleted; RELEASE means the finalizer may go."""
    decision: Decision | None = None
    tracker: RemoteTracker | None = None
    events: list[Event] = []
    error = None
    try:
        observed = observe(ctx.aws, ctx.desired, ctx.recorded)
        tracker = observed.tracker
        decision = decide_deletion(ctx.desired, observed, retry=ctx.retry)
        if decision.step == Step.DELETE and tracker is not None:
            try:
                ctx.aws.delete(tracker.arn)
                events.append(Event("Normal", "DeletingEventTracker", f"deleting event tracker {tracker.name}"))
            except InUse as busy:
                decision = decide_error(busy, ctx.desired, ctx.recorded, retry=ctx.retry, deleting=True)
        if decision.step == Step.RELEASE:
            secrets.delete_if_ours(ctx.core, ctx.desired.namespace, ctx.desired.secret_name, _owner(ctx.desired))
    except AwsError as failure:
        events.append(_error_event(Step.DELETE, failure))
        decision = decide_error(failure, ctx.desired, ctx.recorded, retry=ctx.retry, deleting=True)
        error = f"{failure.operation}: {failure.code}: {failure.message}"
    metrics.RECONCILES.labels(action=f"finalize-{decision.step}").inc()
    status = _status(ctx, decision, tracker, error)
    return Outcome(decision=decision, status=status, events=_phase_events(ctx, decision) + events)
