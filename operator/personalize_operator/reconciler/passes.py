"""One pass for one resource, end to end: read it fresh, reconcile (or finalize), write its status.

Runs in a worker thread (every call here blocks on AWS or Kubernetes). The
work queue (runtime/workqueue.py) calls `live_pass` over and over; kopf's delete
handler calls `deletion_pass`. Both hold the resource's gate, so the two
never overlap for one resource.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pydantic

from personalize_operator.api import arns, names
from personalize_operator.aws import ratelimit, tenancy
from personalize_operator.aws.client import ClientPool, Identity, TrackerClient, session_name
from personalize_operator.aws.errors import AwsError
from personalize_operator.aws.statusboard import Boards, BoardTrackers
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.kube.configmaps import ConfigMapStore
from personalize_operator.kube.configmapsapi import ConfigMapsApi
from personalize_operator.kube.objects import TrackerObjects
from personalize_operator.kube.secrets import SecretStore
from personalize_operator.kube.secretsapi import SecretsApi
from personalize_operator.kube.workloads import Workloads
from personalize_operator.reconciler import inputs, reconcile, resume
from personalize_operator.reconciler.conditions import now_rfc3339
from personalize_operator.reconciler.decide import (
    Desired,
    Recorded,
    decide_forbidden,
    decide_invalid_spec,
    decide_resumed,
    wants_refresh,
)
from personalize_operator.reconciler.outcome import Outcome, conclude
from personalize_operator.reconciler.status import is_ready
from personalize_operator.runtime import metrics
from personalize_operator.runtime.locks import Gates
from personalize_operator.runtime.resourcemetrics import TRACKED, Seen
from personalize_operator.runtime.settings import OperatorSettings
from personalize_operator.runtime.workqueue import Scheduler

log = logging.getLogger(__name__)


@dataclass
class Edges:
    """Everything a pass needs from the outside world, built once at start-up."""

    settings: OperatorSettings
    pool: ClientPool
    core: SecretsApi
    objects: TrackerObjects
    scheduler: Scheduler
    gates: Gates
    executor: ThreadPoolExecutor
    tenancy: tenancy.TenancySource | None = None  # None: no tenancy file, the operator's own identity everywhere
    boards: Boards | None = None  # status boards (aws/statusboard.py); None: every waiting resource polls by itself
    started_at: float = field(default_factory=time.monotonic)  # resumes trust board lists made after this
    cluster: str = ""  # this cluster's identity (kube/cluster.py), in every tracker's cluster tag
    config_maps: ConfigMapsApi | None = None  # None: no ConfigMap is ever written (a spec asking gets an error)
    workloads: Workloads | None = None  # None: every rollout restart is forbidden


@dataclass
class PassResult:
    body: dict[str, Any]  # the object as read for this pass (Events are posted against it)
    outcome: Outcome


class FinalizerMissing(Exception):
    """kopf has not (yet) added our finalizer: no pass may act, or a tracker could outlive its resource."""


class Unreachable:
    """Trackers whose every call fails with the error met building the client (e.g. a region botocore refuses)."""

    def __init__(self, error: AwsError) -> None:
        self.error = error

    def __getattr__(self, _: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


def _trackers(
    pool: ClientPool, region: str, *, once: bool = False, identity: Identity | None = None
) -> TrackerClient | Unreachable:
    try:
        return pool.for_region(region, once=once, identity=identity)
    except AwsError as error:
        return Unreachable(error)


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    return body.get("metadata") or {}


def is_deleting(body: Mapping[str, Any]) -> bool:
    return bool(_meta(body).get("deletionTimestamp"))


def _identity(tenant: tenancy.Tenant | None, namespace: str) -> Identity | None:
    if tenant is None or not tenant.role_arn:
        return None
    return Identity(role_arn=tenant.role_arn, external_id=tenant.external_id, session_name=session_name(namespace))


def _context(
    edges: Edges, body: Mapping[str, Any], desired: Desired, retry: int, identity: Identity | None = None
) -> reconcile.Context:
    namespace, name = desired.namespace, desired.name
    aws: Any = _trackers(edges.pool, desired.region, identity=identity)
    fresh = wants_refresh(desired, inputs.recorded_from(body))  # a refresh reads AWS itself, not a board list
    if edges.boards is not None and isinstance(aws, TrackerClient) and not fresh:
        aws = BoardTrackers(aws, edges.boards.for_region(desired.region, identity), desired.dataset_group_arn)
    return reconcile.Context(
        aws=aws,  # type: ignore[arg-type]
        secrets=SecretStore(edges.core),
        owners=edges.objects,
        desired=desired,
        recorded=inputs.recorded_from(body),
        previous_conditions=inputs.previous_conditions(body),
        retry=retry,
        mark_create_requested=lambda: _patch(edges, namespace, name, {"createRequested": True}),
        secure_call=lambda: aws.secure_call(),
        aws_once=_trackers(edges.pool, desired.region, once=True, identity=identity),  # type: ignore[arg-type]
        config_maps=ConfigMapStore(edges.config_maps) if edges.config_maps else reconcile.NoConfigMaps(),
        workloads=edges.workloads or reconcile.NoWorkloads(),
    )


def _patch(edges: Edges, namespace: str, name: str, patch: dict[str, Any]) -> None:
    edges.objects.patch_status(namespace, name, patch)


def invalid_pass(body: Mapping[str, Any], error: pydantic.ValidationError) -> Outcome:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ()))
    decision = decide_invalid_spec(f"{where}: {problem.get('msg')}" if where else str(problem.get("msg")))
    return conclude(
        decision,
        desired=None,
        recorded=inputs.recorded_from(body),
        previous_conditions=inputs.previous_conditions(body),
        now=now_rfc3339(),
        generation=int(_meta(body).get("generation") or 0),
    )


def forbidden_pass(body: Mapping[str, Any], desired: Desired, refusal: tenancy.Refusal) -> Outcome:
    """Refused by the tenancy map: rendered without building any AWS client (0 AWS calls)."""
    return conclude(
        decide_forbidden(refusal.rule),
        desired=desired,
        recorded=inputs.recorded_from(body),
        previous_conditions=inputs.previous_conditions(body),
        now=now_rfc3339(),
    )


def resumed_pass(desired: Desired, recorded: Recorded) -> Outcome:
    """A first pass that found everything in line (resume.py): counted, nothing written, no Event."""
    return conclude(
        decide_resumed(desired),
        desired=desired,
        recorded=recorded,
        previous_conditions=(),
        now=now_rfc3339(),
        unchanged=True,
    )


def _recorded_role(body: Mapping[str, Any]) -> str:
    return str((body.get("status") or {}).get("roleArn") or "")


def _deletion_identity(edges: Edges, body: Mapping[str, Any], desired: Desired) -> Identity | None:
    """Deletion is never refused by tenancy (docs/design.md, section 10).

    A role of the tracker's account that the map still names (the account from
    the ARN in status, else from the dataset group ARN); else the role recorded
    in status.roleArn, the identity that created the tracker; else the
    operator's own identity.
    """
    recorded = inputs.recorded_from(body)
    if edges.tenancy is not None:
        account = arns.account_of(recorded.arn) or arns.account_of(desired.dataset_group_arn)
        tenant = tenancy.for_deletion(edges.tenancy.current, desired.namespace, account)
        if tenant is not None:
            return _identity(tenant, desired.namespace)
    role = _recorded_role(body)
    if not role:
        return None
    external_id = edges.tenancy.external_id(role) if edges.tenancy is not None else None
    return Identity(role_arn=role, external_id=external_id, session_name=session_name(desired.namespace))


def _seen(uid: str, namespace: str, name: str, outcome: Outcome) -> None:
    """The resource's phase, Ready reason and Ready in the per-resource gauges (runtime/resourcemetrics.py)."""
    decision = outcome.decision
    TRACKED.record(uid, Seen(namespace, name, str(decision.phase), decision.reason, is_ready(decision)))


