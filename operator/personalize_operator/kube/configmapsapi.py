"""The ConfigMap calls the operator makes, without kubernetes' CoreV1Api (kube/secretsapi.py says why).

The method names and arguments are CoreV1Api's, so the real class fits where a ConfigMapsApi is expected.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client import ApiClient, V1ConfigMap, V1ConfigMapList, V1Status

from personalize_operator.kube.secretsapi import _all, _one, raw_call

_PLURAL = "configmaps"


class ConfigMapsApi:
    """ConfigMaps in namespaces: read, create, replace, delete, list and watch."""

    def __init__(self, api_client: ApiClient | None = None) -> None:
        self.api_client = api_client or ApiClient()

    def read_namespaced_config_map(self, name: str, namespace: str, **options: Any) -> V1ConfigMap:
        return self._call("GET", _one(namespace, name, _PLURAL), "V1ConfigMap", options)

    def create_namespaced_config_map(self, namespace: str, body: Any, **options: Any) -> V1ConfigMap:
        return self._call("POST", _all(namespace, _PLURAL), "V1ConfigMap", options, body=body)

    def replace_namespaced_config_map(self, name: str, namespace: str, body: Any, **options: Any) -> V1ConfigMap:
        return self._call("PUT", _one(namespace, name, _PLURAL), "V1ConfigMap", options, body=body)

    def delete_namespaced_config_map(self, name: str, namespace: str, body: Any = None, **options: Any) -> V1Status:
        return self._call("DELETE", _one(namespace, name, _PLURAL), "V1Status", options, body=body)

    def list_namespaced_config_map(self, namespace: str, **options: Any) -> V1ConfigMapList:
        return self._call("GET", _all(namespace, _PLURAL), "V1ConfigMapList", options)

    def list_config_map_for_all_namespaces(self, **options: Any) -> V1ConfigMapList:
        return self._call("GET", f"/api/v1/{_PLURAL}", "V1ConfigMapList", options)

    def _call(self, method: str, path: str, returns: str, options: dict[str, Any], body: Any = None) -> Any:
        return raw_call(self.api_client, method, path, returns, options, body)
