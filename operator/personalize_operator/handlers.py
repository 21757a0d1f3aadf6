"""kopf wiring only: settings at start-up, one daemon per EventTracker, and the delete handler.

Every live resource has one daemon that runs a pass (runner.live_pass), then
sleeps until the pass's own requeue, the resync timer, or a wake-up (its
spec or annotations changed, its Secret was deleted or edited), whichever
comes first. So the same reconcile runs for every entry point, and nothing
is left unlooked-at once it is Active or Failed. Deletion is kopf's delete
handler (with the finalizer), serialised with the daemon by the resource's
gate.
"""

from __future__ import annotations

import asyncio
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import kopf
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from personalize_operator import leader, model, resource, runner
from personalize_operator import rbac_guard as rbac_guard  # registers its kopf handlers (namespaced installs)
from personalize_operator.aws import ClientPool
from personalize_operator.board import Boards
from personalize_operator.kube import TrackerObjects
from personalize_operator.logfilter import REQUEUE_PREFIX, RequeueIsNotAnError
from personalize_operator.pacing import Attempts, next_delay
from personalize_operator.resource import FINALIZER
from personalize_operator.secretwatch import SecretWatch
from personalize_operator.settings import OperatorSettings
from personalize_operator.tenancy import TenancyError, TenancySource
from personalize_operator.wakeups import Gates, Wakers, sleep

RESOURCE = (model.GROUP, model.VERSION, model.PLURAL)
ERROR_PAUSE_SECONDS = 10.0  # after a pass that failed unexpectedly (for example the API server went away)
FINALIZER_WAIT_SECONDS = 1.0  # kopf adds the finalizer in the same cycle that starts the daemon
STOP_TIMEOUT_SECONDS = 60.0  # after kopf cancels a daemon; a cancelled sleep or pass wait ends at once
_JITTER = random.Random()  # one for all daemons (they run in the event loop's thread), not 2.5 KB each


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Apply our settings to kopf and build the shared clients once."""
    ours: OperatorSettings = memo.get("settings") or OperatorSettings()
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(field="status.kopf.lastHandledConfiguration")
    settings.posting.reporting_component = "personalize-operator"
    settings.posting.loggers = False  # Events are posted explicitly, never from log lines
    settings.execution.max_workers = ours.max_workers
    settings.watching.server_timeout = ours.watch_server_timeout
    settings.watching.client_timeout = ours.watch_server_timeout + 30
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.scanning.disabled = not ours.scanning  # no CRD/namespace watches: no cluster-scoped reads
    logging.getLogger("kopf.objects").addFilter(RequeueIsNotAnError())
    config.load_config()
    api = _api_client(ours.max_workers)
    core = client.CoreV1Api(api)
    pool = ClientPool(
        max_attempts=ours.aws_max_attempts,
        connect_timeout=ours.aws_connect_timeout,
        read_timeout=ours.aws_read_timeout,
        calls_per_second=ours.aws_calls_per_second,
        burst=ours.aws_call_burst,
        max_pool_connections=ours.max_workers,
    )
    wakers = Wakers()
    edges = runner.Edges(
        settings=ours,
        pool=pool,
        core=core,
        objects=TrackerObjects(client.CustomObjectsApi(api)),
        wakers=wakers,
        gates=Gates(),
        executor=ThreadPoolExecutor(max_workers=ours.max_workers, thread_name_prefix="pass"),
        boards=Boards(
            lambda region, identity: lambda: pool.for_region(region, identity=identity).sightings(), wakers.wake
        )
        if ours.status_board
        else None,
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
        watch = SecretWatch(core, ours.namespaces, edges.wakers.wake)
        watch.start()
        memo["secret_watch"] = watch


def _tenancy_changed(edges: runner.Edges, logger: logging.Logger) -> None:
    """A new map may allow (or refuse) any resource: every daemon runs a pass now, no restart needed."""
    logger.info(f"tenancy map changed: woke {edges.wakers.wake_all()} resource(s)")


@kopf.on.cleanup()
def stop(memo: kopf.Memo, **_: Any) -> None:
    """Stop our own threads; kopf stops the daemons."""
    if "edges" in memo and memo["edges"].tenancy is not None:
        memo["edges"].tenancy.stop()
    if "secret_watch" in memo:
        memo["secret_watch"].stop()
    edges: runner.Edges | None = memo.get("edges")
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
        served = client.CustomObjectsApi().get_api_resources(model.GROUP, model.VERSION, _request_timeout=30).resources
    except ApiException as error:
        if error.status != 404:
            raise
        served = []
    if not any(resource.name == model.PLURAL for resource in served):
        raise kopf.PermanentError(
            f"{model.PLURAL}.{model.GROUP}/{model.VERSION} is not served: install the CRD first"
            " (with scanning off it is only discovered at start-up)"
        )


def _explain(error: Exception) -> str:
    if isinstance(error, ApiException):
        return f"Kubernetes API answered {error.status} {error.reason}"
    return f"{type(error).__name__}: {error}"


def _post(result: runner.PassResult, logger: logging.Logger) -> None:
    for event in result.outcome.events:
        kopf.event(result.body, type=event.type, reason=event.reason, message=event.message)
    decision = result.outcome.decision
    logger.info(f"{decision.phase} ({decision.reason}): {decision.message}")


@dataclass
class _Daemon:
    """What one resource's daemon remembers between passes (kept small: there is one per resource)."""

    attempts: Attempts = field(default_factory=Attempts)
    first: bool = True
    finalizer_waits: int = 0


