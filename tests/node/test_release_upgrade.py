"""Releases from a registry: install the previous release, upgrade with live trackers, roll back, uninstall.

The previous release is pinned: the chart and the image built from commit
PREVIOUS (0.1.0, the CRD in the chart's crds/, API v1alpha1) out of
`git archive`; the new one from this checkout. Both are published with
`make release`'s code (support.release) to a real registry on loopback (Debian's
docker-registry), installed with `helm install oci://...`, and the node's
containerd pulls the images from that registry (no archive is imported). Two
operator replicas, 20 EventTrackers Active, then in order:

1. `helm upgrade --take-ownership` to this version (adopting the CRD the old
   release created from crds/): the CRD in the cluster is the new one; through
   the rollout, sampled every 0.5 s, every EventTracker stays Ready=True, at
   most one pod leads; no CreateEventTracker or DeleteEventTracker call; every
   Secret's trackingId is unchanged (sha256); then `personalize-operator
   migrate-storage` leaves storedVersions [v1beta1].
2. `helm rollback` to the previous release: the same figures (the CRD stays
   the new one: kept, and the old operator reads v1alpha1, still served).
3. `helm uninstall` completes within 60 s; EventTrackers, Secrets and the AWS
   trackers remain, and so does the CRD.
4. The images the node ran came from the registry (containerd's image list).

The steps share the module's cluster and run in file order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from local_cluster import build
from local_cluster.cluster import ControlPlane
from personalize_emulator.testing import Emulator, aws_environment
from personalize_operator.api import crd
from personalize_operator.tools import crd_drift
from support import handover, release
from support.chart import GUARD_FINALIZER, Helm
from support.kube import CRD_NAME
from support.registry import Registry, running_registry
from support.solo import new_dataset_group
from support.trackers import GROUP, PLURAL, kubectl, manifest
from support.wait import wait_for

PREVIOUS = "6be3e0b"  # the commit this release starts from: 0.1.0
PREVIOUS_VERSION = "0.1.0"
OLD_API = "v1alpha1"  # served by both releases: what the samples list with
TRACKERS = 20
RELEASE = "personalize-operator"
METRICS_PORT = 9090
pytestmark = pytest.mark.timeout(3600)


@dataclass(frozen=True)
class Published:
    registry: Registry
    previous: release.Published
    current: release.Published


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


def previous_tree(folder: Path) -> Path:
    """The pinned commit's files (`git archive`), with this checkout's dependency wheels to build offline faster."""
    archive = subprocess.run(
        ["git", "-C", str(release.REPO), "archive", "--format=tar", PREVIOUS], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    wheels = release.REPO / "build" / "wheels"
    (folder / "build" / "wheels").mkdir(parents=True, exist_ok=True)
    for wheel in wheels.glob("*.whl"):
        if not wheel.name.startswith("personalize_operator-"):
            shutil.copy2(wheel, folder / "build" / "wheels" / wheel.name)
    return folder


@pytest.fixture(scope="module")
def published(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Both releases built and pushed (`make release`'s code); the old image is reused when podman has it."""
    home = tmp_path_factory.mktemp("release-helm")
    binary = build.ensure_helm()
    env = {"HELM_CONFIG_HOME": str(home / "config"), "HELM_CACHE_HOME": str(home / "cache")}

    def helm(args: Any) -> str:
        done = subprocess.run(
            [str(binary), *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300, check=False
        )
        assert done.returncode == 0, f"helm {' '.join(args)}: {done.stderr}"
        return done.stdout

    log_dir = tmp_path_factory.mktemp("release-logs")
    started = time.monotonic()
    with (log_dir / "current.log").open("w") as log:
        current = release.publish(registry.address, helm, log=log)
    built_current = time.monotonic() - started
    tree = previous_tree(tmp_path_factory.mktemp("previous"))
    started = time.monotonic()
    with (log_dir / "previous.log").open("w") as log:
        local = f"localhost/personalize-operator:{PREVIOUS_VERSION}-{PREVIOUS}"  # built once from the pinned commit
        previous = release.publish(registry.address, helm, tree=tree, rebuild=False, log=log, local=local)
    print(
        f"published {current.version} in {built_current:.0f}s, {previous.version} in {time.monotonic() - started:.0f}s"
    )
    assert previous.version == PREVIOUS_VERSION
    assert set(registry.tags("personalize-operator")) == {PREVIOUS_VERSION, current.version}
    assert set(registry.tags("charts/personalize-operator")) == {PREVIOUS_VERSION, current.version}
    return Published(registry=registry, previous=previous, current=current)


@pytest.fixture(scope="module")
def node_cluster(tmp_path_factory: pytest.TempPathFactory, published: Published) -> Iterator[ControlPlane]:
    """This module's own node: containerd knows the registry; no image archive is imported."""
    plane = ControlPlane(
        workdir=tmp_path_factory.mktemp("release-node"), node=True, node_registries=(published.registry.address,)
    )
    with plane:
        yield plane


def values(emulator_url: str) -> dict[str, Any]:
    """A values file valid for both releases (nothing new in it): the previous release's keys only."""
    return {
        "image": {"pullPolicy": "IfNotPresent"},
        "extraEnv": [{"name": k, "value": v} for k, v in aws_environment(emulator_url).items()],
        "operator": {"logFormat": "text", "resyncSeconds": 30},
        "metrics": {"enabled": True, "port": METRICS_PORT},
    }


@dataclass
class State:
    """What the steps share: the installed release, its trackers and what they held before."""

    helm: Helm
    values: Path
    published: Published
    release_namespace: str
    namespace: str
    tracking_hashes: dict[str, str]
    arns: dict[str, str]


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def tracking_hashes(core: client.CoreV1Api, namespace: str) -> dict[str, str]:
    secrets = core.list_namespaced_secret(namespace, label_selector=f"{GROUP}/owner-uid").items
    return {s.metadata.name: sha256(base64.b64decode(s.data["trackingId"]).decode()) for s in secrets}


def rolled_out(apps: client.AppsV1Api, namespace: str, image: str) -> bool:
    deployment = apps.read_namespaced_deployment(RELEASE, namespace)
    status, replicas = deployment.status, deployment.spec.replicas
    return (
        deployment.spec.template.spec.containers[0].image == image
        and (status.observed_generation or 0) >= deployment.metadata.generation
        and status.updated_replicas == replicas
        and status.ready_replicas == replicas
        and status.replicas == replicas
    )


@pytest.fixture(scope="module")
def state(
    published: Published,
    node_cluster: ControlPlane,
    node_helm: Helm,
    node_api: client.ApiClient,
    node_core: client.CoreV1Api,
    system_namespace: str,
    pods_emulator_url: str,
    node_emulator: Emulator,
) -> State:
    """The previous release installed from the registry, two replicas, 20 EventTrackers Active with Secrets."""
    values_file = node_helm.values_file(values(pods_emulator_url))
    node_helm.run(
        "install", RELEASE, published.previous.chart, "--version", PREVIOUS_VERSION, "--plain-http",
        "--namespace", system_namespace, "--values", str(values_file),
        "--set", f"image.repository={published.registry.address}/personalize-operator",
    )  # fmt: skip
    apps = client.AppsV1Api(node_api)
    wait_for(
        lambda: rolled_out(apps, system_namespace, published.previous.image),
        timeout=300,
        what="both 0.1.0 replicas Ready",
    )
    namespace = f"shop-{uuid.uuid4().hex[:6]}"
    node_core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    custom = client.CustomObjectsApi(node_api)
    for index in range(TRACKERS):  # as a 0.1.0 user wrote them: v1alpha1, the only version 0.1.0 serves
        body = {
            **manifest(f"store-{index:02d}", new_dataset_group(node_emulator, f"rel{index:02d}")),
            "apiVersion": f"{GROUP}/{OLD_API}",
        }
        custom.create_namespaced_custom_object(GROUP, OLD_API, namespace, PLURAL, body)

    def all_active() -> dict[str, str] | None:
        items = custom.list_namespaced_custom_object(GROUP, OLD_API, namespace, PLURAL)["items"]
        statuses = {i["metadata"]["name"]: i.get("status") or {} for i in items}
        if len(statuses) == TRACKERS and all(s.get("phase") == "Active" for s in statuses.values()):
            return {name: s["eventTrackerArn"] for name, s in statuses.items()}
        return None

    arns = wait_for(all_active, timeout=300, what=f"{TRACKERS} EventTrackers Active")
    hashes = wait_for(
        lambda: found if len(found := tracking_hashes(node_core, namespace)) == TRACKERS else None,
        timeout=60,
        what="20 Secrets",
    )
    return State(node_helm, values_file, published, system_namespace, namespace, hashes, arns)


def through(
    state: State, api: client.ApiClient, emulator: Emulator, change: list[str], image: str
) -> tuple[list[handover.Sample], dict[str, int]]:
    """Run a helm command while sampling, until the Deployment has rolled out to `image` and 10 s more."""
    before = emulator.admin.calls()
    apps = client.AppsV1Api(api)
    sampler = handover.Sampler(api, state.namespace, state.release_namespace, RELEASE, METRICS_PORT, version=OLD_API)
    with sampler:
        time.sleep(2)
        state.helm.run(*change)
        wait_for(lambda: rolled_out(apps, state.release_namespace, image), timeout=600, what=f"rollout to {image}")
        time.sleep(10)
    pods = client.CoreV1Api(api).list_namespaced_pod(state.release_namespace).items
    print(f"pods after {change[0]}: {[(p.metadata.name, p.spec.containers[0].image) for p in pods]}")
    after = emulator.admin.calls()
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in ("CreateEventTracker", "DeleteEventTracker")}
    return sampler.samples, calls


