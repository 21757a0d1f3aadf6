"""Many clusters, one AWS account: two real control planes, one emulator (one account), a real operator each.

Cluster A is the session's control plane; cluster B is a second one started here. Each cluster has a
`solo-*` namespace of the same name (so the session's shared operator stays out of it) and its own
operator process watching it, with /metrics on, so AWS calls are counted per process. Secrets are
compared by hash only.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

from local_cluster.cluster import ControlPlane
from personalize_emulator.testing import Emulator, running_emulator
from support.kube import create_namespace, delete_namespace, install_crd
from support.operator_process import OperatorProcess
from support.solo import new_dataset_group
from support.trackers import GROUP, PLURAL, REPO, VERSION, Trackers, manifest
from support.wait import stays, wait_for

CLUSTER_TAG = "personalize.operators.dev/cluster"
TAKE_OVER = "personalize.operators.dev/take-over-from-cluster"
ADOPT = "personalize.operators.dev/adopt"
CHANGING = ("TagResource", "UntagResource", "DeleteEventTracker")
ENV = {"PERSONALIZE_OPERATOR_RESYNC_SECONDS": "5"}  # a cluster that lost its tracker notices at a resync


@dataclass
class Cluster:
    """One control plane as the tests see it: its API, its operator, its identity."""

    kubeconfig: Path
    core: client.CoreV1Api
    trackers: Trackers
    operator: OperatorProcess

    @property
    def identity(self) -> str:
        return str(self.core.read_namespace("kube-system").metadata.uid)

    def restart(self) -> None:
        self.operator.stop()
        self.operator = OperatorProcess(
            kubeconfig=self.kubeconfig,
            endpoint=self.operator.endpoint,
            log=self.operator.log,
            namespaces=self.operator.namespaces,
            extra_env=self.operator.extra_env,
            metrics=True,
        ).start()

    def active(self, body: dict) -> tuple[str, str]:
        """Apply `body`, wait for Active: (the tracker's ARN, the sha256 of its Secret's trackingId)."""
        name = body["metadata"]["name"]
        self.trackers.create(body)
        arn = str(self.trackers.wait_phase(name, "Active")["eventTrackerArn"])
        return arn, wait_for(lambda: self.secret_hash(f"{name}-tracking"), timeout=30, what=f"{name}'s Secret")

    def secret_hash(self, name: str) -> str | None:
        found = self.trackers.secret(name)
        data = (found.data or {}) if found is not None else {}
        return hashlib.sha256(data["trackingId"].encode()).hexdigest() if "trackingId" in data else None


@pytest.fixture(scope="module")
def account() -> Iterator[Emulator]:
    with running_emulator(transition_delay=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def cluster_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    plane = ControlPlane(workdir=tmp_path_factory.mktemp("cluster-b"))
    with plane:
        install_crd(plane.kubeconfig, REPO / "crds")
        yield plane.kubeconfig


def _cluster(kubeconfig: Path, namespace: str, account: Emulator, log: Path) -> Cluster:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(api)
    create_namespace(core, namespace)
    operator = OperatorProcess(
        kubeconfig=kubeconfig, endpoint=account.endpoint, log=log, namespaces=[namespace], extra_env=ENV, metrics=True
    ).start()
    return Cluster(
        kubeconfig, core, Trackers(custom=client.CustomObjectsApi(api), core=core, namespace=namespace), operator
    )


@pytest.fixture
def clusters(
    kubeconfig: Path, crd: str, cluster_b: Path, account: Emulator, tmp_path: Path
) -> Iterator[tuple[Cluster, Cluster]]:
    namespace = f"solo-mc-{uuid.uuid4().hex[:6]}"
    a = _cluster(kubeconfig, namespace, account, tmp_path / "operator-a.log")
    b = _cluster(cluster_b, namespace, account, tmp_path / "operator-b.log")
    yield a, b
    for side in (a, b):
        if side.operator.exit_code() is not None or side.operator.process is None:
            side.restart()
        for item in side.trackers.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]:
            side.trackers.delete(item["metadata"]["name"])
        wait_for(
            lambda s=side: (
                not s.trackers.custom.list_namespaced_custom_object(  # type: ignore[misc]
                    GROUP, VERSION, namespace, PLURAL
                )["items"]
            ),
            timeout=60,
            what=f"{namespace} emptied",
        )
        side.operator.stop()
        delete_namespace(side.core, namespace)


def _tracker_tags(account: Emulator, arn: str) -> dict[str, str]:
    listed = account.client().list_tags_for_resource(resourceArn=arn)["tags"]
    return {t["tagKey"]: t["tagValue"] for t in listed}


def _remote(account: Emulator, arn: str) -> dict | None:
    return account.admin.tracker(arn=arn)


def _active_in_a(clusters: tuple[Cluster, Cluster], account: Emulator, name: str) -> tuple[dict, str, str]:
    """`name` applied in cluster A with a dataset group of its own, Active: (manifest, ARN, trackingId hash)."""
    body = manifest(name, new_dataset_group(account))
    arn, before = clusters[0].active(body)
    return body, arn, before


def test_the_same_manifest_in_a_second_cluster_never_takes_the_first_clusters_tracker(
    clusters: tuple[Cluster, Cluster], account: Emulator
) -> None:
    a, b = clusters
    body, arn, before = _active_in_a(clusters, account, "storefront")
    assert _tracker_tags(account, arn)[CLUSTER_TAG] == a.identity

    b.trackers.create(body)
    status = b.trackers.wait_phase("storefront", "Failed", reason="OwnedByOtherCluster")
    message = b.trackers.condition("storefront", "Ready")["message"]
    assert a.identity in message and status.get("ownerCluster") == a.identity and not status.get("eventTrackerArn")

    b.trackers.patch("storefront", {"metadata": {"annotations": {ADOPT: "true"}}})
    stays(
        lambda: b.trackers.condition("storefront", "Ready").get("reason") == "OwnedByOtherCluster",
        seconds=30,
        what="B still refused with the adopt annotation",
    )
    assert b.trackers.secret("storefront-tracking") is None
    b.trackers.delete("storefront")
    b.trackers.wait_gone("storefront")

    calls = b.operator.aws_calls()
    assert {op: calls.get(op, 0.0) for op in CHANGING} == dict.fromkeys(CHANGING, 0.0), calls
    remote = _remote(account, arn)
    assert remote is not None and remote["status"] == "ACTIVE"
    assert a.trackers.status("storefront")["phase"] == "Active" and a.secret_hash("storefront-tracking") == before


def test_a_restored_resource_new_uid_no_status_resumes_its_tracker_without_a_create(
    clusters: tuple[Cluster, Cluster], account: Emulator
) -> None:
    a, _ = clusters
    body, arn, before = _active_in_a(clusters, account, "restored")
    old_uid = a.trackers.get("restored")["metadata"]["uid"]

    a.operator.stop()
    a.trackers.patch("restored", {"metadata": {"finalizers": None}})
    a.trackers.delete("restored")
    a.trackers.wait_gone("restored")
    try:
        a.core.delete_namespaced_secret("restored-tracking", a.trackers.namespace)
    except client.ApiException as error:  # already collected through its ownerReference
        assert error.status == 404
    wait_for(lambda: a.trackers.secret("restored-tracking") is None, timeout=30, what="the Secret gone")
    a.trackers.create(body)  # as from Git: a new uid, no status
    assert a.trackers.get("restored")["metadata"]["uid"] != old_uid
    account.admin.reset_calls()
    a.restart()

    status = a.trackers.wait_phase("restored", "Active")
    assert status["eventTrackerArn"] == arn
    assert wait_for(lambda: a.secret_hash("restored-tracking"), timeout=30, what="the Secret") == before
    assert account.admin.calls().get("CreateEventTracker", 0) == 0


def test_a_migration_is_explicit_and_the_cluster_that_lost_the_tracker_leaves_it_alone(
    clusters: tuple[Cluster, Cluster], account: Emulator
) -> None:
    a, b = clusters
    body, arn, before = _active_in_a(clusters, account, "moving")
    a.operator.stop()  # "for good"

    account.admin.reset_calls()
    b.trackers.create({**body, "metadata": {**body["metadata"], "annotations": {TAKE_OVER: a.identity}}})
    status = b.trackers.wait_phase("moving", "Active")
    assert status["eventTrackerArn"] == arn and status.get("ownerCluster") == b.identity
    assert wait_for(lambda: b.secret_hash("moving-tracking"), timeout=30, what="B's Secret") == before
    assert account.admin.calls().get("CreateEventTracker", 0) == 0
    assert _tracker_tags(account, arn)[CLUSTER_TAG] == b.identity

    a.restart()
    a.trackers.wait_phase("moving", "Failed", timeout=60, reason="OwnedByOtherCluster")
    a.trackers.delete("moving")
    a.trackers.wait_gone("moving")
    remote = _remote(account, arn)
    assert (
        remote is not None and remote["status"] == "ACTIVE" and _tracker_tags(account, arn)[CLUSTER_TAG] == b.identity
    )
    assert b.trackers.status("moving")["phase"] == "Active"


def test_a_tracker_made_before_cluster_tags_is_resumed_and_tagged(
    clusters: tuple[Cluster, Cluster], account: Emulator
) -> None:
    a, _ = clusters
    _, arn, before = _active_in_a(clusters, account, "older")
    a.operator.stop()
    # What the previous release left: no cluster tag on the tracker, no ownerCluster in status.
    account.client().untag_resource(resourceArn=arn, tagKeys=[CLUSTER_TAG])
    a.trackers.custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, a.trackers.namespace, PLURAL, "older", {"status": {"ownerCluster": None}}
    )
    account.admin.reset_calls()
    a.restart()

    wait_for(lambda: _tracker_tags(account, arn).get(CLUSTER_TAG) == a.identity, timeout=30, what="the cluster tag")
    status = a.trackers.wait_phase("older", "Active")
    assert status["eventTrackerArn"] == arn and status.get("ownerCluster") == a.identity
    assert a.secret_hash("older-tracking") == before and account.admin.calls().get("CreateEventTracker", 0) == 0
