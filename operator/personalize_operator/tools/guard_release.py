"""`personalize-operator release-rbac-guard`: take the RBAC guard's finalizer off the operator's RoleBindings.

Why: the chart runs it as a pre-delete hook (namespaces mode with the guard).
`helm uninstall` deletes the ServiceAccount and the ClusterRole right after the
Deployment, so the stopping operator, which would let go of its guarded
RoleBindings (rbac_guard.py), no longer has a token or a permission to do it,
and every RoleBinding of a namespace that still has EventTrackers stayed
Terminating. The hook runs before anything is deleted, as the operator's own
ServiceAccount (get and patch on those RoleBindings only). EventTrackers left
behind keep their finalizer; they hang on delete until an operator runs again
(docs/install.md#uninstall).
"""

from __future__ import annotations

from typing import Any

from personalize_operator.kube.rbac_guard import FINALIZER, Change, finalizer_patch

ATTEMPTS = 5
TIMEOUT = 30


def release(api: Any, role_binding: str, namespaces: list[str]) -> list[str]:
    """One line per namespace: released, not guarded, or absent. Raises when the API server refuses."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    rbac = client.RbacAuthorizationV1Api(api)
    lines = []
    for namespace in namespaces:
        for _ in range(ATTEMPTS):
            try:
                binding = rbac.read_namespaced_role_binding(role_binding, namespace, _request_timeout=TIMEOUT)
            except ApiException as error:
                if error.status != 404:
                    raise
                lines.append(f"{namespace}/{role_binding}: absent")
                break
            finalizers = list(binding.metadata.finalizers or [])
            if FINALIZER not in finalizers:
                lines.append(f"{namespace}/{role_binding}: not guarded")
                break
            patch = finalizer_patch(finalizers, binding.metadata.resource_version, Change.REMOVE)
            try:
                rbac.patch_namespaced_role_binding(role_binding, namespace, patch, _request_timeout=TIMEOUT)
            except ApiException as error:
                if error.status in (404, 409, 422):  # changed since read: read again
                    continue
                raise
            lines.append(f"{namespace}/{role_binding}: released")
            break
        else:
            raise RuntimeError(f"{namespace}/{role_binding}: still changing after {ATTEMPTS} attempts")
    return lines