@kopf.daemon(*RESOURCE, cancellation_timeout=STOP_TIMEOUT_SECONDS)
async def keep_in_line(
    meta: kopf.Meta, stopped: kopf.DaemonStopped, memo: kopf.Memo, logger: logging.Logger, **_: Any
) -> None:
    """Reconcile, then sleep until the requeue, the resync or a wake-up; until the resource is deleted.

    kopf stops the daemon (resource deleted, operator exiting) by cancelling it: a pass already
    running in its thread still finishes, under the resource's gate.
    """
    edges: runner.Edges = memo["edges"]
    uid, namespace, name = str(meta["uid"]), str(meta["namespace"]), str(meta["name"])
    wake = edges.wakers.register(uid)
    daemon = _Daemon()
    try:
        while not stopped:
            delay = await _one_pass(edges, memo, namespace, name, uid, daemon, logger)
            if delay is None:
                return  # gone or being deleted: the delete handler takes over
            if await sleep(wake, delay):
                daemon.attempts.reset()
    except asyncio.CancelledError:
        return  # stopped by kopf: the normal way out, not a failure to report
    finally:
        edges.wakers.unregister(uid)
        if edges.boards is not None:
            edges.boards.forget(uid)


async def _one_pass(
    edges: runner.Edges, memo: kopf.Memo, namespace: str, name: str, uid: str, daemon: _Daemon, logger: logging.Logger
) -> float | None:
    """Run one pass; the seconds to sleep after it, None when the daemon should end.

    A function of its own so that the pass's body and outcome are freed before the sleep
    (1,000 sleeping daemons would otherwise each hold a copy of their object).
    """
    memo.get("leader", leader.NOT_ELECTED).ensure_leading()  # a leader resumed after its Lease lapsed exits
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(
            edges.executor, runner.live_pass, edges, namespace, name, uid, daemon.attempts.count, daemon.first
        )
    except runner.FinalizerMissing as waiting:
        logger.debug(str(waiting))
        daemon.finalizer_waits += 1
        return min(30.0, FINALIZER_WAIT_SECONDS * 2 ** (daemon.finalizer_waits - 1))
    except Exception as error:  # the API server went away, a bug: explain, wait, and try again
        logger.warning(f"pass failed: {_explain(error)}; again in {ERROR_PAUSE_SECONDS:.0f}s")
        return ERROR_PAUSE_SECONDS
    if result is None:
        return None
    _post(result, logger)
    decision = result.outcome.decision
    generation = (result.body.get("metadata") or {}).get("generation")
    daemon.attempts.after(decision.phase, decision.reason, generation, decision.requeue is not None)
    delay = next_delay(decision.requeue, edges.settings.resync_seconds, _JITTER, first=daemon.first)
    daemon.first = False
    return delay


@kopf.on.event(*RESOURCE)
async def notice_changes(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A spec or annotation change wakes the resource's daemon at once (our own status writes do not)."""
    edges: runner.Edges = memo["edges"]
    uid = str(body.metadata.uid)
    if edges.wakers.changed(uid, resource.wake_fingerprint(body)):
        edges.wakers.wake(uid)


@kopf.on.delete(*RESOURCE, errors=kopf.ErrorsMode.TEMPORARY, backoff=5)
def delete_tracker(body: kopf.Body, retry: int, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """Delete (or retain) the remote tracker; returning lets kopf drop the finalizer. Never a PermanentError."""
    edges: runner.Edges = memo["edges"]
    meta = body.metadata
    memo.get("leader", leader.NOT_ELECTED).ensure_leading()
    result = runner.deletion_pass(edges, str(meta.namespace), str(meta.name), str(meta.uid), retry)
    if result is None:
        return
    _post(result, logger)
    if not result.outcome.release:
        decision = result.outcome.decision
        raise kopf.TemporaryError(f"{REQUEUE_PREFIX}{decision.message}", delay=decision.requeue or 5.0)
    edges.gates.forget(str(meta.uid))
