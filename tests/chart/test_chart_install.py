"""`helm install`, `helm upgrade` and `helm uninstall` against the real API server.

Protects the upgrade and uninstall sections of docs/install.md: an upgrade
that switches the watch mode swaps the ClusterRoleBinding for per-namespace
RoleBindings;
uninstall removes the operator's objects but never the CRD (kept by
helm.sh/resource-policy, or managed outside the release as here), so
EventTrackers survive it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from support import chart
from support.chart import Helm
from support.kube import CRD_NAME
from support.trackers import GROUP, PLURAL, VERSION, manifest


def gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


class TestInstallUpgradeUninstall:
    """A release moves between modes in place and leaves the CRD and the EventTrackers when it goes."""

    def test_upgrade_switches_modes_and_uninstall_keeps_the_crd_and_the_trackers(
        self,
        helm: Helm,
        chart_crd: str,
        core: client.CoreV1Api,
        custom: client.CustomObjectsApi,
        api_client: client.ApiClient,
    ) -> None:
        rbac, apps = client.RbacAuthorizationV1Api(api_client), client.AppsV1Api(api_client)
        extensions = client.ApiextensionsV1Api(api_client)
        release_namespace = chart.new_namespace(core, "upgrade-release")
        watched = chart.new_namespace(core, "upgrade-shop")
        release = f"chart-upgrade-{uuid.uuid4().hex[:6]}"
        cluster = {"watch": {"mode": "cluster", "namespaces": []}}
        namespaces = {"watch": {"mode": "namespaces", "namespaces": [watched]}}
        cluster_role = chart.one(chart.operator_rbac(helm.objects(release, release_namespace, cluster)), "ClusterRole")
        fullname = cluster_role["metadata"]["name"]
        try:
            notes = helm.install(release, release_namespace, cluster)
            assert "watches EventTrackers in every namespace" in notes
            assert rbac.read_cluster_role_binding(fullname).subjects[0].namespace == release_namespace

            notes = helm.upgrade(release, release_namespace, namespaces)
            assert f"watches EventTrackers only in: {watched}" in notes
            assert gone(lambda: rbac.read_cluster_role_binding(fullname))
            role_ref = rbac.read_namespaced_role_binding(fullname, watched).role_ref
            assert (role_ref.kind, role_ref.name) == ("ClusterRole", fullname)
            args = apps.read_namespaced_deployment(fullname, release_namespace).spec.template.spec.containers[0].args
            assert f"--namespace={watched}" in args

            tracker = manifest("survivor", "arn:aws:personalize:us-east-1:111122223333:dataset-group/survivor")
            custom.create_namespaced_custom_object(GROUP, VERSION, watched, PLURAL, tracker)
            helm.uninstall(release, release_namespace)

            assert gone(lambda: rbac.read_namespaced_role_binding(fullname, watched))
            assert gone(lambda: rbac.read_cluster_role(fullname))
            assert gone(lambda: apps.read_namespaced_deployment(fullname, release_namespace))
            assert gone(lambda: core.read_namespaced_service_account(fullname, release_namespace))
            assert extensions.read_custom_resource_definition(CRD_NAME).metadata.name == CRD_NAME
            assert custom.get_namespaced_custom_object(GROUP, VERSION, watched, PLURAL, "survivor")
        finally:
            helm.uninstall(release, release_namespace)
            chart.delete_namespaces(core, custom, release_namespace, watched)

    @pytest.mark.parametrize("mode", ["cluster", "namespaces"])
    def test_notes_say_how_to_check_the_operator_and_what_to_delete_first(self, helm: Helm, mode: str) -> None:
        values = {"watch": {"mode": mode, "namespaces": ["shop"] if mode == "namespaces" else []}}
        notes = helm.run(
            "install", "personalize-operator", str(chart.CHART), "--dry-run=server", "--namespace", "ops",
            "--values", str(helm.values_file(chart.with_crd_default(values))),
        ).stdout  # fmt: skip
        assert "rollout status deployment/personalize-operator" in notes
        assert "get lease personalize-operator" in notes
        assert "delete the EventTrackers" in notes
        assert "eks\\.amazonaws\\.com/role-arn" in notes
