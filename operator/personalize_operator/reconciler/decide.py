"""Pure decisions: given what we want and what AWS shows, the one next step.

No I/O, no kopf and no boto3 here, so every row of docs/design.md's behaviour
table is a table test (tests/unit/test_decide.py). The reconciler
(reconcile.py) observes, calls one of the `decide*` functions, then carries
out the step it returns. Which Event a state change posts, and when the
recorded ARN is forgotten, are decisions too, and live here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from personalize_operator.api.names import (
    ADOPT_ANNOTATION,
    AWS_TAG_PREFIX,
    CLUSTER_TAG,
    NAME_TAG,
    NAMESPACE_TAG,
    PAUSED_ANNOTATION,
    RESERVED_TAG_PREFIX,
    RETRY_ANNOTATION,
    TAKE_OVER_ANNOTATION,
    TRACKER_ARN_KEY,
    TRACKING_ID_KEY,
    UID_TAG,
    Phase,
)
from personalize_operator.aws.errors import (
    AccessDenied,
    AlreadyExists,
    AwsError,
    InUse,
    InvalidInput,
    NotFound,
    Retryable,
    Throttled,
    TooManyTags,
    reason_for,
)
from personalize_operator.aws.tracker import (
    ACTIVE,
    CREATE_FAILED,
    CREATING_STATES,
    DELETING_STATES,
    RemoteTracker,
)
from personalize_operator.reconciler.conditions import is_stalled
from personalize_operator.reconciler.requeue import (
    CONFLICT_RECHECK_SECONDS,
    REFUSED_MAX_DELAY,
    RETRYABLE_MAX_DELAY,
    SECRET_RETRY_SECONDS,
    backoff,
)

__all__ = ["ACTIVE", "CREATE_FAILED", "CREATING_STATES", "DELETING_STATES", "Phase"]


# Warning Event reasons, one per failing external action (crossplane-runtime style).
CANNOT_OBSERVE = "CannotObserveEventTracker"
CANNOT_CREATE = "CannotCreateEventTracker"
CANNOT_UPDATE = "CannotUpdateEventTracker"
CANNOT_DELETE = "CannotDeleteEventTracker"
CANNOT_RELEASE = "CannotReleaseEventTracker"
CANNOT_WRITE_SECRET = "CannotWriteSecret"


class Step(StrEnum):
    """What the reconciler does next; one remote step per pass."""

    CREATE = "Create"
    WAIT = "Wait"
    SYNC = "Sync"  # tracker ACTIVE: tags and Secret brought in line
    REPORT_FAILED = "ReportFailed"
    DELETE_FAILED = "DeleteFailed"  # retry of a CREATE FAILED tracker: delete it first
    CONFLICT = "Conflict"
    ADOPT = "Adopt"
    PAUSE = "Pause"  # nothing remote, nothing written but status
    DELETE = "Delete"
    RELEASE = "Release"  # drop the finalizer
    RELEASE_RETAINED = "ReleaseRetained"  # drop our ownership tags (best effort), then the finalizer


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
    paused: bool = False
    retry_token: str = ""  # value of the retry annotation, "" when absent
    refresh_token: str = ""  # value of the refresh annotation, "" when absent
    cluster: str = ""  # this cluster's identity (kube/cluster.py); "" only where none is known (unit tests)
    take_over_from: str = ""  # the take-over annotation: the cluster whose tracker this resource may take
    secret_keys: tuple[str, str] = (TRACKING_ID_KEY, TRACKER_ARN_KEY)  # spec.secretKeys: trackingId's, the ARN's
    secret_labels: Mapping[str, str] = field(default_factory=dict)
    secret_annotations: Mapping[str, str] = field(default_factory=dict)
    config_map_name: str = ""  # spec.configMapName, "" for none
    restart_targets: tuple[tuple[str, str], ...] = ()  # spec.rolloutRestartTargets as (kind, name)

    @property
    def ownership_tags(self) -> dict[str, str]:
        tags = {UID_TAG: self.uid, NAMESPACE_TAG: self.namespace, NAME_TAG: self.name}
        return {**tags, CLUSTER_TAG: self.cluster} if self.cluster else tags

    @property
    def remote_tags(self) -> dict[str, str]:
        """Tags the remote tracker should carry: the user's plus ours."""
        return {**self.tags, **self.ownership_tags}


