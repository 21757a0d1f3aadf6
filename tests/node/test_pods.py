"""The chart's operator and an application run as real pods on the local node.

1. `helm install` starts the operator pod with the chart's exact security
   context; it passes its liveness probe and reconciles with in-cluster config
   (the API server through the `kubernetes` Service, the emulator through a
   Service of its own).
2. An application pod that mounts the tracker's Secret (volume and
   secretKeyRef) waits while the tracker is CREATE IN_PROGRESS, then starts and
   sends PutEvents with the trackingId it reads from the mounted file.
3. A tracker deleted out of band is created again by the operator's resync;
   the running pod's mounted file gets the new trackingId without a restart,
   its environment variable keeps the old one until a rollout
   (docs/install.md, "Rolling pods when the trackingId changes").

trackingIds never appear in output: the application prints hashes of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from local_cluster import workloads
from local_cluster.node_config import NODE_NAME
from personalize_emulator.testing import Emulator, aws_environment
from support.chart import CHART
from support.node_pods import IMAGE, NodeEnv, operator_pod
from support.solo import new_dataset_group
from support.trackers import Trackers, kubectl, manifest
from support.wait import stays, wait_for

DATA_HASH = "personalize.operators.dev/data-hash"  # changes with the Secret's data (docs/install.md)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def chart_values() -> dict[str, Any]:
    return dict(yaml.safe_load((CHART / "values.yaml").read_text()))


def deploy_application(kubeconfig: Path, namespace: str, name: str, secret: str, emulator_url: str) -> None:
    manifest_ = workloads.application(name, IMAGE, secret, aws_environment(emulator_url))
    kubectl(kubeconfig, "apply", "--namespace", namespace, "-f", "-", stdin=json.dumps(manifest_))


def app_pod(core: client.CoreV1Api, namespace: str, name: str) -> client.V1Pod | None:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
    return pods[0] if pods else None


def waiting_reason(pod: client.V1Pod | None) -> str | None:
    if pod is None or not pod.status.container_statuses:
        return None
    waiting = pod.status.container_statuses[0].state.waiting
    return waiting.reason if waiting else None


def running(pod: client.V1Pod | None) -> bool:
    return bool(pod and pod.status.container_statuses and pod.status.container_statuses[0].state.running)


def printed_hashes(kubeconfig: Path, namespace: str, deployment: str) -> list[dict[str, str]]:
    logs = kubectl(kubeconfig, "logs", "--namespace", namespace, f"deployment/{deployment}").stdout
    return [json.loads(line) for line in logs.splitlines() if line.startswith("{")]


def secret_tracking_id(core: client.CoreV1Api, namespace: str, secret: str) -> str:
    return base64.b64decode(core.read_namespaced_secret(secret, namespace).data["trackingId"]).decode()


def events_received(emulator: Emulator, arn: str) -> int:
    tracker = emulator.admin.tracker(arn=arn)
    return int(tracker["eventsReceived"]) if tracker else 0


def liveness_successes(api: client.ApiClient, namespace: str, pod: str) -> float:
    """From the kubelet's /metrics/probes (through the API server's node proxy)."""
    text = client.CoreV1Api(api).connect_get_node_proxy_with_path(NODE_NAME, "metrics/probes")
    total = 0.0
    needles = ('probe_type="Liveness"', 'result="successful"', f'pod="{pod}"', f'namespace="{namespace}"')
    for line in text.splitlines():
        if line.startswith("prober_probe_total{") and all(needle in line for needle in needles):
            total += float(line.rsplit(" ", 1)[1])
    return total


def pod_events(core: client.CoreV1Api, namespace: str, pod: str) -> list[str]:
    found = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={pod}").items
    return [f"{e.reason}: {e.message}" for e in found]


class TestOperatorPod:
    def test_operator_pod_is_ready_with_the_charts_security_context_and_reconciles_in_cluster(
        self, node_env: NodeEnv
    ) -> None:
        release, node_cluster, node_core, node_api, node_emulator, node_namespace = node_env.parts()
        pod = operator_pod(node_core, release.namespace, ready=True)
        assert pod is not None
        values = chart_values()
        spec = node_api.sanitize_for_serialization(pod.spec)
        assert spec["securityContext"] == values["podSecurityContext"]
        assert spec["containers"][0]["securityContext"] == values["securityContext"]
        assert "hostNetwork" not in spec  # a pod-network pod: in-cluster config goes through the Service

        # What the runtime made of it: uid 10001, read-only root, no capabilities.
        exec_ = ["exec", "--namespace", release.namespace, pod.metadata.name, "--"]
        assert kubectl(node_cluster.kubeconfig, *exec_, "id", "-u").stdout.strip() == "10001"
        touched = kubectl(node_cluster.kubeconfig, *exec_, "touch", "/x", check=False)
        assert "Read-only file system" in touched.stderr
        status = kubectl(node_cluster.kubeconfig, *exec_, "grep", "CapEff", "/proc/self/status").stdout
        assert status.split()[-1] == "0000000000000000"
        env = kubectl(node_cluster.kubeconfig, *exec_, "printenv", "KUBERNETES_SERVICE_HOST").stdout.strip()
        assert env == "10.0.0.1"

        # The kubelet's own prober counts successful liveness probes of the operator container.
        wait_for(
            lambda: liveness_successes(node_api, release.namespace, pod.metadata.name) >= 2,
            timeout=60,
            what="two successful liveness probes",
        )
        restarted = operator_pod(node_core, release.namespace)
        assert restarted is not None and restarted.status.container_statuses[0].restart_count == 0, pod_events(
            node_core, release.namespace, pod.metadata.name
        )

        trackers = Trackers(client.CustomObjectsApi(node_api), node_core, node_namespace)
        arn = new_dataset_group(node_emulator, "node-op")
        trackers.create(manifest("storefront", arn))
        status = trackers.wait_phase("storefront", "Active", timeout=90)
        assert node_emulator.admin.tracker(arn=status["eventTrackerArn"])["status"] == "ACTIVE"


class TestApplicationPod:
    def test_application_pod_waits_for_the_secret_then_sends_events_with_the_mounted_tracking_id(
        self, node_env: NodeEnv
    ) -> None:
        release, node_cluster, node_core, node_api, node_emulator, node_namespace = node_env.parts()
        trackers = Trackers(client.CustomObjectsApi(node_api), node_core, node_namespace)
        tracker_name = f"shop-{uuid.uuid4().hex[:6]}"
        hold = node_emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=tracker_name)
        try:
            trackers.create(manifest("shop", new_dataset_group(node_emulator, "node-app"), name=tracker_name))
            deploy_application(
                node_cluster.kubeconfig, node_namespace, "shop-app", "shop-tracking", release.emulator_url
            )
            wait_for(
                lambda: node_emulator.admin.tracker(name=tracker_name)["status"] == "CREATE IN_PROGRESS",
                timeout=60,
                what="the tracker held in CREATE IN_PROGRESS",
            )
            reason = wait_for(
                lambda: waiting_reason(app_pod(node_core, node_namespace, "shop-app")) or None,
                timeout=60,
                what="the application pod waiting",
            )
            stays(
                lambda: (
                    waiting_reason(app_pod(node_core, node_namespace, "shop-app"))
                    in {"ContainerCreating", "CreateContainerConfigError"}
                ),
                seconds=8,
                what=f"the application pod waiting for the Secret (first reason {reason})",
            )
            assert trackers.secret("shop-tracking") is None
        finally:
            node_emulator.admin.release(hold_id=hold["id"])

        status = trackers.wait_phase("shop", "Active", timeout=90)
        wait_for(
            lambda: running(app_pod(node_core, node_namespace, "shop-app")), timeout=120, what="the application running"
        )
        arn = status["eventTrackerArn"]
        wait_for(lambda: events_received(node_emulator, arn) >= 1, timeout=60, what="PutEvents accepted")
        tracking_id = secret_tracking_id(node_core, node_namespace, "shop-tracking")
        printed = wait_for(
            lambda: printed_hashes(node_cluster.kubeconfig, node_namespace, "shop-app"), timeout=30, what="app output"
        )
        assert printed[0] == {"file": sha256(tracking_id), "env": sha256(tracking_id)}


class TestRecreatedTracker:
    def test_recreated_tracker_reaches_the_running_pods_mounted_file_without_a_restart(self, node_env: NodeEnv) -> None:
        release, node_cluster, node_core, node_api, node_emulator, node_namespace = node_env.parts()
        trackers = Trackers(client.CustomObjectsApi(node_api), node_core, node_namespace)
        trackers.create(manifest("site", new_dataset_group(node_emulator, "node-oob")))
        first = trackers.wait_phase("site", "Active", timeout=90)["eventTrackerArn"]
        old_id = secret_tracking_id(node_core, node_namespace, "site-tracking")
        deploy_application(node_cluster.kubeconfig, node_namespace, "site-app", "site-tracking", release.emulator_url)
        wait_for(lambda: events_received(node_emulator, first) >= 1, timeout=120, what="PutEvents with the first id")
        pod = app_pod(node_core, node_namespace, "site-app")
        assert pod is not None

        old_hash = node_core.read_namespaced_secret("site-tracking", node_namespace).metadata.annotations[DATA_HASH]
        node_emulator.admin.delete_out_of_band(first)
        # Nothing changes in Kubernetes: the operator's resync (5s here) finds the tracker gone.
        second = trackers.wait_recreated("site", first, timeout=90, what="the tracker created again and Active")
        new_id = wait_for(
            lambda: (value := secret_tracking_id(node_core, node_namespace, "site-tracking")) != old_id and value,
            timeout=60,
            what="the Secret holding the new trackingId",
        )

        assert (
            node_core.read_namespaced_secret("site-tracking", node_namespace).metadata.annotations[DATA_HASH]
            != old_hash
        )
        # The kubelet refreshes mounted Secrets on its pod sync (syncFrequency, 10s on this node).
        wait_for(lambda: events_received(node_emulator, second) >= 1, timeout=90, what="PutEvents with the new id")
        same = app_pod(node_core, node_namespace, "site-app")
        assert same is not None and same.metadata.uid == pod.metadata.uid
        assert same.status.container_statuses[0].restart_count == 0
        printed = printed_hashes(node_cluster.kubeconfig, node_namespace, "site-app")
        assert printed[-1] == {"file": sha256(new_id), "env": sha256(old_id)}  # env vars need a rollout
