"""Which cluster this is: the identity that every tracker the operator creates or adopts carries.

Several clusters may share one AWS account (staging and production, blue/green
upgrades, one ApplicationSet for many clusters); the cluster tag is how each
knows its own trackers from the others'. The identity is the configured one,
else the ClusterProperty `cluster.clusterset.k8s.io` (KEP-2149) where that API
exists, else the uid of the `kube-system` namespace, which is stable for the
life of a cluster and new when a cluster is rebuilt.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

CLUSTER_PROPERTY_PATH = "/apis/about.k8s.io/v1alpha1/clusterproperties/cluster.clusterset.k8s.io"
KUBE_SYSTEM_PATH = "/api/v1/namespaces/kube-system"
REQUEST_TIMEOUT = (5.0, 30.0)


class ClusterIdentityError(RuntimeError):
    """The identity could not be learned: the operator must not start without one."""


def cluster_identity(api_client: ApiClient, configured: str) -> tuple[str, str]:
    """(identity, where it came from)."""
    if configured:
        return configured, "the setting PERSONALIZE_OPERATOR_CLUSTER_ID"
    prop = _get(api_client, CLUSTER_PROPERTY_PATH, required=False)
    value = str(((prop or {}).get("spec") or {}).get("value") or "")
    if value:
        return value, "the ClusterProperty cluster.clusterset.k8s.io"
    namespace = _get(api_client, KUBE_SYSTEM_PATH, required=True) or {}
    uid = str((namespace.get("metadata") or {}).get("uid") or "")
    if not uid:
        raise ClusterIdentityError("the kube-system namespace has no uid; set PERSONALIZE_OPERATOR_CLUSTER_ID")
    return uid, "the uid of the kube-system namespace"


def _get(api_client: ApiClient, path: str, *, required: bool) -> dict[str, Any] | None:
    """The object at `path`; None when absent (or, unless required, not readable)."""
    request = api_client.param_serialize(
        method="GET", resource_path=path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
    )
    try:
        response = api_client.call_api(*request, _request_timeout=REQUEST_TIMEOUT)
        response.read()
    except ApiException as error:
        raise ClusterIdentityError(f"cannot read {path}: {error.reason}") from error
    if 200 <= response.status <= 299:
        found: dict[str, Any] = json.loads(response.data or b"{}")
        return found
    if not required and response.status in (403, 404):
        return None
    raise ClusterIdentityError(
        f"cannot read {path} ({response.status}) to learn this cluster's identity: grant the operator get on it,"
        " or set PERSONALIZE_OPERATOR_CLUSTER_ID"
    )
