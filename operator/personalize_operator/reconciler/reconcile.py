"""Observe, decide, act: one pass of the reconciler, the same for every entry point.

Every way a resource is looked at (its first pass, a spec change, a
resync timer, a Secret that changed, the end of a wait) runs `reconcile`;
deletion runs `finalize`. Each pass does at most one remote step, so a crash
at any line is safe to repeat. Crash-safe create: every tracker we create
carries our uid as a tag, "create requested" is recorded in status before
CreateEventTracker is called, and before creating (or after AWS says the
dataset group is taken) we look for our tag, so a lost ARN is found again
instead of duplicated.

The edges are interfaces (`Trackers`, `SecretWriter`, `Owners`), so the unit
tests drive this module through in-memory fakes, row by row of the
behaviour table, while the end-to-end suite proves the real thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from personalize_operator.api import arns
from personalize_operator.api.names import CLUSTER_TAG, UID_TAG, RestartResult
from personalize_operator.aws.errors import AlreadyExists, AwsError, InUse, NotFound
from personalize_operator.aws.tracker import CREATE_PENDING, RemoteTracker
from personalize_operator.kube.configmaps import ConfigMapConflict, Facts
from personalize_operator.kube.secrets import DEFAULT_SHAPE, Owner, SecretConflict, SecretError, SecretWrite, Shape
from personalize_operator.reconciler import rollout
from personalize_operator.reconciler.conditions import now_rfc3339
from personalize_operator.reconciler.decide import (
    Decision,
    Desired,
    Event,
    Observation,
    Ownership,
    Recorded,
    Step,
    decide,
    decide_config_map_conflict,
    decide_deletion,
    decide_error,
    decide_paused,
    decide_release,
    decide_secret_conflict,
    decide_secret_not_written,
    decide_tags_read,
    expects_new_secret,
    failure_event,
    looks_first,
    owner_of,
    ownership,
    tag_changes,
    wants_refresh,
)
from personalize_operator.reconciler.outcome import Outcome, conclude


class Trackers(Protocol):
    """The Personalize calls a pass makes (aws.TrackerClient in production)."""

    def describe(self, arn: str, *, with_tags: bool = False) -> RemoteTracker | None: ...
    def find_in_dataset_group(self, dataset_group_arn: str) -> list[RemoteTracker]: ...
    def create(self, *, name: str, dataset_group_arn: str, tags: Mapping[str, str]) -> str: ...
    def delete(self, arn: str) -> None: ...
    def tags(self, arn: str) -> dict[str, str]: ...
    def tag(self, arn: str, tags: Mapping[str, str]) -> None: ...
    def untag(self, arn: str, keys: list[str]) -> None: ...
    def may_exist(self, name: str) -> bool: ...


class SecretWriter(Protocol):
    """The tracking Secret (secrets.SecretStore in production); raises SecretConflict / SecretError."""

    def write(
        self, owner: Owner, name: str, tracking_id: str, arn: str, shape: Shape = ..., *, new: bool = ...
    ) -> SecretWrite: ...
    def remove(self, owner: Owner, name: str) -> bool: ...


class ConfigMapWriter(Protocol):
    """The facts ConfigMap (configmaps.ConfigMapStore in production); raises ConfigMapConflict / SecretError."""

    def write(self, owner: Owner, name: str, facts: Facts, shape: Shape = ...) -> SecretWrite: ...
    def remove(self, owner: Owner, name: str) -> bool: ...


class WorkloadRestarter(Protocol):
    """Rollout restarts (workloads.Workloads in production); raises SecretError when the API fails."""

    def restart(self, namespace: str, kind: str, name: str, at: str) -> RestartResult: ...


class NoConfigMaps:
    """Where no ConfigMap edge is given: any write is refused loudly (a spec naming one needs the real edge)."""

    def write(self, owner: Owner, name: str, facts: Facts, shape: Shape = DEFAULT_SHAPE) -> SecretWrite:
        raise SecretError(f"writing ConfigMap {name} failed: no ConfigMap edge")

    def remove(self, owner: Owner, name: str) -> bool:
        return False


class NoWorkloads:
    """Where no workload edge is given: every restart is forbidden."""

    def restart(self, namespace: str, kind: str, name: str, at: str) -> RestartResult:
        return RestartResult.FORBIDDEN


class Owners(Protocol):
    """Whether an EventTracker with this uid still exists (kube.TrackerObjects in production)."""

    def alive(self, namespace: str, name: str, uid: str) -> bool: ...


@dataclass
class Context:
    """The I/O edges and inputs one pass may use."""

    aws: Trackers
    secrets: SecretWriter
    owners: Owners
    desired: Desired
    recorded: Recorded
    previous_conditions: list[dict[str, Any]]
    retry: int = 0
    # Writes status.createRequested before CreateEventTracker is called (so a deletion knows to look in AWS).
    mark_create_requested: Callable[[], None] = lambda: None
    # Takes the call budget's token for CreateEventTracker before createRequested is written (aws/ratelimit.py):
    # a pass sent back to wait for the budget leaves nothing behind.
    secure_call: Callable[[], None] = lambda: None
    # A single-attempt client for the best-effort release of a retained tracker (never holds a deletion).
    aws_once: Trackers | None = None
    now: Callable[[], str] = now_rfc3339
    config_maps: ConfigMapWriter = field(default_factory=NoConfigMaps)
    workloads: WorkloadRestarter = field(default_factory=NoWorkloads)


def observe(aws: Trackers, owners: Owners, desired: Desired, recorded: Recorded) -> Observation:
    """Find our tracker: by the ARN in status, else by its ownership tags in the dataset group."""
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
    whose = {t.arn: ownership(t, desired) for t in candidates}
    owned = next((t for t in candidates if whose[t.arn] == Ownership.OURS), None)
    if owned is not None:
        return Observation(tracker=owned)
    other = next((t for t in candidates if whose[t.arn] == Ownership.OTHER_CLUSTER), None)
    if other is not None:
        return Observation(other_cluster=other, lost=lost)
    foreign = next((t for t in candidates if whose[t.arn] == Ownership.FOREIGN), None)
    return Observation(foreign=foreign, foreign_owner=_live_owner(owners, foreign), lost=lost)


def _first_look(ctx: Context) -> Observation:
    """What a pass starts from (decide.looks_first says whether to look at all).

    A resource that never asked for a tracker has none of its own unless it was restored (new uid, no
    status): then the region's tracker list already shows its tracker's name, and we look instead of
    creating. Otherwise no ListEventTrackers per new resource, which matters in a burst against the
    account's request limit: a Create into a taken group answers AlreadyExists, and `_create` looks then.
    """
    if not looks_first(ctx.desired, ctx.recorded, name_listed=lambda: ctx.aws.may_exist(ctx.desired.tracker_name)):
        return Observation()
    return observe(ctx.aws, ctx.owners, ctx.desired, ctx.recorded)


def _fresh_from_create(recorded: Recorded, desired: Desired, tracker: RemoteTracker) -> bool:
    """The tracker turned ACTIVE from a creation we made with the current spec's tags: no need to list them.

    Tags changed in AWS in the meantime are put back at the next resync, like any other drift.
    """
    return (
        recorded.arn == tracker.arn
        and recorded.reason == "Creating"
        and recorded.observed_generation == desired.generation
        and not wants_refresh(desired, recorded)
    )


def _live_owner(owners: Owners, tracker: RemoteTracker | None) -> str:
    """ "namespace/name" of the EventTracker that owns `tracker`, if that resource still exists."""
    owner = owner_of(tracker) if tracker is not None else None
    if owner is None:
        return ""
    uid, namespace, name = owner
    return f"{namespace}/{name}" if owners.alive(namespace, name, uid) else ""


def _owner(desired: Desired) -> Owner:
    return Owner(namespace=desired.namespace, name=desired.name, uid=desired.uid)


def secret_shape(desired: Desired) -> Shape:
    """The spec's key names, labels and annotations for the Secret (and the ConfigMap)."""
    return Shape(*desired.secret_keys, labels=desired.secret_labels, annotations=desired.secret_annotations)


