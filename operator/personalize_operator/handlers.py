"""kopf wiring only: settings at start-up, the event handler that feeds the scheduler, the delete handler.

Every live resource kopf sees is tracked by the work queue (runtime/workqueue.py),
which runs a pass (passes.live_pass) and runs the next one at the pass's own
requeue, the resync timer, or a wake-up (its spec or annotations changed,
its Secret was deleted or edited), whichever comes first. So the same
reconcile runs for every entry point, and nothing is left unlooked-at once
it is Active or Failed. Deletion is kopf's delete handler (with the
finalizer), serialised with any pass still running by the resource's gate.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from personalize_operator.api import names
from personalize_operator.aws.client import ClientPool
from personalize_operator.aws.ratelimit import BudgetWait
from personalize_operator.aws.statusboard import Boards
from personalize_operator.aws.tenancy import TenancyError, TenancySource
from personalize_operator.kube import crd_check as crd_check  # registers its start-up check of the served CRD
from personalize_operator.kube import rbac_guard as rbac_guard  # registers its kopf handlers (namespaced installs
from personalize_operator.kube import session
from personalize_operator.kube.cluster import ClusterIdentityError, cluster_identity
from personalize_operator.kube.configmapsapi import ConfigMapsApi
from personalize_operator.kube.objects import TrackerObjects
from personalize_operator.kube.secretsapi import SecretsApi
from personalize_operator.kube.secretwatch import SecretWatch
from personalize_operator.kube.workloads import Workloads
from personalize_operator.reconciler import inputs, passes, resume
from personalize_operator.reconciler.requeue import (
    ERROR_PAUSE_SECONDS,
    STEP_SHOWN_AFTER_SECONDS,
    finalizer_wait,
    first_pass_wait,
    next_delay,
)
from personalize_operator.runtime import leader, metrics
from personalize_operator.runtime.locks import Gates
from personalize_operator.runtime.logfilter import REQUEUE_PREFIX, EventHandlersAreQuiet, RequeueIsNotAnError
from personalize_operator.runtime.resourcemetrics import TRACKED
from personalize_operator.runtime.settings import OperatorSettings
from personalize_operator.runtime.workqueue import Entry, Scheduler

RESOURCE = (names.GROUP, names.VERSION, names.PLURAL)
EVENT_WORKER_IDLE_SECONDS = 0.2  # a kopf worker leaves this soon after its object's last event
LIST_CHUNK = 100  # objects per page when kopf lists EventTrackers
_JITTER = random.Random()  # one for all resources (passes end in the event loop's thread), not 2.5 KB each
log = logging.getLogger(__name__)


class UnwrittenDiffBase(kopf.StatusDiffBaseStorage):
    """kopf's last-handled configuration, read but never written.

    kopf keeps it for create/update handlers, and the operator has none (notice_changes compares its own
    fingerprints): writing it cost two status PATCHes per new resource (at creation, and again when the pass
    annotates the ARN), a fifth of the API server requests of a burst (docs/performance.md).
    """

    def store(self, **_: Any) -> None:
        return None


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Apply our settings to kopf and build the shared clients once."""
    ours: OperatorSettings = memo.get("settings") or OperatorSettings()
    settings.persistence.finalizer = names.FINALIZER
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = UnwrittenDiffBase(field="status.kopf.lastHandledConfiguration")
    settings.posting.reporting_component = "personalize-operator"
    settings.posting.loggers = False  # Events are posted explicitly, never from log lines
    settings.execution.max_workers = ours.max_workers
    bound_event_processing(settings)
    settings.watching.server_timeout = ours.watch_server_timeout
    settings.watching.client_timeout = ours.watch_server_timeout + 30
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.scanning.disabled = not ours.scanning  # no CRD/namespace watches: no cluster-scoped reads
    logging.getLogger("kopf.objects").addFilter(RequeueIsNotAnError())
    logging.getLogger("kopf.objects").addFilter(EventHandlersAreQuiet())
    config.load_config()
    api = _api_client(ours.max_workers)
    core = SecretsApi(api)
    try:
        cluster, source = cluster_identity(api, ours.cluster_id)
    except ClusterIdentityError as error:
        raise kopf.PermanentError(f"cannot start without this cluster's identity: {error}") from error
    logger.info(f"cluster identity {cluster} (from {source}): the tag {names.CLUSTER_TAG} of this cluster's trackers")
    pool = ClientPool(
        max_attempts=ours.aws_max_attempts,
        connect_timeout=ours.aws_connect_timeout,
        read_timeout=ours.aws_read_timeout,
        call_rate_ceiling=ours.aws_call_rate_ceiling,
        call_rate_floor=ours.aws_call_rate_floor,
        burst=ours.aws_call_burst,
        max_pool_connections=ours.max_workers,
    )
    boards = (
        Boards(
            lambda region, identity: lambda: pool.for_region(region, identity=identity).sightings(),
            _wake(memo),
            step=_wake(memo, urgent=False, after=STEP_SHOWN_AFTER_SECONDS),
            budget_for=lambda region, identity: pool.budget(region, identity).state,
        )
        if ours.status_board
        else None
    )
    edges = passes.Edges(
        settings=ours,
        pool=pool,
        core=core,
        objects=TrackerObjects(client.CustomObjectsApi(api)),
        scheduler=Scheduler(concurrency=ours.max_workers, on_forget=functools.partial(_forgotten, boards)),
        gates=Gates(),
        executor=ThreadPoolExecutor(max_workers=ours.max_workers, thread_name_prefix="pass"),
        boards=boards,
        cluster=cluster,
        config_maps=ConfigMapsApi(api),
        workloads=Workloads(api),
    )
    if ours.tenancy_file is not None:
        # A bad file at start-up stops the operator (no last good map yet); later, the last good map stays.
        source = TenancySource(ours.tenancy_file, lambda _: _tenancy_changed(edges, logger))
        try:
            edges.tenancy = source.start(ours.tenancy_poll_seconds)
        except TenancyError as error:
            raise kopf.PermanentError(f"cannot start without a valid tenancy map: {error}") from error
    memo["edges"] = edges
    if not ours.scanning:
        _require_served_resource()
    if ours.secret_watch:
        watch = SecretWatch(core, ours.namespaces, edges.scheduler.wake)
        watch.start()
        memo["secret_watch"] = watch
        # ConfigMaps (spec.configMapName) heal the same way; the same selector finds only ours.
        config_map_watch = SecretWatch(edges.config_maps, ours.namespaces, edges.scheduler.wake, kind="ConfigMap")
        config_map_watch.start()
        memo["config_map_watch"] = config_map_watch


