"""Kubeconfigs that authenticate as a ServiceAccount, for RBAC tests.

Why: proving least privilege needs requests that really are the
ServiceAccount's, so the token comes from the TokenRequest API rather than
from impersonation headers on the admin identity.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config
from kubernetes.client.rest import ApiException

from local_cluster import kubeconfig

TOKEN_SECONDS = 3600


def service_account_kubeconfig(admin_kubeconfig: Path, namespace: str, name: str, path: Path) -> Path:
    """Ensure ServiceAccount namespace/name exists and write a kubeconfig that is it."""
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(admin_kubeconfig)))
    try:
        api.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata={"name": name}))
    except ApiException as error:
        if error.status != 409:
            raise
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=TOKEN_SECONDS)
    )
    token = api.create_namespaced_service_account_token(name, namespace, request).status.token
    return kubeconfig.for_token(admin_kubeconfig, token, path, name=f"{namespace}-{name}")
