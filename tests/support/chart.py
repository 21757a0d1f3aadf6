"""The Helm chart as tests drive it: the helm binary built from the Go module proxy, and rendered objects.

helm runs with its own config, cache and data folders under the test's
temporary directory, so tests never read or write the user's ~/.config/helm.
`helm template` gets `--kube-version` from the cluster under test: helm built
from source defaults to an old Kubernetes version otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from personalize_emulator.testing import Emulator
from personalize_operator.kube.rbac_guard import FINALIZER as GUARD_FINALIZER
from support.kube import create_namespace, delete_namespace
from support.trackers import GROUP, PLURAL, REPO, VERSION
from support.wait import wait_for

CHART = REPO / "charts" / "personalize-operator"
RBAC_KINDS = frozenset({"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"})
AGGREGATE_LABELS = frozenset(
    {
        "rbac.authorization.k8s.io/aggregate-to-admin",
        "rbac.authorization.k8s.io/aggregate-to-edit",
        "rbac.authorization.k8s.io/aggregate-to-view",
    }
)
SETTINGS_PREFIX = "PERSONALIZE_OPERATOR_"
LEADER_ELECTION = "leader-election"
# The shared test clusters have the CRD already (installed with kubectl from crds/, like a cluster whose CRD is
# managed outside Helm) and many releases at once: only a test that says otherwise lets a release own the CRD.
CRD_OUTSIDE_THE_RELEASE = {"crds": {"install": False}}


def with_crd_default(values: dict[str, Any]) -> dict[str, Any]:
    return values if "crds" in values else {**CRD_OUTSIDE_THE_RELEASE, **values}


class HelmFailed(AssertionError):
    """helm exited non-zero; the message carries its command line and stderr."""


@dataclass(frozen=True)
class Helm:
    binary: Path
    home: Path
    kubeconfig: Path
    kube_version: str
    node: bool = False  # a node runs pods: hook Jobs (the chart's pre-delete hook) can run

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_DATA_HOME": str(self.home / "data"),
            "KUBECONFIG": str(self.kubeconfig),
        }
        done = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )
        if check and done.returncode != 0:
            raise HelmFailed(f"helm {' '.join(args)} exited {done.returncode}:\n{done.stderr}{done.stdout}")
        return done

    def values_file(self, values: dict[str, Any]) -> Path:
        """Values as a file (JSON is YAML), so lists and maps need no --set escaping."""
        self.home.mkdir(parents=True, exist_ok=True)
        text = json.dumps(values, sort_keys=True)
        path = self.home / f"values-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
        path.write_text(text)
        return path

    def template(
        self,
        release: str,
        namespace: str,
        values: dict[str, Any],
        *,
        include_crds: bool = False,
        check: bool = True,
        api_versions: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        """`helm template`; api_versions: extra APIs .Capabilities claims (monitoring.coreos.com/v1/ServiceMonitor)."""
        args = ["template", release, str(CHART), "--namespace", namespace, "--kube-version", self.kube_version]
        args += ["--values", str(self.values_file(with_crd_default(values)))]
        args += [f"--api-versions={api}" for api in api_versions]
        if include_crds:
            args.append("--include-crds")
        return self.run(*args, check=check)

    def objects(
        self, release: str, namespace: str, values: dict[str, Any], api_versions: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The rendered objects (without the CRD), in helm's order."""
        text = self.template(release, namespace, values, api_versions=api_versions).stdout
        return [doc for doc in yaml.safe_load_all(text) if doc]

    def dry_run_install(self, release: str, namespace: str, values: dict[str, Any]) -> dict[str, Any]:
        """`helm install --dry-run=server`: .Capabilities from the cluster's discovery; the release as JSON."""
        values_file = str(self.values_file(with_crd_default(values)))
        args = ["install", release, str(CHART), "--namespace", namespace, "--values", values_file]
        release_json: dict[str, Any] = json.loads(self.run(*args, "--dry-run=server", "--output=json").stdout)
        return release_json

    def install(self, release: str, namespace: str, values: dict[str, Any]) -> str:
        """A real `helm install` (no --wait: no node runs the pod here); returns helm's output with NOTES."""
        values_file = str(self.values_file(with_crd_default(values)))
        return self.run("install", release, str(CHART), "--namespace", namespace, "--values", values_file).stdout

    def upgrade(self, release: str, namespace: str, values: dict[str, Any]) -> str:
        values_file = str(self.values_file(with_crd_default(values)))
        return self.run("upgrade", release, str(CHART), "--namespace", namespace, "--values", values_file).stdout

    def uninstall(self, release: str, namespace: str) -> None:
        """Without a node no hook Job could run: helm would wait for it until its timeout."""
        hooks = [] if self.node else ["--no-hooks"]
        self.run("uninstall", release, "--namespace", namespace, "--ignore-not-found", *hooks)