def _facts(desired: Desired, tracker: RemoteTracker) -> Facts:
    account = tracker.account_id or arns.account_of(tracker.arn)
    return Facts(tracker.arn, tracker.name, desired.dataset_group_arn, desired.region, account)


def _sync_config_map(ctx: Context, tracker: RemoteTracker) -> list[Event]:
    """The facts ConfigMap written when asked for; the one recorded before removed when renamed or unlisted."""
    events: list[Event] = []
    owner, wanted, old = _owner(ctx.desired), ctx.desired.config_map_name, ctx.recorded.config_map_name
    if wanted and ctx.config_maps.write(owner, wanted, _facts(ctx.desired, tracker), secret_shape(ctx.desired)):
        events.append(Event("Normal", "ConfigMapWritten", f"ConfigMap {wanted} holds the event tracker's facts"))
    if old and old != wanted and ctx.config_maps.remove(owner, old):
        events.append(Event("Normal", "ConfigMapRemoved", f"ConfigMap {old} removed"))
    return events


def _restart_workloads(ctx: Context, decision: Decision, replaced: bool) -> tuple[Decision, list[Event]]:
    """Restart the listed workloads after a trackingId change (and those still owed); rollout.py decides."""
    targets = rollout.to_restart(replaced, ctx.desired.restart_targets, ctx.recorded.pending_restarts)
    results: dict[rollout.Target, RestartResult | str] = {}
    at = ctx.now()
    for kind, name in targets:
        try:
            results[(kind, name)] = ctx.workloads.restart(ctx.desired.namespace, kind, name, at)
        except SecretError as failure:
            results[(kind, name)] = str(failure)
    pending = rollout.still_pending(results)
    events = rollout.restart_events(ctx.desired.secret_name, results)
    return rollout.decide_after_restarts(decision, results, pending), events


