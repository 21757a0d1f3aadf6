"""Restarting a workload as `kubectl rollout restart` does: one strategic-merge patch of a pod-template annotation.

A raw call through the ApiClient (AppsV1Api costs 22 MB at first use, kube/secretsapi.py). The answer is
one of three plain results; only an unexpected failure raises, and its message carries status and reason.
"""

from __future__ import annotations

from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

from personalize_operator.api.names import RESTARTED_AT_ANNOTATION
from personalize_operator.api.names import RestartResult as Restart
from personalize_operator.kube.secrets import REQUEST_TIMEOUT, SecretError
from personalize_operator.kube.secretsapi import raw_call, segment

_PLURALS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
_STRATEGIC = "application/strategic-merge-patch+json"


def restart_patch(at: str) -> dict[str, Any]:
    """kubectl's own patch: a new restartedAt on the pod template starts a rollout (pure)."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: at}}}}}


class Workloads:
    """The reconciler's workload edge (reconcile.WorkloadRestarter)."""

    def __init__(self, api_client: ApiClient | None = None) -> None:
        self.api_client = api_client or ApiClient()

    def restart(self, namespace: str, kind: str, name: str, at: str) -> Restart:
        path = f"/apis/apps/v1/namespaces/{segment(namespace)}/{_PLURALS[kind]}/{segment(name)}"
        try:
            raw_call(
                self.api_client,
                "PATCH",
                path,
                None,
                {"_request_timeout": REQUEST_TIMEOUT},
                body=restart_patch(at),
                content_type=_STRATEGIC,
            )
        except ApiException as error:
            if error.status == 404:
                return Restart.MISSING
            if error.status == 403:
                return Restart.FORBIDDEN
            reason = str(error.reason or "").strip()
            raise SecretError(
                f"restarting {kind} {name} failed: Kubernetes API answered {error.status} {reason}".rstrip(),
                error.status,
            ) from None
        except urllib3.exceptions.HTTPError as error:
            raise SecretError(
                f"restarting {kind} {name} failed: no answer from the Kubernetes API ({type(error).__name__})"
            ) from None
        return Restart.RESTARTED
