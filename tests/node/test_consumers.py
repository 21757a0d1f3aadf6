"""Applications consuming the tracker on a real node (issue 27): envFrom with their own key names, the facts
ConfigMap, and the listed Deployment rolled when a recreated tracker brings a new trackingId.

The chart runs on the node with rbac.rolloutRestart=true and a 5 s resync. Application pods take both values
from the Secret as environment variables (envFrom; keys PERSONALIZE_TRACKING_ID, PERSONALIZE_EVENT_TRACKER_ARN),
send one PutEvents to the emulator and print sha256 hashes (never the values). Without the chart value
(forbidden, resource Active): tests/chart/test_chart_rollout_restart.py. The delays printed here are the
figures in docs/install.md ("Consuming the tracker from applications").
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from local_cluster import workloads
from personalize_emulator.testing import Emulator, aws_environment
from support.node_pods import IMAGE, NodeEnv
from support.solo import new_dataset_group
from support.trackers import Trackers, kubectl, manifest
from support.wait import stays, wait_for

KEYS = {"trackingId": "PERSONALIZE_TRACKING_ID", "eventTrackerArn": "PERSONALIZE_EVENT_TRACKER_ARN"}


@pytest.fixture(scope="module")
def release_values() -> dict[str, Any]:
    return {"rbac": {"rolloutRestart": True}}


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def deploy(kubeconfig: Path, namespace: str, name: str, secret: str, emulator_url: str) -> None:
    body = workloads.env_application(name, IMAGE, secret, aws_environment(emulator_url))
    kubectl(kubeconfig, "apply", "--namespace", namespace, "-f", "-", stdin=json.dumps(body))


def running_pods(core: client.CoreV1Api, namespace: str, app: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return [
        p
        for p in pods
        if not p.metadata.deletion_timestamp
        and p.status.container_statuses
        and p.status.container_statuses[0].state.running
    ]


def printed(kubeconfig: Path, namespace: str, pod: str) -> dict[str, Any] | None:
    logs = kubectl(kubeconfig, "logs", "--namespace", namespace, f"pod/{pod}", check=False).stdout
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    return lines[-1] if lines else None


def secret_values(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, str]:
    data = core.read_namespaced_secret(name, namespace).data or {}
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def events_received(emulator: Emulator, arn: str) -> int:
    tracker = emulator.admin.tracker(arn=arn)
    return int(tracker["eventsReceived"]) if tracker else 0


def test_env_consumers_get_their_keys_the_facts_config_map_and_the_listed_deployment_rolls_on_a_new_tracking_id(
    node_env: NodeEnv,
) -> None:
    release, node_cluster, node_core, node_api, node_emulator, node_namespace = node_env.parts()
    kubeconfig, ns = node_cluster.kubeconfig, node_namespace
    trackers = Trackers(client.CustomObjectsApi(node_api), node_core, ns)
    group = new_dataset_group(node_emulator, "node-env")
    targets = [{"kind": "Deployment", "name": "listed"}, {"kind": "Deployment", "name": "ghost"}]
    aws_name = f"env-{uuid.uuid4().hex[:6]}"
    trackers.create(
        manifest("env", group, name=aws_name, secretKeys=KEYS, configMapName="env-facts", rolloutRestartTargets=targets)
    )
    status = trackers.wait_phase("env", "Active", timeout=90)
    first = status["eventTrackerArn"]
    values = secret_values(node_core, ns, "env-tracking")
    assert set(values) == set(KEYS.values())
    old_id = values["PERSONALIZE_TRACKING_ID"]

    # 2. The ConfigMap: the five facts, never the trackingId.
    facts = node_core.read_namespaced_config_map("env-facts", ns).data
    assert facts == {
        "eventTrackerArn": first,
        "name": aws_name,
        "datasetGroupArn": group,
        "region": status["region"],
        "accountId": status["accountId"],
    }
    assert all(old_id not in value for value in facts.values())

    # 1. envFrom: the process sees both values under the spec's keys, and its PutEvents is accepted.
    for app in ("listed", "unlisted"):
        deploy(kubeconfig, ns, app, "env-tracking", release.emulator_url)
    pods = {
        app: wait_for(lambda app=app: running_pods(node_core, ns, app), timeout=120, what=f"{app} running")[0]
        for app in ("listed", "unlisted")
    }
    for app, pod in pods.items():
        seen = wait_for(lambda pod=pod: printed(kubeconfig, ns, pod.metadata.name), timeout=60, what=f"{app} output")
        assert seen == {"env": sha256(old_id), "arn": sha256(first), "sent": True}
    wait_for(lambda: events_received(node_emulator, first) >= 2, timeout=60, what="both PutEvents accepted")

    # 3. The tracker deleted out of band: the listed Deployment rolls, the other keeps its pod.
    node_emulator.admin.delete_out_of_band(first)
    started = time.monotonic()
    new_id = wait_for(
        lambda: (v := secret_values(node_core, ns, "env-tracking").get("PERSONALIZE_TRACKING_ID")) != old_id and v,
        timeout=90,
        what="the Secret holding the new trackingId",
    )
    secret_at = time.monotonic() - started
    wait_for(
        lambda: node_core.read_namespaced_config_map("env-facts", ns).data["eventTrackerArn"] != first,
        timeout=30,
        what="the ConfigMap naming the new tracker",
    )
    config_map_at = time.monotonic() - started
    second = trackers.wait_recreated(
        "env",
        first,
        timeout=60,
        what="the new tracker Active in status (written at the end of the pass that wrote the Secret)",
    )

    def rolled() -> client.V1Pod | None:
        fresh = [p for p in running_pods(node_core, ns, "listed") if p.metadata.uid != pods["listed"].metadata.uid]
        return fresh[0] if fresh else None

    new_pod = wait_for(rolled, timeout=120, what="a new pod of the listed Deployment")
    seen = wait_for(lambda: printed(kubeconfig, ns, new_pod.metadata.name), timeout=60, what="the new pod's output")
    assert seen == {"env": sha256(new_id), "arn": sha256(second), "sent": True}
    wait_for(lambda: events_received(node_emulator, second) >= 1, timeout=60, what="the new pod's PutEvents accepted")
    accepted_at = time.monotonic() - started
    print(
        f"trackingId change: Secret rewritten {secret_at:.1f}s after the out-of-band delete (resync 5s), "
        f"ConfigMap's eventTrackerArn after {config_map_at:.1f}s; "
        f"restarted pod's PutEvents accepted by the new tracker after {accepted_at:.1f}s"
    )

    reasons = {reason for _, reason, _ in trackers.events("env")}
    assert {"RolloutRestarted", "RolloutRestartTargetNotFound"} <= reasons, reasons
    assert trackers.status("env")["phase"] == "Active"
    stays(
        lambda: [p.metadata.uid for p in running_pods(node_core, ns, "unlisted")] == [pods["unlisted"].metadata.uid],
        seconds=5,
        what="the unlisted Deployment keeps its pod",
    )
    assert printed(kubeconfig, ns, pods["unlisted"].metadata.name) == {
        "env": sha256(old_id),
        "arn": sha256(first),
        "sent": True,
    }
    facts = node_core.read_namespaced_config_map("env-facts", ns).data
    assert facts["eventTrackerArn"] == second and all(new_id not in v for v in facts.values())

    # 1. Renaming a key in the spec leaves the Secret with the new keys only.
    trackers.patch("env", {"spec": {"secretKeys": {"trackingId": "TRACKING_ID"}}})
    wait_for(
        lambda: set(secret_values(node_core, ns, "env-tracking")) == {"TRACKING_ID", "PERSONALIZE_EVENT_TRACKER_ARN"},
        timeout=60,
        what="the Secret with the renamed key only",
    )
    assert sha256(secret_values(node_core, ns, "env-tracking")["TRACKING_ID"]) == sha256(new_id)
