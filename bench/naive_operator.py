"""The burst benchmark's comparator: the operator anyone would write first, with kopf, polling every 10 s.

On creation it calls CreateEventTracker (boto3, default retries) and keeps the ARN in an annotation; a
kopf timer per resource describes the tracker every 10 s and, once it is ACTIVE, writes the Secret (same
label as ours, so the benchmark's watch sees it) and stops polling. No call budget, no status, no
finalizer, no deletion: only the path a burst takes. Run by bench/operator.py as

    kopf run bench/naive_operator.py --standalone --namespace NS --liveness http://127.0.0.1:PORT/healthz
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import boto3
import kopf
from kubernetes import client, config
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL = "personalize.operators.dev", "v1alpha1", "eventtrackers"
OWNER_LABEL = "personalize.operators.dev/event-tracker"
ARN_ANNOTATION = "bench.personalize.operators.dev/arn"
POLL_SECONDS = 10.0


@kopf.on.startup()
def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.posting.level = logging.WARNING
    settings.execution.max_workers = 20
    config.load_config()
    memo.personalize = boto3.client("personalize")
    memo.core = client.CoreV1Api()
    memo.done = set()


@kopf.on.create(GROUP, VERSION, PLURAL)
def create(spec: kopf.Spec, memo: kopf.Memo, patch: kopf.Patch, **_: Any) -> None:
    answer = memo.personalize.create_event_tracker(name=spec["name"], datasetGroupArn=spec["datasetGroupArn"])
    patch.metadata.annotations[ARN_ANNOTATION] = answer["eventTrackerArn"]


@kopf.timer(GROUP, VERSION, PLURAL, interval=POLL_SECONDS, initial_delay=POLL_SECONDS)
def poll(name: str, namespace: str, uid: str, annotations: kopf.Annotations, memo: kopf.Memo, **_: Any) -> None:
    arn = annotations.get(ARN_ANNOTATION)
    if not arn or uid in memo.done:
        return
    tracker = memo.personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]
    if tracker["status"] != "ACTIVE":
        return
    secret = client.V1Secret(
        metadata=client.V1ObjectMeta(name=f"{name}-tracking", labels={OWNER_LABEL: name}),
        data={"trackingId": base64.b64encode(tracker["trackingId"].encode()).decode()},
    )
    try:
        memo.core.create_namespaced_secret(namespace, secret)
    except ApiException as error:
        if error.status != 409:
            raise
    memo.done.add(uid)
