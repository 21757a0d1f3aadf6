"""The EventTracker objects themselves, read and status-patched with timeouts (the Kubernetes edge).

Every pass reads the object fresh (kopf's live body may lag
behind our own status writes) and writes status through the status
subresource, so the operator never touches spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from personalize_operator.api import names

REQUEST_TIMEOUT = 30.0


@dataclass
class TrackerObjects:
    custom: client.CustomObjectsApi
    timeout: float = REQUEST_TIMEOUT

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None once it is gone."""
        try:
            found: dict[str, Any] = self.custom.get_namespaced_custom_object(
                names.GROUP, names.VERSION, namespace, names.PLURAL, name, _request_timeout=self.timeout
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any] | None:
        """Merge-patch status; None when the object is gone meanwhile."""
        try:
            patched: dict[str, Any] = self.custom.patch_namespaced_custom_object_status(
                names.GROUP,
                names.VERSION,
                namespace,
                names.PLURAL,
                name,
                {"status": status},
                _request_timeout=self.timeout,
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return patched

    def annotate(self, namespace: str, name: str, annotations: dict[str, str | None]) -> None:
        """Merge-patch metadata.annotations (None removes a key); nothing when the object is gone meanwhile."""
        try:
            self.custom.patch_namespaced_custom_object(
                names.GROUP,
                names.VERSION,
                namespace,
                names.PLURAL,
                name,
                {"metadata": {"annotations": annotations}},
                _request_timeout=self.timeout,
            )
        except ApiException as error:
            if error.status != 404:
                raise

    def alive(self, namespace: str, name: str, uid: str) -> bool:
        """Does the EventTracker with this uid still exist? When we cannot tell, assume it does (the safe side)."""
        if not namespace or not name:
            return False
        try:
            found = self.read(namespace, name)
        except ApiException:
            return True
        return found is not None and (found.get("metadata") or {}).get("uid") == uid