@kopf.on.login(errors=kopf.ErrorsMode.IGNORED)  # as kopf's own login: no credentials stops the operator
async def login(
    memo: kopf.Memo, settings: kopf.OperatorSettings, logger: logging.Logger, **kwargs: Any
) -> kopf.AiohttpSession | None:
    """kopf's own login (in-cluster or kubeconfig), over a session whose connections are bounded.

    Runs again after an HTTP 401 (a rotated token), like kopf's. kube/session.py says why the bound.
    """
    ours: OperatorSettings = memo.get("settings") or OperatorSettings()
    info = await asyncio.to_thread(kopf.login_via_client, logger=logger, settings=settings, **kwargs)
    if info is None:
        return None
    limit = session.connection_limit(ours.namespaces, scanning=ours.scanning, requests=ours.max_workers)
    logger.info(f"API server connections: {'unbounded (namespace patterns)' if limit is None else f'at most {limit}'}")
    return session.bounded_session(info, limit)


def bound_event_processing(settings: kopf.OperatorSettings) -> None:
    """Keep what kopf holds small while many EventTrackers change at once (creating 1,000, a restart).

    By default kopf lists every object in one response and keeps each object's worker, with the
    object's latest body, for 5 s after its last event; Python keeps a heap's peak. Our handlers are
    quick (passes run in the scheduler), so a worker can leave soon. Not bounded: how many workers run
    at once (kopf's worker_limit). A worker sleeping on a deletion that waits for AWS keeps its slot,
    so a bound would let that many stuck deletions stop event processing for every other resource.
    """
    settings.queueing.idle_timeout = EVENT_WORKER_IDLE_SECONDS
    settings.watching.chunk_size = LIST_CHUNK


def _forgotten(boards: Boards | None, uid: str) -> None:
    """A resource the work queue let go: the status boards stop following it, its gauges go."""
    if boards is not None:
        boards.forget(uid)
    TRACKED.forget(uid)


def _tenancy_changed(edges: passes.Edges, logger: logging.Logger) -> None:
    """A new map may allow (or refuse) any resource: every resource runs a pass now, no restart needed."""
    logger.info(f"tenancy map changed: woke {edges.scheduler.wake_all()} resource(s)")


def _wake(memo: kopf.Memo, *, urgent: bool = True, after: float = 0.0) -> Any:
    """The scheduler's wake, for the boards built before the scheduler (from the board's thread)."""
    return lambda uid: (
        memo["edges"].scheduler.wake(uid, urgent=urgent, after=after, board=True) if "edges" in memo else False
    )


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    """Stop the scheduler and our own threads."""
    if "edges" in memo:
        await memo["edges"].scheduler.stop()
    if "edges" in memo and memo["edges"].tenancy is not None:
        memo["edges"].tenancy.stop()
    for watch in ("secret_watch", "config_map_watch"):
        if watch in memo:
            memo[watch].stop()
    edges: passes.Edges | None = memo.get("edges")
    if edges is not None and edges.boards is not None:
        edges.boards.stop()


def _api_client(max_workers: int) -> client.ApiClient:
    """A Kubernetes client whose pool holds a connection per pass thread plus the Secret watch (urllib3 keeps 4)."""
    configuration = client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = max_workers + 2
    return client.ApiClient(configuration)


