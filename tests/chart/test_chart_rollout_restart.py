"""spec.rolloutRestartTargets under the chart's own identity, with and without rbac.rolloutRestart (issue 27).

The chart is installed for real and the operator runs with a token of its ServiceAccount (as in
test_chart_least_privilege.py), with a 5 s resync. A tracker deleted out of band comes back with a new
trackingId; with the value, the listed Deployment's pod template gets kubectl's restartedAt (once), the
unlisted one does not, a listed name that does not exist is an Event; without it, nothing may be patched, the
resource stays Active and its Ready and Synced messages say the restart was forbidden. (Pods rolling on a real
node: tests/node/test_consumers.py.) trackingIds are compared by hash.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from local_cluster import workloads
from local_cluster.identity import service_account_kubeconfig
from personalize_emulator.testing import Emulator
from support import chart
from support.chart import ChartEnv, Helm
from support.operator_process import OperatorProcess
from support.solo import new_dataset_group
from support.trackers import Trackers, manifest
from support.wait import stays, wait_for

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
WORKLOAD_PATCH = {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["patch"]}


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.mark.parametrize("mode", ["cluster", "namespaces"])
@pytest.mark.parametrize("allowed", [False, True])
def test_the_rendered_rbac_grants_workload_patch_only_with_the_value(helm: Helm, mode: str, allowed: bool) -> None:
    values = {"watch": {"mode": mode, "namespaces": ["shop"] if mode == "namespaces" else []}}
    values["rbac"] = {"rolloutRestart": allowed}
    objects = helm.objects("restart", "ops", values)
    rules = [rule for obj in chart.operator_rbac(objects) for rule in obj.get("rules") or []]
    patches_workloads = [rule for rule in rules if "apps" in rule["apiGroups"]]
    assert patches_workloads == ([WORKLOAD_PATCH] if allowed else [])


def restarted_at(apps: client.AppsV1Api, namespace: str, name: str) -> str | None:
    template = apps.read_namespaced_deployment(name, namespace).spec.template
    return (template.metadata.annotations or {}).get(RESTARTED_AT)


def tracking_hash(trackers: Trackers, secret: str) -> str:
    found = trackers.secret(secret)
    assert found is not None
    return sha256(base64.b64decode(found.data["trackingId"]).decode())


@pytest.fixture(params=[False, True], ids=["without-rbac.rolloutRestart", "with-rbac.rolloutRestart"])
def installed(
    request: pytest.FixtureRequest, chart_env: ChartEnv, tmp_path: Path
) -> Iterator[tuple[bool, Trackers, OperatorProcess]]:
    helm, chart_emulator, core, custom = chart_env.helm, chart_env.emulator, chart_env.core, chart_env.custom
    allowed: bool = request.param
    release_namespace = chart.new_namespace(core, "restart-release")
    namespace = chart.new_namespace(core, "restart-shop")
    values = {"watch": {"mode": "cluster", "namespaces": []}, "rbac": {"rolloutRestart": allowed}}
    release = f"restart-{uuid.uuid4().hex[:6]}"
    helm.install(release, release_namespace, values)
    objects = helm.objects(release, release_namespace, values)
    account = chart.one(objects, "ServiceAccount")["metadata"]["name"]
    identity = service_account_kubeconfig(helm.kubeconfig, release_namespace, account, tmp_path / "kubeconfig")
    operator = OperatorProcess(
        kubeconfig=identity,
        endpoint=chart_emulator.endpoint,
        log=tmp_path / "operator.log",
        namespaces=[namespace],
        extra_env={**chart.operator_settings_env(objects), "PERSONALIZE_OPERATOR_RESYNC_SECONDS": "5"},
    ).start()
    try:
        yield allowed, Trackers(custom=custom, core=core, namespace=namespace), operator
    finally:
        operator.stop()
        helm.uninstall(release, release_namespace)
        chart.delete_namespaces(core, custom, release_namespace, namespace)


def test_a_new_tracking_id_restarts_the_listed_deployment_or_says_it_was_forbidden(
    installed: tuple[bool, Trackers, OperatorProcess], chart_emulator: Emulator
) -> None:
    allowed, trackers, operator = installed
    apps = client.AppsV1Api(trackers.core.api_client)
    for name in ("web", "bystander"):
        apps.create_namespaced_deployment(trackers.namespace, workloads.deployment(name, {"name": "c", "image": "app"}))
    targets = [{"kind": "Deployment", "name": "web"}, {"kind": "Deployment", "name": "not-there"}]
    group = new_dataset_group(chart_emulator, stem="restart")
    trackers.create(
        manifest("storefront", group, name=f"storefront-{uuid.uuid4().hex[:8]}", rolloutRestartTargets=targets)
    )
    first = trackers.wait_phase("storefront", "Active", timeout=60)
    before = tracking_hash(trackers, "storefront-tracking")
    stays(
        lambda: restarted_at(apps, trackers.namespace, "web") is None, seconds=6, what="no restart on the first write"
    )

    chart_emulator.admin.delete_out_of_band(first["eventTrackerArn"])
    wait_for(
        lambda: tracking_hash(trackers, "storefront-tracking") != before, timeout=60, what="a new trackingId written"
    )
    remote = chart_emulator.admin.tracker(arn=trackers.status("storefront")["eventTrackerArn"])
    assert remote is not None and tracking_hash(trackers, "storefront-tracking") == sha256(remote["trackingId"])

    if allowed:
        stamp = wait_for(lambda: restarted_at(apps, trackers.namespace, "web"), timeout=30, what="web restarted")
        wait_for(
            lambda: (
                {"RolloutRestarted", "RolloutRestartTargetNotFound"}
                <= {reason for _, reason, _ in trackers.events("storefront")}
            ),
            timeout=30,
            what="restart and not-found Events",
        )
        stays(
            lambda: restarted_at(apps, trackers.namespace, "web") == stamp, seconds=12, what="restarted once per change"
        )
        assert trackers.status("storefront")["phase"] == "Active"
        assert trackers.condition("storefront", "Synced")["status"] == "True"
    else:
        ready = wait_for(
            lambda: (c := trackers.condition("storefront", "Ready")) and "forbidden" in c.get("message", "") and c,
            timeout=30,
            what="Ready says the restart was forbidden",
        )
        assert ready["status"] == "True" and trackers.status("storefront")["phase"] == "Active"
        synced = trackers.condition("storefront", "Synced")
        assert synced["status"] == "False" and "forbidden" in synced["message"], synced
        assert "rbac.rolloutRestart" in ready["message"]
        wait_for(
            lambda: "RolloutRestartForbidden" in {reason for _, reason, _ in trackers.events("storefront")},
            timeout=30,
            what="a RolloutRestartForbidden Event",
        )
        assert restarted_at(apps, trackers.namespace, "web") is None
    assert restarted_at(apps, trackers.namespace, "bystander") is None
    assert before not in operator.output()