def _sync_active(ctx: Context, decision: Decision, tracker: RemoteTracker) -> tuple[Decision, list[Event]]:
    """Tags, Secret and ConfigMap brought in line with the spec; old ones removed on a rename; workloads
    restarted when the trackingId changed."""
    events: list[Event] = []
    if _fresh_from_create(ctx.recorded, ctx.desired, tracker):
        to_set, to_remove = {}, []
    else:
        current = ctx.aws.tags(tracker.arn)
        refused = decide_tags_read(ctx.desired, tracker, current)
        if refused is not None:
            raise _NotOurs(refused)
        to_set, to_remove = tag_changes(current, ctx.desired)
    ctx.aws.tag(tracker.arn, to_set)
    ctx.aws.untag(tracker.arn, to_remove)
    if to_set or to_remove:
        events.append(Event("Normal", "TagsUpdated", f"set {len(to_set)} and removed {len(to_remove)} tag(s)"))
    owner = _owner(ctx.desired)
    shape = secret_shape(ctx.desired)
    new = expects_new_secret(ctx.recorded, ctx.desired.secret_name)
    written = ctx.secrets.write(owner, ctx.desired.secret_name, tracker.tracking_id, tracker.arn, shape, new=new)
    if written:
        events.append(Event("Normal", "SecretWritten", f"Secret {ctx.desired.secret_name} holds the tracking ID"))
    old = ctx.recorded.secret_name
    if old and old != ctx.desired.secret_name and ctx.secrets.remove(owner, old):
        events.append(Event("Normal", "SecretMoved", f"Secret {old} replaced by {ctx.desired.secret_name}"))
    events += _sync_config_map(ctx, tracker)
    replaced = isinstance(written, SecretWrite) and written.tracking_id_replaced
    decision, restarted = _restart_workloads(ctx, decision, replaced)
    return decision, events + restarted


def _create(ctx: Context, decision: Decision) -> tuple[Decision, RemoteTracker | None, list[Event]]:
    desired = ctx.desired
    if not ctx.recorded.create_requested:
        ctx.secure_call()
        ctx.mark_create_requested()
    try:
        arn = ctx.aws.create(
            name=desired.tracker_name, dataset_group_arn=desired.dataset_group_arn, tags=desired.remote_tags
        )
    except AlreadyExists:
        # The dataset group is taken: maybe by our own tracker whose ARN was lost.
        again = observe(ctx.aws, ctx.owners, desired, Recorded())
        if again.tracker is None and again.foreign is None:
            raise
        # Carry out what the group's tracker calls for in this pass (adopt, sync ours...): never report
        # Active before the Secret is written. Never CREATE again: the group is taken.
        return _act(ctx, decide(desired, ctx.recorded, again, retry=ctx.retry), again)
    # Every new tracker starts CREATE PENDING: no Describe needed to know it (the status board follows it).
    created = RemoteTracker(
        arn=arn,
        name=desired.tracker_name,
        status=CREATE_PENDING,
        dataset_group_arn=desired.dataset_group_arn,
        account_id=arns.account_of(arn),
    )
    return decision, created, [Event("Normal", "CreatedEventTracker", f"created event tracker {desired.tracker_name}")]


def _act(ctx: Context, decision: Decision, observed: Observation) -> tuple[Decision, RemoteTracker | None, list[Event]]:
    """Carry out one step; may refine the decision (for example a create that finds ours)."""
    tracker = observed.tracker
    if decision.step == Step.CREATE:
        return _create(ctx, decision)
    taken = observed.foreign or observed.other_cluster
    if decision.step == Step.ADOPT and taken is not None:
        ctx.aws.tag(taken.arn, ctx.desired.ownership_tags)
        return decision, taken, [Event("Normal", "AdoptedEventTracker", decision.message)]
    if decision.step == Step.DELETE_FAILED and tracker is not None:
        ctx.aws.delete(tracker.arn)
        return decision, None, [Event("Normal", "DeletingFailedEventTracker", decision.message)]
    if decision.step == Step.SYNC and tracker is not None:
        try:
            decision, events = _sync_active(ctx, decision, tracker)
            return decision, tracker, events
        except _NotOurs as not_ours:
            return not_ours.decision, None, []
    return decision, tracker, []