@dataclass(frozen=True)
class Recorded:
    """What our own earlier passes wrote into status."""

    arn: str = ""
    phase: str = ""
    reason: str = ""  # the Ready condition's reason
    observed_generation: int | None = None
    retry_token: str = ""
    refresh_token: str = ""  # status.refreshHandled: the refresh annotation value last acted on
    secret_name: str = ""
    create_requested: bool = False  # written before CreateEventTracker is called
    owner_cluster: str = ""  # status.ownerCluster: the cluster that owns the tracker
    config_map_name: str = ""  # status.configMapName: the ConfigMap last written
    pending_restarts: tuple[tuple[str, str], ...] = ()  # status.pendingRestarts


@dataclass(frozen=True)
class Observation:
    """The remote side as seen in this pass."""

    tracker: RemoteTracker | None = None  # ours: by the ARN in status, or by our uid tag
    foreign: RemoteTracker | None = None  # another tracker holding the dataset group
    foreign_owner: str = ""  # "namespace/name" of a live EventTracker that owns `foreign`
    other_cluster: RemoteTracker | None = None  # the dataset group's tracker, tagged by another cluster
    lost: bool = False  # status had an ARN that AWS no longer knows


@dataclass(frozen=True)
class Decision:
    step: Step
    phase: Phase
    reason: str
    message: str
    requeue: float | None = None  # seconds until the next pass; None: settled (next look at resync)
    warning: bool = False  # entering this state is worth a Warning Event
    synced: bool = True  # False: the pass failed or did not run (paused); reason and message say why
    forget_arn: bool = False  # the recorded tracker is known gone (or not ours): clear it from status
    owner_cluster: str = ""  # another cluster that owns the tracker (shown in status.ownerCluster)
    # Active passes: workloads whose restart is still owed ((kind, name), status.pendingRestarts); None: unchanged.
    pending_restarts: tuple[tuple[str, str], ...] | None = None

    @property
    def stalled(self) -> bool:
        """A person must act before anything changes (kstatus Stalled)."""
        return is_stalled(self.phase, self.reason)


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


class Ownership(StrEnum):
    """Whose a tracker is, from its tags."""

    OURS = "Ours"
    OTHER_CLUSTER = "OtherCluster"  # tagged by another cluster: never tagged, untagged, deleted or adopted
    FOREIGN = "Foreign"  # another resource's (or nobody's) in this cluster


def ownership(tracker: RemoteTracker, desired: Desired) -> Ownership:
    """Ownership is cluster + namespace + name; trackers made before cluster tags are ours by uid.

    So a resource restored or re-applied under the same namespace/name in the same cluster (a new uid,
    no status) is given its tracker back, and a copy of the manifest in another cluster never is.
    """
    cluster = tracker.tags.get(CLUSTER_TAG, "")
    if cluster and desired.cluster:
        if cluster != desired.cluster:
            return Ownership.OTHER_CLUSTER
        here = (tracker.tags.get(NAMESPACE_TAG), tracker.tags.get(NAME_TAG)) == (desired.namespace, desired.name)
        return Ownership.OURS if here else Ownership.FOREIGN
    return Ownership.OURS if tracker.tags.get(UID_TAG) == desired.uid else Ownership.FOREIGN


def owner_of(tracker: RemoteTracker) -> tuple[str, str, str] | None:
    """(uid, namespace, name) from a tracker's ownership tags, if it carries them."""
    uid = tracker.tags.get(UID_TAG)
    if not uid:
        return None
    return uid, tracker.tags.get(NAMESPACE_TAG, ""), tracker.tags.get(NAME_TAG, "")


def wants_retry(desired: Desired, recorded: Recorded) -> bool:
    """A CREATE FAILED tracker is retried after a spec change or a new retry annotation."""
    spec_changed = recorded.observed_generation is not None and recorded.observed_generation < desired.generation
    asked = bool(desired.retry_token) and desired.retry_token != recorded.retry_token
    return spec_changed or asked


