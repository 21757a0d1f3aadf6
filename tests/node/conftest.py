"""Node fixtures: a control plane of its own with a real node, the project image in its runtime, an emulator.

The node (local_cluster.node) runs pods for real: kubelet, kube-proxy and
kube-scheduler built from the control plane's Go module, Debian's containerd
and runc, a bridge CNI network. Pods reach the API server through the
`kubernetes` Service (10.0.0.1:443, kube-proxy) and the emulator through a
Service whose endpoint is the host's address, where the emulator listens. A
node that cannot start (no root, packages missing) fails these tests; nothing
skips. Module scope: the node (one per machine) is stopped as soon as the
module is done, not at the end of the session.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from local_cluster import build, node, workloads
from local_cluster.cluster import ControlPlane
from personalize_emulator.testing import Emulator, aws_environment, running_emulator
from support import image
from support.chart import Helm
from support.kube import create_namespace, delete_namespace
from support.node_pods import IMAGE, NodeEnv, Release
from support.trackers import kubectl
from support.wait import wait_for


@pytest.fixture(scope="module")
def node_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project image, built from this checkout and exported for the node's containerd."""
    folder = tmp_path_factory.mktemp("node-image")
    with (folder / "build.log").open("w") as log:
        built = image.build(IMAGE, log=log)
    started = time.monotonic()
    archive = node.save_podman_image(IMAGE, folder / "operator.tar")
    print(f"image {IMAGE} built in {built.seconds:.0f}s, saved in {time.monotonic() - started:.0f}s")
    return archive


@pytest.fixture(scope="module")
def node_cluster(tmp_path_factory: pytest.TempPathFactory, node_image: Path) -> Iterator[ControlPlane]:
    plane = ControlPlane(workdir=tmp_path_factory.mktemp("node-cluster"), node=True, node_images=(node_image,))
    started = time.monotonic()
    with plane:
        print(f"control plane and node Ready in {time.monotonic() - started:.0f}s; logs in {plane.workdir}")
        yield plane


@pytest.fixture(scope="module")
def node_api(node_cluster: ControlPlane) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(node_cluster.kubeconfig))


@pytest.fixture(scope="module")
def node_core(node_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(node_api)


@pytest.fixture(scope="module")
def node_helm(node_cluster: ControlPlane, node_api: client.ApiClient, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    version = client.VersionApi(node_api).get_code().git_version
    return Helm(
        binary=build.ensure_helm(),
        home=tmp_path_factory.mktemp("node-helm"),
        kubeconfig=node_cluster.kubeconfig,
        kube_version=version,
        node=True,
    )


@pytest.fixture(scope="module")
def node_emulator(node_cluster: ControlPlane) -> Iterator[Emulator]:
    """An emulator on the host's address (not loopback): pods reach it through the bridge."""
    with running_emulator(host=node_cluster.host, transition_delay=0.5, tracker_quota=100) as running:
        yield running


@pytest.fixture(scope="module")
def system_namespace(node_core: client.CoreV1Api) -> Iterator[str]:
    yield create_namespace(node_core, f"personalize-system-{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
def pods_emulator_url(
    node_cluster: ControlPlane, node_core: client.CoreV1Api, system_namespace: str, node_emulator: Emulator
) -> str:
    """The emulator as pods see it: a Service (in front of the host's address) at its ClusterIP."""
    port = int(node_emulator.endpoint.rsplit(":", 1)[1])
    objects = workloads.emulator_service(node_cluster.host, port)
    kubectl(
        node_cluster.kubeconfig,
        "apply",
        "--namespace",
        system_namespace,
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
    )
    service = node_core.read_namespaced_service(workloads.EMULATOR_SERVICE, system_namespace)
    return f"http://{service.spec.cluster_ip}:80"


def chart_fullname(release: str) -> str:
    """The chart names objects after the release alone when it already contains the chart's name."""
    return release if "personalize-operator" in release else f"{release}-personalize-operator"


@pytest.fixture
def node_namespace(node_core: client.CoreV1Api) -> Iterator[str]:
    name = create_namespace(node_core, f"node-{uuid.uuid4().hex[:6]}")
    yield name
    delete_namespace(node_core, name)


@pytest.fixture(scope="module")
def release_values() -> dict[str, Any]:
    """Extra chart values for a module's release (a module overrides it, e.g. rbac.rolloutRestart)."""
    return {}


@pytest.fixture(scope="module")
def release(
    node_helm: Helm,
    node_core: client.CoreV1Api,
    system_namespace: str,
    pods_emulator_url: str,
    node_emulator: Emulator,
    release_values: dict[str, Any],
) -> Iterator[Release]:
    """`helm install` of the chart with the project image (two replicas by default); returns once all are Ready."""
    name = "personalize-operator"
    values = {
        "image": {"repository": IMAGE.rsplit(":", 1)[0], "tag": IMAGE.rsplit(":", 1)[1], "pullPolicy": "Never"},
        "extraEnv": [{"name": k, "value": v} for k, v in aws_environment(pods_emulator_url).items()],
        "liveness": {"initialDelaySeconds": 5, "periodSeconds": 3, "failureThreshold": 3},
        "operator": {"logFormat": "text", "resyncSeconds": 5},
        "crds": {"install": True},  # this cluster is the node tests' own: the release owns the CRD
        **release_values,
    }
    node_helm.install(name, system_namespace, values)
    try:
        apps = client.AppsV1Api(node_core.api_client)
        # Both replicas Ready: the leader once it has listed the EventTrackers, the standby once it reaches the API.
        wait_for(
            lambda: (
                (d := apps.read_namespaced_deployment(chart_fullname(name), system_namespace)).status.ready_replicas
                == d.spec.replicas
            ),
            timeout=180,
            what="every operator pod Ready",
        )
        yield Release(name=name, namespace=system_namespace, emulator_url=pods_emulator_url)
    finally:
        node_helm.uninstall(name, system_namespace)


@pytest.fixture
def node_env(
    release: Release,
    node_cluster: ControlPlane,
    node_core: client.CoreV1Api,
    node_api: client.ApiClient,
    node_emulator: Emulator,
    node_namespace: str,
) -> NodeEnv:
    """What every test on the node works with: the chart released, the cluster, its clients, the emulator."""
    return NodeEnv(release, node_cluster, node_core, node_api, node_emulator, node_namespace)
