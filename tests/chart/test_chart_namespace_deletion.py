"""Namespaced install: deleting a watched namespace ends, and deletes its trackers first; uninstall never hangs.

The chart is really installed in namespaces mode and the operator runs with a
token of the chart's ServiceAccount (as in test_chart_least_privilege.py), so
its only permission in the watched namespace is the chart's RoleBinding (to
its ClusterRole), which the namespace controller deletes with everything else.
Protects docs/install.md "Deleting a watched namespace": the operator keeps
its RoleBinding (rbac_guard.py) until the last EventTracker is gone, and lets
go when it stops after its namespace left the watch list.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from local_cluster.identity import service_account_kubeconfig
from personalize_emulator.testing import Emulator
from personalize_operator.kube.rbac_guard import FINALIZER
from support import chart
from support.chart import Helm
from support.operator_process import OperatorProcess
from support.solo import new_dataset_group
from support.trackers import Trackers, manifest
from support.wait import wait_for

NAMESPACE_GONE_WITHIN = 120  # the bound; the figure measured is printed


@dataclass
class Namespaced:
    release: str
    release_namespace: str
    watched: str
    fullname: str
    objects: list[dict[str, Any]]
    identity: Path
    rbac: client.RbacAuthorizationV1Api

    def operator(self, emulator: Emulator, log: Path) -> OperatorProcess:
        return OperatorProcess(
            kubeconfig=self.identity,
            endpoint=emulator.endpoint,
            log=log,
            namespaces=chart.watched_namespaces(self.objects),
            extra_env=chart.operator_settings_env(self.objects),
        )

    def guarded(self) -> list[str] | None:
        """Finalizers of the chart's RoleBinding in the watched namespace; None once it is gone."""
        try:
            binding = self.rbac.read_namespaced_role_binding(self.fullname, self.watched)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return list(binding.metadata.finalizers or [])


@pytest.fixture
def namespaced(
    helm: Helm,
    chart_crd: str,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    api_client: client.ApiClient,
    tmp_path: Path,
) -> Iterator[Namespaced]:
    release_namespace = chart.new_namespace(core, "nsdel-release")
    watched = chart.new_namespace(core, "nsdel-shop")
    values = {"watch": {"mode": "namespaces", "namespaces": [watched]}}
    release = f"chart-nsdel-{uuid.uuid4().hex[:6]}"
    helm.install(release, release_namespace, values)
    objects = helm.objects(release, release_namespace, values)
    account = chart.one(objects, "ServiceAccount")["metadata"]["name"]
    identity = service_account_kubeconfig(helm.kubeconfig, release_namespace, account, tmp_path / "identity")
    try:
        yield Namespaced(
            release=release,
            release_namespace=release_namespace,
            watched=watched,
            fullname=chart.one(chart.operator_rbac(objects), "ClusterRole")["metadata"]["name"],
            objects=objects,
            identity=identity,
            rbac=client.RbacAuthorizationV1Api(api_client),
        )
    finally:
        helm.uninstall(release, release_namespace)
        chart.delete_namespaces(core, custom, release_namespace, watched)


def namespace_exists(core: client.CoreV1Api, name: str) -> bool:
    try:
        core.read_namespace(name)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def active_trackers(trackers: Trackers, emulator: Emulator, count: int) -> list[str]:
    """`count` EventTrackers Active in the emulator; their ARNs."""
    for index in range(count):
        dataset_group = new_dataset_group(emulator, stem="nsdel")
        trackers.create(manifest(f"storefront-{index}", dataset_group, name=f"nsdel-{uuid.uuid4().hex[:8]}"))
    return [trackers.wait_phase(f"storefront-{i}", "Active", timeout=60)["eventTrackerArn"] for i in range(count)]