def wants_refresh(desired: Desired, recorded: Recorded) -> bool:
    """A new refresh annotation value: this pass reads AWS itself, never a status-board list nor a resume.

    Paused wins (no AWS call); the refresh is then acted on at the first pass after the resume.
    """
    return bool(desired.refresh_token) and desired.refresh_token != recorded.refresh_token and not desired.paused


def tag_changes(current: Mapping[str, str], desired: Desired) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove); keys under our prefix or AWS's `aws:` are never removed."""
    wanted = desired.remote_tags
    to_set = {k: v for k, v in wanted.items() if current.get(k) != v}
    to_remove = sorted(
        k for k in current if k not in wanted and not k.startswith((RESERVED_TAG_PREFIX, AWS_TAG_PREFIX))
    )
    return to_set, to_remove


def current_phase(recorded: Recorded) -> Phase:
    return Phase(recorded.phase) if recorded.phase in Phase.__members__.values() else Phase.PENDING


def looks_first(desired: Desired, recorded: Recorded, *, name_listed: Callable[[], bool]) -> bool:
    """Look in AWS before acting? Always with a recorded ARN, a requested create, adopt or take-over.

    A resource that never asked for a tracker looks only when the region's list shows a tracker with
    its name (`name_listed`, asked last: it may cost a list): a restore or re-apply (new uid, no status)
    then finds its tracker instead of trying to create a second one.
    """
    asked = recorded.arn or recorded.create_requested or desired.adopt or desired.take_over_from
    return bool(asked) or name_listed()


def decide_paused(recorded: Recorded) -> Decision:
    """Paused: no AWS call and no Secret write; the phase stays what it was."""
    return Decision(
        Step.PAUSE,
        current_phase(recorded),
        "Paused",
        f'reconciliation paused by the annotation {PAUSED_ANNOTATION}: "true"; remove it to resume',
        synced=False,
    )


def decide_other_cluster(desired: Desired, tracker: RemoteTracker) -> Decision:
    """A tracker another cluster owns: taken only when the take-over annotation names exactly that cluster."""
    other = tracker.tags.get(CLUSTER_TAG, "")
    if desired.take_over_from and desired.take_over_from == other:
        return Decision(
            Step.ADOPT,
            Phase.CREATING,
            "TakingOver",
            f"taking over event tracker {tracker.name} ({tracker.arn}) from cluster {other} as asked by "
            f"{TAKE_OVER_ANNOTATION}",
            requeue=1.0,
        )
    place = f"{tracker.tags.get(NAMESPACE_TAG, '?')}/{tracker.tags.get(NAME_TAG, '?')}"
    return Decision(
        Step.CONFLICT,
        Phase.FAILED,
        "OwnedByOtherCluster",
        f"event tracker {tracker.name} ({tracker.arn}) belongs to EventTracker {place} of cluster {other}; "
        f"this cluster ({desired.cluster}) never changes or deletes it. To move it here, set the annotation "
        f'{TAKE_OVER_ANNOTATION}: "{other}". Looking again every {CONFLICT_RECHECK_SECONDS:.0f}s',
        requeue=CONFLICT_RECHECK_SECONDS,
        warning=True,
        forget_arn=True,
        owner_cluster=other,
    )


def decide_tags_read(desired: Desired, tracker: RemoteTracker, tags: Mapping[str, str]) -> Decision | None:
    """Before changing anything on a tracker found by its ARN: another cluster's is left alone (a migration)."""
    known = RemoteTracker(arn=tracker.arn, name=tracker.name, status=tracker.status, dataset_group_arn="", tags=tags)
    if ownership(known, desired) == Ownership.OTHER_CLUSTER:
        return decide_other_cluster(replace(desired, take_over_from=""), known)
    return None