def describe(samples: list[handover.Sample]) -> str:
    return (
        f"{len(samples)} samples over {samples[-1].at - samples[0].at:.1f}s; Lease holders {handover.holders(samples)}"
    )


def diagnose(state: State, fullname: str, stderr: str) -> str:
    """What the hook Job and the RoleBinding looked like when the uninstall failed."""
    kubeconfig = state.helm.kubeconfig
    found = [stderr]
    for args in (
        ("get", "jobs,pods", "-n", state.release_namespace, "-o", "wide"),
        ("logs", "-n", state.release_namespace, "-l", "app.kubernetes.io/component=uninstall-hook", "--tail=50"),
        ("get", "rolebinding", fullname, "-n", state.namespace, "-o", "yaml"),
        ("get", "events", "-n", state.release_namespace),
    ):
        done = kubectl(kubeconfig, *args, check=False)
        found.append(f"$ kubectl {' '.join(args)}\n{done.stdout}{done.stderr}")
    return "\n".join(found)


def operator_logs(kubeconfig: Path, namespace: str) -> list[str]:
    """Every operator pod's log lines, each prefixed with its pod."""
    return kubectl(
        kubeconfig, "logs", "-n", namespace, "-l", "app.kubernetes.io/name=personalize-operator",
        "--prefix", "--tail=-1",
    ).stdout.splitlines()  # fmt: skip


