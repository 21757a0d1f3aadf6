"""The six Secret calls the operator makes, without kubernetes' CoreV1Api.

Why: since kubernetes 37 the first use of CoreV1Api builds pydantic validators for its hundreds of
methods, 22 MB of resident memory in every operator process for six calls (measured: an operator
on an empty namespace went from 98 to 77 MB; issue 11's budget is 150 MB with 1,000 EventTrackers). These go
through the same ApiClient (kubeconfig or service account, TLS, connection pool, timeouts), return
the same models, and raise the same ApiException, so callers and kubernetes' Watch cannot tell the
difference. The method names and arguments are CoreV1Api's, so the real class also fits where a
SecretsApi is expected (the test suite uses it that way).
"""

from __future__ import annotations

from typing import Any

from kubernetes.client import ApiClient, V1Secret, V1SecretList, V1Status

_AUTH = ["BearerToken"]
_JSON = {"Accept": "application/json", "Content-Type": "application/json"}
_QUERY = {  # the list options used here, by their Python names (CoreV1Api's) and their names on the wire
    "label_selector": "labelSelector",
    "limit": "limit",
    "_continue": "continue",
    "resource_version": "resourceVersion",
    "timeout_seconds": "timeoutSeconds",
    "watch": "watch",
    "allow_watch_bookmarks": "allowWatchBookmarks",
}


def raw_call(
    api_client: ApiClient,
    method: str,
    path: str,
    returns: str | None,
    options: dict[str, Any],
    body: Any = None,
    content_type: str = "application/json",
) -> Any:
    """One request through the ApiClient; with _preload_content=False the raw response, as kubernetes' Watch expects."""
    timeout = options.pop("_request_timeout", None)
    preload = options.pop("_preload_content", True)
    unknown = set(options) - set(_QUERY)
    if unknown:
        raise TypeError(f"unsupported option(s) for a raw call: {', '.join(sorted(unknown))}")
    query = [(_QUERY[key], value) for key, value in options.items() if value is not None]
    request = api_client.param_serialize(
        method=method,
        resource_path=path,
        query_params=query,
        header_params={**_JSON, "Content-Type": content_type},
        body=body,
        auth_settings=_AUTH,
    )
    response = api_client.call_api(*request, _request_timeout=timeout)
    if not preload and 200 <= response.status <= 299:
        return response.response
    response.read()
    if returns is None:
        # The answer's body is not wanted (a workload patch: its whole object): only errors raise.
        api_client.response_deserialize(response, {"2XX": "object"})
        return None
    return api_client.response_deserialize(response, {"2XX": returns}).data


class SecretsApi:
    """Secrets in namespaces: read, create, replace, delete, list and watch."""

    def __init__(self, api_client: ApiClient | None = None) -> None:
        self.api_client = api_client or ApiClient()

    def read_namespaced_secret(self, name: str, namespace: str, **options: Any) -> V1Secret:
        return self._call("GET", _one(namespace, name), "V1Secret", options)

    def create_namespaced_secret(self, namespace: str, body: Any, **options: Any) -> V1Secret:
        return self._call("POST", _all(namespace), "V1Secret", options, body=body)

    def replace_namespaced_secret(self, name: str, namespace: str, body: Any, **options: Any) -> V1Secret:
        return self._call("PUT", _one(namespace, name), "V1Secret", options, body=body)

    def delete_namespaced_secret(self, name: str, namespace: str, body: Any = None, **options: Any) -> V1Status:
        return self._call("DELETE", _one(namespace, name), "V1Status", options, body=body)

    def list_namespaced_secret(self, namespace: str, **options: Any) -> V1SecretList:
        return self._call("GET", _all(namespace), "V1SecretList", options)

    def list_secret_for_all_namespaces(self, **options: Any) -> V1SecretList:
        return self._call("GET", "/api/v1/secrets", "V1SecretList", options)

    def _call(self, method: str, path: str, returns: str, options: dict[str, Any], body: Any = None) -> Any:
        return raw_call(self.api_client, method, path, returns, options, body)


def _all(namespace: str, plural: str = "secrets") -> str:
    return f"/api/v1/namespaces/{segment(namespace)}/{plural}"


def _one(namespace: str, name: str, plural: str = "secrets") -> str:
    return f"{_all(namespace, plural)}/{segment(name)}"


def segment(value: str) -> str:
    """A name or namespace as one path segment (both are DNS names: no slash, never . or ..)."""
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"not a valid name or namespace: {value!r}")
    return value