class TestDeletingAWatchedNamespace:
    """The namespace's RBAC outlives its EventTrackers: the namespace goes, and its trackers with it."""

    def test_a_namespace_with_three_active_trackers_is_deleted_and_leaves_no_tracker(
        self,
        namespaced: Namespaced,
        chart_emulator: Emulator,
        core: client.CoreV1Api,
        custom: client.CustomObjectsApi,
        tmp_path: Path,
    ) -> None:
        trackers = Trackers(custom=custom, core=core, namespace=namespaced.watched)
        operator = namespaced.operator(chart_emulator, tmp_path / "operator.log").start()
        try:
            arns = active_trackers(trackers, chart_emulator, 3)
            wait_for(
                lambda: FINALIZER in (namespaced.guarded() or []),
                timeout=30,
                what="RoleBinding guarded while EventTrackers exist",
            )

            started = time.monotonic()
            core.delete_namespace(namespaced.watched)
            wait_for(
                lambda: not namespace_exists(core, namespaced.watched),
                timeout=NAMESPACE_GONE_WITHIN,
                what=f"namespace {namespaced.watched} deleted",
            )
            print(f"\nnamespace with 3 Active trackers deleted in {time.monotonic() - started:.1f}s")

            assert [arn for arn in arns if chart_emulator.admin.tracker(arn=arn) is not None] == []
        finally:
            operator.stop()

    def test_the_guard_is_released_when_the_last_tracker_goes(
        self,
        namespaced: Namespaced,
        chart_emulator: Emulator,
        core: client.CoreV1Api,
        custom: client.CustomObjectsApi,
        tmp_path: Path,
    ) -> None:
        trackers = Trackers(custom=custom, core=core, namespace=namespaced.watched)
        operator = namespaced.operator(chart_emulator, tmp_path / "operator.log").start()
        try:
            active_trackers(trackers, chart_emulator, 1)
            wait_for(lambda: FINALIZER in (namespaced.guarded() or []), timeout=30, what="guarded")

            trackers.delete("storefront-0")
            trackers.wait_gone("storefront-0", timeout=60)

            wait_for(lambda: namespaced.guarded() == [], timeout=30, what="guard released with no EventTracker left")
        finally:
            operator.stop()


class TestUninstallAndUpgrade:
    """Neither helm uninstall (in the documented order) nor dropping a namespace leaves a RoleBinding stuck."""

    def test_uninstall_after_the_trackers_are_deleted_leaves_nothing(
        self,
        namespaced: Namespaced,
        helm: Helm,
        chart_emulator: Emulator,
        core: client.CoreV1Api,
        custom: client.CustomObjectsApi,
        tmp_path: Path,
    ) -> None:
        trackers = Trackers(custom=custom, core=core, namespace=namespaced.watched)
        operator = namespaced.operator(chart_emulator, tmp_path / "operator.log").start()
        try:
            active_trackers(trackers, chart_emulator, 1)
            wait_for(lambda: FINALIZER in (namespaced.guarded() or []), timeout=30, what="guarded")
            trackers.delete("storefront-0")
            trackers.wait_gone("storefront-0", timeout=60)

            helm.uninstall(namespaced.release, namespaced.release_namespace)

            wait_for(lambda: namespaced.guarded() is None, timeout=15, what="RoleBinding gone after uninstall")
        finally:
            operator.stop()

    def test_dropping_a_namespace_with_live_trackers_releases_its_binding_when_the_operator_restarts(
        self,
        namespaced: Namespaced,
        helm: Helm,
        chart_emulator: Emulator,
        core: client.CoreV1Api,
        custom: client.CustomObjectsApi,
        tmp_path: Path,
    ) -> None:
        trackers = Trackers(custom=custom, core=core, namespace=namespaced.watched)
        other = chart.new_namespace(core, "nsdel-other")
        operator = namespaced.operator(chart_emulator, tmp_path / "operator.log").start()
        arn = None
        try:
            (arn,) = active_trackers(trackers, chart_emulator, 1)
            wait_for(lambda: FINALIZER in (namespaced.guarded() or []), timeout=30, what="guarded")

            values = {"watch": {"mode": "namespaces", "namespaces": [other]}}
            helm.upgrade(namespaced.release, namespaced.release_namespace, values)
            assert FINALIZER in (namespaced.guarded() or []), "kept while the old operator still runs"
            operator.stop()  # in a cluster: the upgrade changes the pod's args, so the old pod gets SIGTERM

            wait_for(lambda: namespaced.guarded() is None, timeout=15, what="dropped namespace's RoleBinding gone")
            assert trackers.exists("storefront-0"), "an unwatched EventTracker is left alone"
        finally:
            operator.stop()
            if arn is not None:
                chart_emulator.admin.delete_out_of_band(arn)
            chart.delete_namespaces(core, custom, other)
