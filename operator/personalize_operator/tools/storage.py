"""`personalize-operator migrate-storage`: every stored EventTracker rewritten in the storage version, then
the CRD's status.storedVersions set to it alone.

Why: after the upgrade to v1beta1, objects written before stay encoded as
v1alpha1 in etcd, and the CRD lists both in status.storedVersions; v1alpha1
cannot be dropped from the CRD until neither holds. Kubernetes 1.37's
StorageVersionMigration API is beta and off by default (its controller too),
so this is the documented alternative: read every object and write it back
unchanged (the API server encodes a write in the storage version; an
unchanged spec does not bump generation or wake the operator), then patch
status.storedVersions. A write that loses to a concurrent one (409) is read
again and retried. Needs: list, update on eventtrackers in every namespace;
get, patch on customresourcedefinitions/status (cluster admin, once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personalize_operator.api import crd, names

ATTEMPTS = 5
PAGE = 200
TIMEOUT = 30


@dataclass(frozen=True)
class Migrated:
    rewritten: int
    gone: int  # deleted between the listing and the write
    stored_versions_before: list[str]
    stored_versions_after: list[str]


def stored_versions_patch(storage_version: str) -> dict[str, Any]:
    """The status patch that leaves only the storage version listed (pure)."""
    return {"status": {"storedVersions": [storage_version]}}


def _rewrite(custom: Any, namespace: str, name: str) -> bool:
    """Write the object back unchanged; False when it is gone."""
    from kubernetes.client.rest import ApiException

    for _ in range(ATTEMPTS):
        try:
            body = custom.get_namespaced_custom_object(
                names.GROUP, names.VERSION, namespace, names.PLURAL, name, _request_timeout=TIMEOUT
            )
            custom.replace_namespaced_custom_object(
                names.GROUP, names.VERSION, namespace, names.PLURAL, name, body, _request_timeout=TIMEOUT
            )
            return True
        except ApiException as error:
            if error.status == 404:
                return False
            if error.status != 409:
                raise
    raise RuntimeError(f"{namespace}/{name}: still changing after {ATTEMPTS} writes; run migrate-storage again")


def migrate(api: Any) -> Migrated:
    """Rewrite every EventTracker (page by page), then set storedVersions to the storage version."""
    from kubernetes import client

    custom, extensions = client.CustomObjectsApi(api), client.ApiextensionsV1Api(api)
    before = list(extensions.read_custom_resource_definition(crd.CRD_NAME).status.stored_versions or [])
    rewritten = gone = 0
    token: str | None = None
    while True:
        page = custom.list_cluster_custom_object(
            names.GROUP, names.VERSION, names.PLURAL, limit=PAGE, _continue=token, _request_timeout=TIMEOUT
        )
        for item in page["items"]:
            meta = item["metadata"]
            if _rewrite(custom, meta["namespace"], meta["name"]):
                rewritten += 1
            else:
                gone += 1
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            break
    extensions.patch_custom_resource_definition_status(
        crd.CRD_NAME, stored_versions_patch(names.VERSION), _request_timeout=TIMEOUT
    )
    after = list(extensions.read_custom_resource_definition(crd.CRD_NAME).status.stored_versions or [])
    return Migrated(rewritten=rewritten, gone=gone, stored_versions_before=before, stored_versions_after=after)