def _decide_without_tracker(desired: Desired, recorded: Recorded, observed: Observation) -> Decision:
    if observed.other_cluster is not None:
        return decide_other_cluster(desired, observed.other_cluster)
    foreign = observed.foreign
    if foreign is not None:
        if observed.foreign_owner:
            return Decision(
                Step.CONFLICT,
                Phase.FAILED,
                "Conflict",
                f"dataset group {desired.dataset_group_arn} already has event tracker {foreign.name} "
                f"({foreign.arn}), owned by EventTracker {observed.foreign_owner}; it cannot be adopted while "
                f"that resource exists. Looking again every {CONFLICT_RECHECK_SECONDS:.0f}s",
                requeue=CONFLICT_RECHECK_SECONDS,
                warning=True,
                forget_arn=True,
            )
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
            warning=True,
            forget_arn=True,
        )
    if observed.lost:
        return Decision(
            Step.CREATE,
            Phase.CREATING,
            "RemoteMissing",
            f"event tracker {recorded.arn} no longer exists in AWS; creating it again",
            requeue=1.0,
            warning=True,
        )
    return Decision(
        Step.CREATE, Phase.CREATING, "Creating", f"creating event tracker {desired.tracker_name}", requeue=1.0
    )


def decide(desired: Desired, recorded: Recorded, observed: Observation, *, retry: int = 0) -> Decision:
    """The next step while the resource exists (not being deleted)."""
    tracker = observed.tracker
    if tracker is None:
        return _decide_without_tracker(desired, recorded, observed)
    delay = backoff(retry)
    if tracker.status in CREATING_STATES:
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
                forget_arn=True,
            )
        return Decision(
            Step.REPORT_FAILED,
            Phase.FAILED,
            "CreateFailed",
            f"event tracker {tracker.name} is CREATE FAILED{detail}. It still holds the dataset group; change the "
            f"spec or set the annotation {RETRY_ANNOTATION} to a new value to delete it and try again",
            warning=True,
        )
    if tracker.status in DELETING_STATES:
        return Decision(
            Step.WAIT,
            Phase.CREATING,
            "RemoteDeleting",
            f"event tracker {tracker.name} is {tracker.status} outside this resource's control; "
            f"it will be created again once gone (checking in {delay:.0f}s)",
            requeue=delay,
            warning=True,
        )
    return Decision(
        Step.WAIT,
        Phase.CREATING,
        "UnknownStatus",
        f"event tracker {tracker.name} reports status {tracker.status!r}; checking again in {delay:.0f}s",
        requeue=delay,
    )


def decide_release(desired: Desired, recorded: Recorded) -> Decision | None:
    """Deletions that need no look at AWS at all (so no AWS outage can hold them), else None."""
    if desired.retain:
        where = f" {recorded.arn}" if recorded.arn else ""
        return Decision(
            Step.RELEASE_RETAINED,
            Phase.DELETING,
            "Retained",
            f"deletionPolicy is Retain: event tracker{where} left in AWS and released (ownership tags removed)",
        )
    if not recorded.arn and not recorded.create_requested:
        return Decision(
            Step.RELEASE, Phase.DELETING, "NeverCreated", "no event tracker was ever requested for this resource"
        )
    return None


def decide_deletion(desired: Desired, observed: Observation, *, retry: int = 0) -> Decision:
    """The next step once the resource is being deleted; ends with RELEASE, never stuck on a gone tracker."""
    tracker = observed.tracker
    if desired.retain:
        return Decision(
            Step.RELEASE_RETAINED, Phase.DELETING, "Retained", "deletionPolicy is Retain: event tracker left in AWS"
        )
    if tracker is None:
        return Decision(Step.RELEASE, Phase.DELETING, "Deleted", "event tracker is gone from AWS")
    if ownership(tracker, desired) == Ownership.OTHER_CLUSTER and tracker.tags:
        other = tracker.tags.get(CLUSTER_TAG, "")
        return Decision(
            Step.RELEASE,
            Phase.DELETING,
            "OwnedByOtherCluster",
            f"event tracker {tracker.name} belongs to cluster {other}: left in AWS",
            owner_cluster=other,
        )
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


def _error_phase(recorded: Recorded, deleting: bool) -> Phase:
    """Transient and access errors keep a working tracker Active; before that the resource is Pending."""
    if deleting:
        return Phase.DELETING
    current = current_phase(recorded)
    return current if current in {Phase.ACTIVE, Phase.CREATING} else Phase.PENDING


