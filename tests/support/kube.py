"""Small Kubernetes set-up steps every suite repeats: namespaces and the CRD."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

from support.trackers import kubectl

CRD_NAME = "eventtrackers.personalize.operators.dev"


def install_crd(kubeconfig: Path, path: Path) -> str:
    """Server-side apply the CRD(s) at `path` (a file or folder) and wait until the EventTracker CRD is Established."""
    kubectl(kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(path))
    kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", f"crd/{CRD_NAME}")
    return CRD_NAME


def create_namespace(core: client.CoreV1Api, name: str, labels: dict[str, str] | None = None) -> str:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels)))
    return name


def delete_namespace(core: client.CoreV1Api, name: str) -> None:
    """Start deleting `name` without waiting; an already-missing namespace is fine."""
    try:
        core.delete_namespace(name)
    except ApiException as error:
        if error.status != 404:
            raise