_timed = metrics.RECONCILE_TIME.labels(metrics.CONTROLLER).time()  # the whole pass, reads and writes included


@_timed
def live_pass(
    edges: Edges,
    namespace: str,
    name: str,
    uid: str,
    retry: int,
    first: bool = False,
    budget: ratelimit.CallBudget | None = None,
) -> PassResult | None:
    """One reconcile pass; None when the resource is gone or being deleted (the scheduler lets it go).

    `first`: the resource's first pass in this process, where an unchanged Active resource is confirmed
    from the status board instead of AWS (resume.py). Raises BudgetWait when its first AWS call finds the
    call budget empty, before anything was written (aws/ratelimit.py): the work queue runs it again later.
    `budget`: the one its last run was sent back by; its token is taken before the read, so a pass sent back
    again costs no request to the API server.
    """
    with edges.gates.held(uid), ratelimit.parkable_pass():
        if budget is not None:
            budget.secure(returning=True)
        body = edges.objects.read(namespace, name)
        if body is None or is_deleting(body) or _meta(body).get("uid") != uid:
            return None
        if not inputs.has_finalizer(body):
            raise FinalizerMissing(f"waiting for the finalizer {names.FINALIZER} before acting")
        try:
            desired = inputs.desired_from(body, cluster=edges.cluster)
        except pydantic.ValidationError as error:
            outcome = invalid_pass(body, error)
        else:
            allowed = (
                tenancy.resolve(edges.tenancy.current, desired.namespace, desired.dataset_group_arn)
                if edges.tenancy is not None
                else None
            )
            if isinstance(allowed, tenancy.Refusal):
                outcome = forbidden_pass(body, desired, allowed)
            else:
                identity = _identity(allowed, desired.namespace)
                board = edges.boards.for_region(desired.region, identity) if edges.boards is not None else None
                recorded = inputs.recorded_from(body)
                if first and resume.resumes_unchanged(board, edges.core, desired, recorded, edges.started_at):
                    outcome = resumed_pass(desired, recorded)
                else:
                    passed = reconcile.reconcile(_context(edges, body, desired, retry, identity))
                    outcome = resume.follow_if_waiting(board, uid, passed)
                if edges.tenancy is not None and outcome.status.get("eventTrackerArn"):
                    # Recorded only when this identity saw or created the tracker: the one that can delete it.
                    outcome.status["roleArn"] = identity.role_arn if identity else None
        if outcome.status:
            edges.objects.patch_status(namespace, name, outcome.status)
        annotation = inputs.arn_annotation(body, outcome.status)
        if annotation is not None:
            edges.objects.annotate(namespace, name, annotation)
        _seen(uid, namespace, name, outcome)
        return PassResult(body=body, outcome=outcome)


@_timed
def deletion_pass(edges: Edges, namespace: str, name: str, uid: str, retry: int) -> PassResult | None:
    """One deletion step; None when the object is already gone. Never raises for a spec that does not parse."""
    with edges.gates.held(uid):
        body = edges.objects.read(namespace, name)
        if body is None or _meta(body).get("uid") != uid:
            TRACKED.forget(uid)
            return None
        try:
            desired = inputs.desired_from(body, cluster=edges.cluster)
        except pydantic.ValidationError:
            desired = inputs.desired_for_deletion(body, cluster=edges.cluster)
        identity = _deletion_identity(edges, body, desired)
        outcome = reconcile.finalize(_context(edges, body, desired, retry, identity))
        edges.objects.patch_status(namespace, name, outcome.status)
        if outcome.release:  # the finalizer goes next: nothing of this resource stays in the gauges
            TRACKED.forget(uid)
        else:
            _seen(uid, namespace, name, outcome)
        return PassResult(body=body, outcome=outcome)


__all__ = ["Edges", "FinalizerMissing", "PassResult", "RemoteTracker", "deletion_pass", "is_deleting", "live_pass"]