def decide_error(
    error: AwsError, desired: Desired, recorded: Recorded, *, retry: int = 0, deleting: bool = False
) -> Decision:
    """Where an AWS error leaves the resource: retried with backoff, or waiting for a person."""
    reason = reason_for(error)
    what = f"{error.operation} failed with {error.code}"
    detail = f": {error.message}" if error.message else ""
    if isinstance(error, Throttled):
        delay = backoff(retry, first=2.0, cap=RETRYABLE_MAX_DELAY)
        return Decision(
            Step.WAIT,
            _error_phase(recorded, deleting),
            reason,
            f"{what} (AWS asks to slow down){detail}; retrying in {delay:.0f}s",
            requeue=delay,
            synced=False,
        )
    if isinstance(error, Retryable):
        delay = backoff(retry, cap=RETRYABLE_MAX_DELAY)
        return Decision(
            Step.WAIT,
            _error_phase(recorded, deleting),
            reason,
            f"{what}{detail}; retrying in {delay:.0f}s",
            requeue=delay,
            synced=False,
        )
    if isinstance(error, AccessDenied):
        delay = backoff(retry, first=5.0, cap=REFUSED_MAX_DELAY)
        return Decision(
            Step.WAIT,
            _error_phase(recorded, deleting),
            reason,
            f"{what}{detail}: the operator's AWS identity is missing, expired or not allowed; "
            f"fix its credentials or IAM policy (docs/iam.md). Retrying in {delay:.0f}s",
            requeue=delay,
            warning=True,
            synced=False,
        )
    if isinstance(error, InUse):
        delay = backoff(retry)
        return Decision(
            Step.WAIT,
            _error_phase(recorded, deleting),
            reason,
            f"{error.operation}: tracker is in use{detail}; retrying in {delay:.0f}s",
            requeue=delay,
            synced=False,
        )
    if isinstance(error, NotFound) and not deleting:
        delay = backoff(retry, first=5.0, cap=REFUSED_MAX_DELAY)
        return Decision(
            Step.WAIT,
            Phase.PENDING,
            "DatasetGroupNotFound",
            f"dataset group {desired.dataset_group_arn} was not found{detail}; retrying in {delay:.0f}s",
            requeue=delay,
            warning=True,
            synced=False,
        )
    if isinstance(error, AlreadyExists) and not deleting:
        return Decision(
            Step.CONFLICT,
            Phase.FAILED,
            "NameConflict",
            f"an event tracker named {desired.tracker_name} already exists in this account and region"
            f"{detail}; choose another spec.name. Looking again every {CONFLICT_RECHECK_SECONDS:.0f}s",
            requeue=CONFLICT_RECHECK_SECONDS,
            warning=True,
            synced=False,
        )
    if isinstance(error, InvalidInput | TooManyTags) and not deleting:
        # Settled until the spec changes; still looked at again at every resync.
        return Decision(
            Step.REPORT_FAILED,
            Phase.FAILED,
            reason,
            f"AWS refused the spec: {what}{detail}",
            warning=True,
            synced=False,
        )
    delay = backoff(retry, first=5.0, cap=REFUSED_MAX_DELAY)
    return Decision(
        Step.WAIT,
        _error_phase(recorded, deleting),
        reason,
        f"{what}{detail}; retrying in {delay:.0f}s",
        requeue=delay,
        warning=True,
        synced=False,
    )


def _secret_problem(phase: Phase, reason: str, message: str) -> Decision:
    return Decision(Step.WAIT, phase, reason, message, requeue=SECRET_RETRY_SECONDS, warning=True, synced=False)


def decide_secret_conflict(problem: str) -> Decision:
    """The Secret name belongs to someone else: never overwritten; the user picks another name."""
    return _secret_problem(Phase.FAILED, "SecretConflict", f"{problem}; set spec.secretName")


def decide_config_map_conflict(problem: str) -> Decision:
    """The ConfigMap name belongs to someone else: never overwritten; the user picks another name."""
    return _secret_problem(Phase.FAILED, "ConfigMapConflict", f"{problem}; set spec.configMapName")


def decide_secret_not_written(problem: str) -> Decision:
    """Kubernetes refused or failed the Secret write: pods cannot start without it, so not Ready."""
    return _secret_problem(Phase.PENDING, "SecretNotWritten", problem)