def of_kind(objects: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] in kinds]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = of_kind(objects, kind)
    return found


def is_aggregate(obj: dict[str, Any]) -> bool:
    """A ClusterRole for people (aggregated into admin/edit/view), not bound to the operator."""
    return bool(AGGREGATE_LABELS & set((obj["metadata"].get("labels") or {}).keys()))


def is_leader_election(obj: dict[str, Any]) -> bool:
    """The Role and RoleBinding for the leader-election Lease (in the release namespace)."""
    return (obj["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == LEADER_ELECTION


def is_cluster_identity(obj: dict[str, Any]) -> bool:
    """The ClusterRole and binding to read this cluster's identity (unless clusterId is set)."""
    return (obj["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "cluster-identity"


def operator_rbac(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The RBAC objects that give the operator its permissions on EventTrackers, Secrets and Events."""
    return [
        obj
        for obj in of_kind(objects, *RBAC_KINDS)
        if not is_aggregate(obj) and not is_leader_election(obj) and not is_cluster_identity(obj)
    ]


def leader_election_rbac(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [obj for obj in of_kind(objects, *RBAC_KINDS) if is_leader_election(obj)]


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (only,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return only


def watched_namespaces(objects: list[dict[str, Any]]) -> list[str]:
    """The --namespace flags of the rendered Deployment (empty: every namespace)."""
    return [arg.split("=", 1)[1] for arg in container(objects)["args"] if arg.startswith("--namespace=")]


def operator_settings_env(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The PERSONALIZE_OPERATOR_* variables of the rendered Deployment."""
    return {e["name"]: e["value"] for e in container(objects)["env"] if e["name"].startswith(SETTINGS_PREFIX)}


def new_namespace(core: client.CoreV1Api, stem: str, labels: dict[str, str] | None = None) -> str:
    """`solo-chart-<stem>-<random>`: the shared e2e operator ignores `solo-*` namespaces."""
    return create_namespace(core, f"solo-chart-{stem}-{uuid.uuid4().hex[:6]}", labels)


def abandon_trackers(custom: client.CustomObjectsApi, namespace: str) -> None:
    """Drop finalizers and delete what a test left behind, so its namespace can go without an operator."""
    try:
        items: list[dict[str, Any]] = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
    except ApiException as error:
        if error.status == 404:
            return
        raise
    for item in items:
        name = item["metadata"]["name"]
        try:
            custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name, {"metadata": {"finalizers": None}}
            )
            custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as error:
            if error.status != 404:
                raise
    wait_for(
        lambda: not custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"],
        timeout=30,
        what=f"EventTrackers in {namespace} gone",
    )


def release_rbac_guard(rbac: client.RbacAuthorizationV1Api, namespace: str) -> None:
    """Drop the operator's RBAC guard finalizer (rbac_guard.py), so a namespace can go without an operator."""
    for binding in rbac.list_namespaced_role_binding(namespace).items:
        finalizers = binding.metadata.finalizers or []
        if GUARD_FINALIZER in finalizers:
            kept = [name for name in finalizers if name != GUARD_FINALIZER]
            body = [{"op": "replace", "path": "/metadata/finalizers", "value": kept}]
            try:
                rbac.patch_namespaced_role_binding(binding.metadata.name, namespace, body)
            except ApiException as error:
                if error.status != 404:
                    raise


def delete_namespaces(core: client.CoreV1Api, custom: client.CustomObjectsApi, *names: str) -> None:
    rbac = client.RbacAuthorizationV1Api(core.api_client)
    for name in names:
        abandon_trackers(custom, name)
        release_rbac_guard(rbac, name)
        delete_namespace(core, name)


@dataclass(frozen=True)
class ChartEnv:
    """What a test that runs the operator under the chart's RBAC works with (the chart's CRD is installed)."""

    helm: Helm
    emulator: Emulator
    core: client.CoreV1Api
    custom: client.CustomObjectsApi
