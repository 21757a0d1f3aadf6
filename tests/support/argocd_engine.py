"""Argo CD itself against the test cluster: Redis, the repo server and the application controller.

Why: the health check is proven in gopher-lua elsewhere; only Argo CD's own engine shows
what an Application syncing EventTrackers from Git reports (sync status, health, prune).
The binary comes from support.gitops_build (one `argocd` binary; ARGOCD_BINARY_NAME picks
the component, as the symlinks in Argo CD's image do). Argo CD's CRDs come from its module,
argocd-cm gets our health check with the kubectl command docs/argocd.md gives users.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from local_cluster.processes import free_port
from support.engine_processes import EngineProcesses
from support.gitops_build import build, module_dir
from support.trackers import REPO, kubectl
from support.wait import wait_for

GROUP, VERSION = "argoproj.io", "v1alpha1"
HEALTH_KEY = "resource.customizations.health.personalize.operators.dev_EventTracker"
HEALTH_LUA = REPO / "docs" / "argocd" / "health.lua"
SCRIPTS = ("git-verify-wrapper.sh", "gpg-wrapper.sh")
ARGOCD_LABELS = {"app.kubernetes.io/part-of": "argocd"}


def health_check_patch() -> str:
    """The merge patch docs/argocd.md tells users to give `kubectl patch configmap argocd-cm`."""
    return json.dumps({"data": {HEALTH_KEY: HEALTH_LUA.read_text()}})


def cluster_secret(kubeconfig: Path, namespace: str) -> client.V1Secret:
    """The test cluster registered as `argocd cluster add` does: a cluster Secret with its credentials.

    Why not the in-cluster destination (https://kubernetes.default.svc): outside a pod Argo CD
    cannot load an in-cluster configuration.
    """
    config = yaml.safe_load(kubeconfig.read_text())
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    tls = {"caData": cluster["certificate-authority-data"]}
    credentials: dict[str, Any] = {"tlsClientConfig": tls}
    if "token" in user:
        credentials["bearerToken"] = user["token"]
    else:
        tls.update(certData=user["client-certificate-data"], keyData=user["client-key-data"])
    return client.V1Secret(
        metadata=client.V1ObjectMeta(
            name="cluster-under-test", namespace=namespace, labels={"argocd.argoproj.io/secret-type": "cluster"}
        ),
        string_data={"name": "under-test", "server": cluster["server"], "config": json.dumps(credentials)},
    )


def application(name: str, namespace: str, repo_url: str, path: str, server: str) -> dict[str, Any]:
    """An Application like docs/argocd/application.yaml: automated sync with prune and self-heal.

    No resources-finalizer: deleting the Application after the test leaves the shared CRD alone.
    """
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "main", "path": path},
            "destination": {"server": server},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "retry": {"limit": 5, "backoff": {"duration": "2s", "factor": 2, "maxDuration": "20s"}},
            },
        },
    }


def default_project(namespace: str) -> dict[str, Any]:
    """The `default` AppProject Argo CD's API server would create (it is not run here)."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AppProject",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


@dataclass
class ArgoCD(EngineProcesses):
    """Argo CD's controller and repo server for one test module, in namespace `namespace`."""

    namespace: str = field(default_factory=lambda: f"argocd-{uuid.uuid4().hex[:6]}")
    server: str = ""  # the API server's URL, as the Applications' destination

    def __enter__(self) -> ArgoCD:
        binary = build("argocd")
        scripts = self.install_scripts()
        self.install_crds()
        self.create_namespace()
        self.install_settings()
        redis_port, repo_port = free_port(), free_port()
        self.start(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
            {},
        )
        common = ["--redis", f"127.0.0.1:{redis_port}", "--loglevel", "info", "--logformat", "text"]
        self.start(
            "repo-server",
            [
                str(binary),
                "--address",
                "127.0.0.1",
                "--port",
                str(repo_port),
                "--disable-tls",
                "--client-ca-path=",
                "--metrics-address",
                "127.0.0.1",
                "--metrics-port",
                str(free_port()),
                *common,
            ],
            {
                "ARGOCD_BINARY_NAME": "argocd-repo-server",
                "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}",
                "ARGOCD_GPG_ENABLED": "false",
                "ARGOCD_ASK_PASS_SOCK": str(self.workdir / "askpass.sock"),
                "TMPDIR": str(self.folder("repo-server-tmp")),
                "HOME": str(self.folder("repo-server-home")),
            },
        )
        self.start(
            "application-controller",
            [
                str(binary),
                f"--kubeconfig={self.kubeconfig}",
                "--namespace",
                self.namespace,
                "--repo-server",
                f"127.0.0.1:{repo_port}",
                "--repo-server-plaintext",
                "--metrics-port",
                str(free_port()),
                "--persist-resource-health",
                "--app-resync",
                "60",
                *common,
            ],
            {"ARGOCD_BINARY_NAME": "argocd-application-controller", "HOME": str(self.folder("controller-home"))},
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def install_scripts(self) -> Path:
        """The helper scripts Argo CD's image puts next to the binary (its Dockerfile copies them from hack/).

        The repo server runs git-verify-wrapper.sh on every revision it renders.
        """
        folder = self.folder("bin")
        for name in SCRIPTS:
            target = folder / name
            shutil.copyfile(module_dir("argocd") / "hack" / name, target)
            target.chmod(0o755)
        return folder

    def install_crds(self) -> None:
        crds = module_dir("argocd") / "manifests" / "crds"
        self.apply_crds(
            [crds / "application-crd.yaml", crds / "appproject-crd.yaml"],
            ["applications.argoproj.io", "appprojects.argoproj.io"],
        )

    def install_settings(self) -> None:
        """argocd-cm and argocd-secret as Argo CD's install.yaml ships them, then our health check."""
        meta = {"namespace": self.namespace, "labels": ARGOCD_LABELS}
        self.core.create_namespaced_config_map(
            self.namespace,
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name="argocd-cm", **meta)),
        )
        self.core.create_namespaced_secret(
            self.namespace,
            client.V1Secret(metadata=client.V1ObjectMeta(name="argocd-secret", **meta), type="Opaque"),
        )
        kubectl(
            self.kubeconfig,
            "-n",
            self.namespace,
            "patch",
            "configmap",
            "argocd-cm",
            "--type",
            "merge",
            "-p",
            health_check_patch(),
        )
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "appprojects", default_project(self.namespace)
        )
        secret = cluster_secret(self.kubeconfig, self.namespace)
        self.core.create_namespaced_secret(self.namespace, secret)
        self.server = secret.string_data["server"]

    # --- Applications ---------------------------------------------------------------------

    def create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, "applications", body)

    def get(self, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, "applications", name)

    def delete_application(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, "applications", name)

    def refresh(self, name: str, kind: str = "normal") -> dict[str, Any]:
        """Ask for a refresh as the UI and webhooks do (annotation); wait until the controller did it."""
        self.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            "applications",
            name,
            {"metadata": {"annotations": {"argocd.argoproj.io/refresh": kind}}},
        )

        def refreshed() -> dict[str, Any] | None:
            self.alive()
            app = self.get(name)
            annotations = app["metadata"].get("annotations") or {}
            return app if "argocd.argoproj.io/refresh" not in annotations else None

        return wait_for(refreshed, timeout=120, interval=0.5, what=f"Application {name} refreshed")

    def wait(self, name: str, predicate: Any, what: str, timeout: float = 180) -> dict[str, Any]:
        """The Application once `predicate(app)` holds."""

        def check() -> dict[str, Any] | None:
            self.alive()
            app = self.get(name)
            return app if predicate(app) else None

        return wait_for(check, timeout=timeout, interval=0.5, what=f"Application {name}: {what}")
