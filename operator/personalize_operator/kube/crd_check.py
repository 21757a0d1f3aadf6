"""At start-up: say so when the EventTracker CRD the API server serves is older than this operator.

Why: a CRD left behind by an older release prunes the fields it does not know
from every write, silently (Helm never upgrades a chart's crds/; a kept CRD
outlives its release). The stamp crd.py puts at the end of the schema's
description is published in the API server's OpenAPI v3 document, which every
authenticated identity may read: the check needs no permission on CRDs. It
only tells (a log line, a Warning Event on the CRD, the metric
personalize_operator_crd_outdated); it never stops the operator, whose own
fields the older schemas still hold.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from typing import Any

import kopf
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from personalize_operator.api import crd, crd_freshness, names
from personalize_operator.api.crd_freshness import Verdict
from personalize_operator.runtime import metrics

OPENAPI_PATH = f"/openapi/v3/apis/{names.GROUP}/{names.VERSION}"
REQUEST_TIMEOUT = (5.0, 30.0)
# Events about a cluster-scoped object live in "default" (the API server accepts no other namespace for them).
EVENT_NAMESPACE = "default"
EVENT_REASON = "CRDOutdated"

logger = logging.getLogger(__name__)


def served_description(api: client.ApiClient) -> str | None:
    """The description of the served EventTracker schema, from the OpenAPI v3 document of our API version."""
    request = api.param_serialize(
        method="GET",
        resource_path=OPENAPI_PATH,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = api.call_api(*request, _request_timeout=REQUEST_TIMEOUT)
    response.read()
    if not 200 <= response.status <= 299:
        raise ApiException(status=response.status, reason=response.reason)
    document = json.loads(response.data)
    wanted = {"group": names.GROUP, "version": names.VERSION, "kind": names.KIND}
    for schema in (document.get("components") or {}).get("schemas", {}).values():
        if wanted in (schema.get("x-kubernetes-group-version-kind") or []):
            return str(schema.get("description") or "")
    return None


def event(verdict: Verdict, now: datetime.datetime) -> dict[str, Any]:
    """A Warning Event on the CRD (core/v1, like kopf's), for `kubectl describe crd` and event exporters."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"generateName": f"{crd.CRD_NAME}.", "namespace": EVENT_NAMESPACE},
        "involvedObject": {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "name": crd.CRD_NAME,
        },
        "type": "Warning",
        "reason": EVENT_REASON,
        "message": verdict.message[:1024],
        "source": {"component": "personalize-operator", "host": os.environ.get("HOSTNAME", "")},
        "reportingComponent": "personalize-operator",
        "reportingInstance": os.environ.get("HOSTNAME", ""),
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def check(api: client.ApiClient) -> Verdict:
    """Read, judge, tell. The metric is 1 while the served CRD is older (or another schema), else 0."""
    verdict = crd_freshness.judge(crd_freshness.from_description(served_description(api)), crd.stamp(), crd.CRD_NAME)
    metrics.CRD_OUTDATED.set(1 if verdict.outdated else 0)
    if not verdict.outdated:
        logger.info(verdict.message)
        return verdict
    logger.warning(verdict.message)
    try:
        core = client.CoreV1Api(api)
        core.create_namespaced_event(
            EVENT_NAMESPACE, event(verdict, datetime.datetime.now(datetime.UTC)), _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as error:  # a namespaced install may not post Events in "default": the log and metric remain
        logger.info(f"no Event about the outdated CRD: the API server answered {error.status} {error.reason}")
    return verdict


@kopf.on.startup()
def check_served_crd(**_: Any) -> None:
    """Once per start; a failure to check is logged, never fatal."""
    try:
        config.load_config()
        check(client.ApiClient())
    except Exception as error:  # the operator runs without the check rather than not at all
        logger.warning(f"could not compare the served CRD with this operator's: {type(error).__name__}: {error}")
