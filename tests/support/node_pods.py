"""Shared by tests/node: the image the node runs, the installed release, finding the operator pod."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client

IMAGE = "localhost/personalize-operator:test"  # the tag tests/image builds too: podman reuses the layers


@dataclass(frozen=True)
class Release:
    """The chart installed on the node cluster, and the emulator's URL as pods see it."""

    name: str
    namespace: str
    emulator_url: str  # http://<Service ClusterIP>:80


def operator_pod(core: client.CoreV1Api, namespace: str, *, ready: bool = False) -> client.V1Pod | None:
    pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=personalize-operator").items
    for pod in pods:
        conditions = {c.type: c.status for c in pod.status.conditions or []}
        if not ready or conditions.get("Ready") == "True":
            return pod
    return None


@dataclass(frozen=True)
class NodeEnv:
    """A test's view of the node (tests/node/conftest.py `node_env`); `parts()` unpacks it in fixture order."""

    release: Release
    cluster: Any
    core: Any
    api: Any
    emulator: Any
    namespace: str

    def parts(self) -> tuple[Release, Any, Any, Any, Any, str]:
        return self.release, self.cluster, self.core, self.api, self.emulator, self.namespace
