"""EventTracker helpers for end-to-end tests: manifests, reads, waits, Events."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from support.wait import wait_for

GROUP, VERSION, PLURAL = "personalize.operators.dev", "v1beta1", "eventtrackers"
REPO = Path(__file__).resolve().parents[2]


def manifest(resource_name: str, dataset_group_arn: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "EventTracker",
        "metadata": {"name": resource_name},
        "spec": {"datasetGroupArn": dataset_group_arn, **spec},
    }


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


@dataclass
class Trackers:
    """EventTrackers of one namespace."""

    custom: client.CustomObjectsApi
    core: client.CoreV1Api
    namespace: str

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, body)

    def get(self, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)

    def patch(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name, body)

    def delete(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)

    def status(self, name: str) -> dict[str, Any]:
        return self.get(name).get("status") or {}

    def condition(self, name: str, kind: str) -> dict[str, Any]:
        return next((c for c in self.status(name).get("conditions") or [] if c["type"] == kind), {})

    def wait_phase(self, name: str, phase: str, timeout: float = 60, reason: str | None = None) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            status = self.status(name)
            ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
            if status.get("phase") == phase and (reason is None or ready.get("reason") == reason):
                return status
            return None

        return wait_for(reached, timeout=timeout, what=f"{self.namespace}/{name} phase {phase} ({reason or 'any'})")

    def wait_recreated(self, name: str, old_arn: str, *, timeout: float, what: str) -> str:
        """The ARN once status names a tracker other than `old_arn` and says Active (a tracker made again)."""

        def recreated() -> str | None:
            status = self.status(name)
            arn = status.get("eventTrackerArn")
            return str(arn) if arn and arn != old_arn and status.get("phase") == "Active" else None

        return wait_for(recreated, timeout=timeout, what=what)

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def wait_gone(self, name: str, timeout: float = 60) -> None:
        wait_for(lambda: not self.exists(name), timeout=timeout, what=f"{self.namespace}/{name} deleted")

    def secret(self, name: str) -> client.V1Secret | None:
        try:
            return self.core.read_namespaced_secret(name, self.namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def events(self, name: str) -> list[tuple[str, str, str]]:
        found = self.core.list_namespaced_event(self.namespace, field_selector=f"involvedObject.name={name}").items
        return [(e.type, e.reason, e.message or "") for e in found]
