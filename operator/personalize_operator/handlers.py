"""kopf wiring only: settings at start-up, and handlers that call the reconciler."""

from __future__ import annotations

import logging
from typing import Any

import kopf
import pydantic
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from personalize_operator import model, reconcile, resource
from personalize_operator.aws import ClientPool
from personalize_operator.logfilter import RequeueIsNotAnError
from personalize_operator.settings import OperatorSettings

FINALIZER = "personalize.operators.dev/finalizer"
RESOURCE = (model.GROUP, model.VERSION, model.PLURAL)


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
    memo["aws"] = ClientPool(
        max_attempts=ours.aws_max_attempts, connect_timeout=ours.aws_connect_timeout, read_timeout=ours.aws_read_timeout
    )
    config.load_config()
    memo["core"] = client.CoreV1Api()
    if not ours.scanning:
        _require_served_resource()


def _require_served_resource() -> None:
    """Without scanning kopf would idle unnoticed if the CRD came later: fail start-up so the pod restarts."""
    try:
        served = client.CustomObjectsApi().get_api_resources(model.GROUP, model.VERSION).resources
    except ApiException as error:
        if error.status != 404:
            raise
        served = []
    if not any(resource.name == model.PLURAL for resource in served):
        raise kopf.PermanentError(
            f"{model.PLURAL}.{model.GROUP}/{model.VERSION} is not served: install the CRD first"
            " (with scanning off it is only discovered at start-up)"
        )


def _context(body: kopf.Body, memo: kopf.Memo, retry: int) -> reconcile.Context:
    try:
        desired = resource.desired_from(body)
    except pydantic.ValidationError as error:
        raise kopf.PermanentError(f"invalid spec: {error.errors()[0].get('msg')}") from error
    return reconcile.Context(
        aws=memo["aws"].for_region(desired.region),
        core=memo["core"],
        desired=desired,
        recorded=resource.recorded_from(body),
        previous_conditions=resource.previous_conditions(body),
        retry=retry,
    )


def _publish(outcome: reconcile.Outcome, body: kopf.Body, patch: kopf.Patch, logger: logging.Logger) -> None:
    """Status into the patch, Events out, and the next pass scheduled by a kopf retry."""
    for key, value in outcome.status.items():
        patch.status[key] = value
    for event in outcome.events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)
    decision = outcome.decision
    logger.info(f"{decision.phase} ({decision.reason}): {decision.message}")
    if outcome.requeue is not None:
        raise kopf.TemporaryError(f"requeue: {decision.message}", delay=outcome.requeue)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
def reconcile_tracker(
    body: kopf.Body, patch: kopf.Patch, retry: int, memo: kopf.Memo, logger: logging.Logger, **_: Any
) -> None:
    """Bring the remote tracker, status and Secret in line with the resource."""
    _publish(reconcile.reconcile(_context(body, memo, retry)), body, patch, logger)


@kopf.on.delete(*RESOURCE)
def delete_tracker(
    body: kopf.Body, patch: kopf.Patch, retry: int, memo: kopf.Memo, logger: logging.Logger, **_: Any
) -> None:
    """Delete (or retain) the remote tracker; returning lets kopf drop the finalizer."""
    _publish(reconcile.finalize(_context(body, memo, retry)), body, patch, logger)