def stored_versions(api: client.ApiClient) -> list[str]:
    return list(client.ApiextensionsV1Api(api).read_custom_resource_definition(CRD_NAME).status.stored_versions)


def assert_same_trackers(state: State, core: client.CoreV1Api, emulator: Emulator) -> None:
    assert tracking_hashes(core, state.namespace) == state.tracking_hashes
    for arn in state.arns.values():
        assert emulator.admin.tracker(arn=arn)["status"] == "ACTIVE"


class TestReleases:
    def test_1_upgrade_from_the_previous_release_keeps_every_tracker_ready_with_one_leader(
        self,
        state: State,
        node_api: client.ApiClient,
        node_core: client.CoreV1Api,
        node_emulator: Emulator,
        node_cluster: ControlPlane,
    ) -> None:
        extensions = client.ApiextensionsV1Api(node_api)
        old_crd = extensions.read_custom_resource_definition(CRD_NAME)
        assert [v.name for v in old_crd.spec.versions] == ["v1alpha1"]
        current = state.published.current
        samples, calls = through(
            state,
            node_api,
            node_emulator,
            [
                "upgrade",
                RELEASE,
                current.chart,
                "--version",
                current.version,
                "--plain-http",
                "--take-ownership",
                "--namespace",
                state.release_namespace,
                "--values",
                str(state.values),
                "--set",
                f"image.repository={state.published.registry.address}/personalize-operator",
            ],
            current.image,
        )
        print(f"upgrade: {describe(samples)}")
        assert len(samples) >= 20
        assert handover.problems(samples, TRACKERS) == []
        assert calls == {"CreateEventTracker": 0, "DeleteEventTracker": 0}
        assert_same_trackers(state, node_core, node_emulator)

        installed = json.loads(kubectl(node_cluster.kubeconfig, "get", "crd", CRD_NAME, "-o", "json").stdout)
        assert crd_drift.drift(installed, crd.render_crd()) == []
        assert installed["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        served = [
            (v["name"], v["served"], v["storage"], v.get("deprecated", False)) for v in installed["spec"]["versions"]
        ]
        assert served == [("v1beta1", True, True, False), ("v1alpha1", True, False, True)]
        assert installed["metadata"]["uid"] == old_crd.metadata.uid  # adopted, never re-created
        assert sorted(stored_versions(node_api)) == ["v1alpha1", "v1beta1"]

        migrated = subprocess.run(
            [str(Path(sys.executable).parent / "personalize-operator"), "migrate-storage",
             "--kubeconfig", str(node_cluster.kubeconfig)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr
        assert f"rewrote {TRACKERS} EventTracker(s)" in migrated.stdout
        assert stored_versions(node_api) == ["v1beta1"]
        # The leader runs kopf, so its start-up check (a standby waits for the Lease before starting kopf).
        wanted = f"CRD {CRD_NAME} is the one of operator {current.version}"
        lines = wait_for(
            lambda: (
                [line for line in operator_logs(node_cluster.kubeconfig, state.release_namespace) if "CRD" in line]
                or None
            ),
            timeout=60,
            what="the start-up CRD check in the operator logs",
        )
        assert any(wanted in line for line in lines), lines

    def test_2_rollback_to_the_previous_release_keeps_every_tracker_ready_with_one_leader(
        self, state: State, node_api: client.ApiClient, node_core: client.CoreV1Api, node_emulator: Emulator
    ) -> None:
        samples, calls = through(
            state,
            node_api,
            node_emulator,
            ["rollback", RELEASE, "1", "--namespace", state.release_namespace],
            state.published.previous.image,
        )
        print(f"rollback: {describe(samples)}")
        assert len(samples) >= 20
        assert handover.problems(samples, TRACKERS) == []
        assert calls == {"CreateEventTracker": 0, "DeleteEventTracker": 0}
        assert_same_trackers(state, node_core, node_emulator)
        # The CRD stays the new one (kept); the old operator uses v1alpha1, still served with the same schema.
        installed = client.ApiextensionsV1Api(node_api).read_custom_resource_definition(CRD_NAME)
        assert [v.name for v in installed.spec.versions] == ["v1beta1", "v1alpha1"]
        assert stored_versions(node_api) == ["v1beta1"]

    def test_3_uninstall_completes_and_leaves_the_trackers_their_secrets_and_the_crd(
        self, state: State, node_api: client.ApiClient, node_core: client.CoreV1Api, node_emulator: Emulator
    ) -> None:
        started = time.monotonic()
        state.helm.run("uninstall", RELEASE, "--namespace", state.release_namespace, "--wait", "--timeout", "60s")
        took = time.monotonic() - started
        print(f"helm uninstall took {took:.1f}s")
        assert took < 60
        apps = client.AppsV1Api(node_api)
        assert not apps.list_namespaced_deployment(state.release_namespace).items
        custom = client.CustomObjectsApi(node_api)
        left = custom.list_namespaced_custom_object(GROUP, OLD_API, state.namespace, PLURAL)["items"]
        assert len(left) == TRACKERS and not any(i["metadata"].get("deletionTimestamp") for i in left)
        assert_same_trackers(state, node_core, node_emulator)
        assert client.ApiextensionsV1Api(node_api).read_custom_resource_definition(CRD_NAME)

    def test_5_uninstall_of_a_guarded_namespaced_release_leaves_no_role_binding_terminating(
        self, state: State, node_api: client.ApiClient, node_core: client.CoreV1Api, node_emulator: Emulator
    ) -> None:
        """Namespaces mode: the operator guards its RoleBinding while EventTrackers exist; the hook lets go."""
        current, name = state.published.current, "guarded"
        rbac = client.RbacAuthorizationV1Api(node_api)
        state.helm.run(
            "install", name, current.chart, "--version", current.version, "--plain-http",
            "--namespace", state.release_namespace, "--values", str(state.values),
            "--set", f"image.repository={state.published.registry.address}/personalize-operator",
            "--set", "watch.mode=namespaces", "--set", f"watch.namespaces={{{state.namespace}}}",
            "--set", "crds.install=false",
        )  # fmt: skip
        fullname = f"{name}-personalize-operator"
        wait_for(
            lambda: (
                GUARD_FINALIZER
                in (rbac.read_namespaced_role_binding(fullname, state.namespace).metadata.finalizers or [])
            ),
            timeout=180,
            what="the RBAC guard's finalizer on the RoleBinding",
        )
        before = node_emulator.admin.calls()
        started = time.monotonic()
        done = state.helm.run(
            "uninstall", name, "--namespace", state.release_namespace, "--wait", "--timeout", "60s", check=False
        )
        took = time.monotonic() - started
        print(f"helm uninstall (namespaces mode, guarded, hook Job) took {took:.1f}s")
        assert done.returncode == 0, diagnose(state, fullname, done.stderr)
        assert took < 60
        wait_for(
            lambda: (
                not rbac.list_namespaced_role_binding(state.namespace, field_selector=f"metadata.name={fullname}").items
            ),
            timeout=30,
            what="the RoleBinding gone",
        )
        after = node_emulator.admin.calls()
        assert after.get("DeleteEventTracker", 0) == before.get("DeleteEventTracker", 0)
        assert_same_trackers(state, node_core, node_emulator)

    def test_4_the_node_pulled_both_images_from_the_registry(self, state: State, node_cluster: ControlPlane) -> None:
        assert node_cluster.node_images == ()  # nothing imported but the sandbox image
        assert node_cluster.running_node is not None
        images = node_cluster.running_node.image_references()
        assert state.published.previous.image in images and state.published.current.image in images, images