def decide_invalid_spec(problem: str) -> Decision:
    """A spec the CRD should have refused (a CRD change can leave one behind): explained, looked at at resync."""
    return Decision(
        Step.REPORT_FAILED, Phase.FAILED, "InvalidSpec", f"invalid spec: {problem}", warning=True, synced=False
    )


def decide_forbidden(rule: str) -> Decision:
    """The tenancy map refuses this resource: no AWS call at all; looked at again at resync and on a map change."""
    return Decision(
        Step.REPORT_FAILED,
        Phase.FAILED,
        "Forbidden",
        f"{rule}; ask the platform team to add it (docs/iam.md)",
        warning=True,
        synced=False,
    )


def settled_active(desired: Desired, recorded: Recorded) -> bool:
    """Status says Active for the current spec, nothing asked of us (pure)."""
    return (
        recorded.phase == Phase.ACTIVE
        and recorded.reason == "Active"
        and bool(recorded.arn)
        and recorded.observed_generation == desired.generation
        and recorded.secret_name == desired.secret_name
        and recorded.config_map_name == desired.config_map_name
        and not recorded.pending_restarts
        and not desired.paused
        and desired.retry_token == recorded.retry_token
        and not wants_refresh(desired, recorded)
        and recorded.owner_cluster == desired.cluster  # a status from before cluster tags gets one full pass
    )


def decide_resumed(desired: Desired) -> Decision:
    """A first pass after start-up that found everything in line (reconciler/resume.py): Active, nothing to do."""
    return Decision(
        Step.SYNC,
        Phase.ACTIVE,
        "Active",
        f"event tracker {desired.tracker_name} is ACTIVE (region's tracker list) and Secret"
        f" {desired.secret_name} is intact; tags are compared at the next resync",
    )


def transition_event(recorded: Recorded, decision: Decision) -> Event | None:
    """One Event when the phase or Ready reason changes; none while a state lasts."""
    if recorded.phase == decision.phase and recorded.reason == decision.reason:
        return None
    kind = "Warning" if decision.warning else "Normal"
    return Event(kind, decision.reason, decision.message)


def expects_new_secret(recorded: Recorded, secret_name: str) -> bool:
    """Whether the Secret is most likely absent, so it is created without a read first (one request, not two).

    Status names no Secret (none was ever written: a new resource, or one restored without status) or
    another one (spec.secretName changed). A wrong guess costs one refused create, then the usual read.
    """
    return recorded.secret_name != secret_name


# What a transition Event already implies (creating means a create was sent; Active means the Secret holds the
# trackingId): said in its message instead of an Event of their own, so a new resource costs two Events, not four.
FOLDED_INTO_TRANSITION = frozenset({"CreatedEventTracker", "SecretWritten"})


def pass_events(transition: Event | None, actions: list[Event]) -> list[Event]:
    """A pass's Events: the transition Event first, carrying the messages of the Normal actions it implies.

    Those actions get an Event of their own only when the pass changes no phase or reason (a Secret rewritten
    after damage) or its transition is a Warning; every other action and every Warning keeps its own Event.
    """
    if transition is None or transition.type != "Normal":
        return ([transition] if transition else []) + actions
    folded = [a for a in actions if a.type == "Normal" and a.reason in FOLDED_INTO_TRANSITION]
    message = "; ".join([transition.message, *(a.message for a in folded)])
    return [Event(transition.type, transition.reason, message)] + [a for a in actions if a not in folded]


_FAILURE_REASONS = {
    Step.CREATE: CANNOT_CREATE,
    Step.DELETE: CANNOT_DELETE,
    Step.DELETE_FAILED: CANNOT_DELETE,
    Step.SYNC: CANNOT_UPDATE,
    Step.ADOPT: CANNOT_UPDATE,
    Step.RELEASE_RETAINED: CANNOT_RELEASE,
}


def failure_event(step: Step | None, error: AwsError) -> Event:
    """The Warning Event for a failed AWS call, with a constant reason per external action."""
    reason = _FAILURE_REASONS.get(step or Step.WAIT, CANNOT_OBSERVE)
    return Event("Warning", reason, f"{error.operation} failed: {error.code}: {error.message}")