class _NotOurs(Exception):
    """The tracker at our recorded ARN is tagged by another cluster (it was taken over): nothing is changed."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision


def _end(ctx: Context, decision: Decision, tracker: RemoteTracker | None, events: list[Event], **how: Any) -> Outcome:
    return conclude(
        decision,
        desired=ctx.desired,
        recorded=ctx.recorded,
        previous_conditions=ctx.previous_conditions,
        now=ctx.now(),
        tracker=tracker,
        events=events,
        **how,
    )


def reconcile(ctx: Context) -> Outcome:
    """One pass for a live resource."""
    if ctx.desired.paused:
        return _end(ctx, decide_paused(ctx.recorded), None, [])
    decision: Decision | None = None
    tracker: RemoteTracker | None = None
    events: list[Event] = []
    try:
        observed = _first_look(ctx)
        tracker = observed.tracker
        decision = decide(ctx.desired, ctx.recorded, observed, retry=ctx.retry)
        decision, tracker, events = _act(ctx, decision, observed)
    except AwsError as failure:
        events.append(failure_event(decision.step if decision else None, failure))
        decision = decide_error(failure, ctx.desired, ctx.recorded, retry=ctx.retry)
    except ConfigMapConflict as failure:
        decision = decide_config_map_conflict(str(failure))
    except SecretConflict as failure:
        decision = decide_secret_conflict(str(failure))
    except SecretError as failure:
        decision = decide_secret_not_written(str(failure))
    return _end(
        ctx, decision, tracker, events, create_requested=decision.step == Step.CREATE and not decision.forget_arn
    )


def _release_retained(ctx: Context) -> list[Event]:
    """Best effort, one attempt each: drop our ownership tags so another resource may adopt the tracker."""
    arn, aws = ctx.recorded.arn, ctx.aws_once or ctx.aws
    if not arn:
        return []
    try:
        current = aws.tags(arn)
        if current.get(UID_TAG) == ctx.desired.uid and current.get(CLUSTER_TAG, "") in ("", ctx.desired.cluster):
            aws.untag(arn, sorted(ctx.desired.ownership_tags))
    except AwsError as failure:
        return [failure_event(Step.RELEASE_RETAINED, failure)]
    return []


def finalize(ctx: Context) -> Outcome:
    """One pass for a resource being deleted; `release` means the finalizer may go."""
    decision = decide_release(ctx.desired, ctx.recorded)
    tracker: RemoteTracker | None = None
    events: list[Event] = []
    try:
        if decision is None:
            observed = observe(ctx.aws, ctx.owners, ctx.desired, ctx.recorded)
            tracker = observed.tracker
            decision = decide_deletion(ctx.desired, observed, retry=ctx.retry)
            if decision.step == Step.DELETE and tracker is not None:
                # Never delete another cluster's tracker (ours until it was taken over): its tags say whose.
                tracker = replace(tracker, tags=ctx.aws.tags(tracker.arn))
                decision = decide_deletion(ctx.desired, Observation(tracker=tracker), retry=ctx.retry)
            if decision.step == Step.DELETE and tracker is not None:
                try:
                    ctx.aws.delete(tracker.arn)
                    events.append(Event("Normal", "DeletingEventTracker", f"deleting event tracker {tracker.name}"))
                except InUse as busy:
                    decision = decide_error(busy, ctx.desired, ctx.recorded, retry=ctx.retry, deleting=True)
        elif decision.step == Step.RELEASE_RETAINED:
            events += _release_retained(ctx)
        if decision.step in {Step.RELEASE, Step.RELEASE_RETAINED}:
            ctx.secrets.remove(_owner(ctx.desired), ctx.desired.secret_name)
            if ctx.desired.config_map_name:
                ctx.config_maps.remove(_owner(ctx.desired), ctx.desired.config_map_name)
    except AwsError as failure:
        events.append(failure_event(Step.DELETE, failure))
        decision = decide_error(failure, ctx.desired, ctx.recorded, retry=ctx.retry, deleting=True)
    except SecretError as failure:
        # The tracker is dealt with; the Secret is garbage-collected through its ownerReference anyway.
        events.append(Event("Warning", "CannotDeleteSecret", str(failure)))
    assert decision is not None
    return _end(ctx, decision, tracker, events, deleting=True)