def _require_served_resource() -> None:
    """Without scanning kopf would idle unnoticed if the CRD came later: fail start-up so the pod restarts."""
    try:
        served = client.CustomObjectsApi().get_api_resources(names.GROUP, names.VERSION, _request_timeout=30).resources
    except ApiException as error:
        if error.status != 404:
            raise
        served = []
    if not any(resource.name == names.PLURAL for resource in served):
        raise kopf.PermanentError(
            f"{names.PLURAL}.{names.GROUP}/{names.VERSION} is not served: install the CRD first"
            " (with scanning off it is only discovered at start-up)"
        )


def _explain(error: Exception) -> str:
    if isinstance(error, ApiException):
        return f"Kubernetes API answered {error.status} {error.reason}"
    return f"{type(error).__name__}: {error}"


def _post(result: passes.PassResult, namespace: str, name: str) -> None:
    for event in result.outcome.events:
        kopf.event(result.body, type=event.type, reason=event.reason, message=event.message)
    decision = result.outcome.decision
    log.info(f"{namespace}/{name}: {decision.phase} ({decision.reason}): {decision.message}")


async def _one_pass(edges: passes.Edges, memo: kopf.Memo, uid: str, entry: Entry) -> float | None:
    """Run one pass; the seconds until the next, None when the resource is gone or being deleted."""
    memo.get("leader", leader.NOT_ELECTED).ensure_leading()  # a leader resumed after its Lease lapsed exits
    namespace, name = entry.namespace, entry.name
    loop = asyncio.get_running_loop()
    budget, entry.budget = entry.budget, None
    try:
        result = await loop.run_in_executor(
            edges.executor,
            passes.live_pass,
            edges,
            namespace,
            name,
            uid,
            entry.attempts.count,
            entry.first,
            budget,
        )
    except BudgetWait as parked:  # its first AWS call found the budget empty: its turn comes, no worker held
        entry.budget = parked.budget
        return parked.seconds
    except passes.FinalizerMissing as waiting:  # kopf adds it in the same cycle that reports the resource
        log.debug(f"{namespace}/{name}: {waiting}")
        entry.finalizer_waits += 1
        entry.awaiting_finalizer = True  # the watch event that shows it wakes the resource
        return finalizer_wait(entry.finalizer_waits)
    except Exception as error:  # the API server went away, a bug: explain, wait, and try again
        log.warning(f"{namespace}/{name}: pass failed: {_explain(error)}; again in {ERROR_PAUSE_SECONDS:.0f}s")
        metrics.WORKQUEUE_RETRIES.labels(metrics.CONTROLLER, metrics.CONTROLLER).inc()
        return ERROR_PAUSE_SECONDS
    if result is None:
        return None  # gone or being deleted: the delete handler takes over
    _post(result, namespace, name)
    if not resume.waits_on_transition(result.outcome):
        entry.drop_board_wakes()
    decision = result.outcome.decision
    generation = (result.body.get("metadata") or {}).get("generation")
    entry.attempts.after(decision.phase, decision.reason, generation, decision.requeue is not None)
    delay = next_delay(decision.requeue, edges.settings.resync_seconds, _JITTER, first=entry.first)
    entry.first = False
    return delay


@kopf.on.event(*RESOURCE)
async def notice_changes(type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Every resource kopf sees is tracked; a spec or annotation change runs its pass at once.

    Our own status writes change no fingerprint, so they wake nothing. Once the resource is
    being deleted the delete handler owns it, and the scheduler lets it go.
    """
    edges: passes.Edges = memo["edges"]
    scheduler = edges.scheduler
    if not scheduler.started:  # here, not at start-up: kopf.event needs the context kopf gives its handlers
        scheduler.start(functools.partial(_one_pass, edges, memo))
    uid = str(body.metadata.uid)
    if type == "DELETED" or body.metadata.get("deletionTimestamp"):
        scheduler.forget(uid)
        return
    finalized = inputs.has_finalizer(body)
    new = scheduler.track(
        uid, str(body.metadata.namespace), str(body.metadata.name), awaiting_finalizer=first_pass_wait(finalized)
    )
    if scheduler.changed(uid, inputs.wake_fingerprint(body)) and not new:
        scheduler.wake(uid)
    elif finalized:
        scheduler.finalizer_added(uid)


@kopf.on.delete(*RESOURCE, errors=kopf.ErrorsMode.TEMPORARY, backoff=5)
def delete_tracker(body: kopf.Body, retry: int, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Delete (or retain) the remote tracker; returning lets kopf drop the finalizer. Never a PermanentError."""
    edges: passes.Edges = memo["edges"]
    meta = body.metadata
    memo.get("leader", leader.NOT_ELECTED).ensure_leading()
    result = passes.deletion_pass(edges, str(meta.namespace), str(meta.name), str(meta.uid), retry)
    if result is None:
        return
    _post(result, str(meta.namespace), str(meta.name))
    if not result.outcome.release:
        decision = result.outcome.decision
        raise kopf.TemporaryError(f"{REQUEUE_PREFIX}{decision.message}", delay=decision.requeue or 5.0)
    edges.gates.forget(str(meta.uid))
