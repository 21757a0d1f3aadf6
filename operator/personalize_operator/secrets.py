"""The tracking Secret: rendered from the tracker, applied only once it is ACTIVE.

The Secret's existence is the readiness gate for application pods, and its
trackingId is a write credential: this module never logs values and never
returns them to callers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

MANAGED_BY = {"app.kubernetes.io/managed-by": "personalize-operator"}
OWNER_LABEL = "personalize.operators.dev/event-tracker"
API_VERSION = "personalize.operators.dev/v1alpha1"
KIND = "EventTracker"


@dataclass(frozen=True)
class Owner:
    namespace: str
    name: str
    uid: str


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def render(owner: Owner, secret_name: str, tracking_id: str, arn: str) -> dict[str, Any]:
    """The Secret body (pure)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": secret_name,
            "namespace": owner.namespace,
            "labels": {**MANAGED_BY, OWNER_LABEL: owner.name},
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": KIND,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "data": {"trackingId": _b64(tracking_id), "eventTrackerArn": _b64(arn)},
    }


def _is_ours(secret: Any, owner: Owner) -> bool:
    refs = secret.metadata.owner_references or []
    return any(ref.uid == owner.uid for ref in refs)


def needs_update(existing: Any, wanted: dict[str, Any]) -> bool:
    meta = wanted["metadata"]
    labels = existing.metadata.labels or {}
    refs = [(r.uid, bool(r.controller)) for r in existing.metadata.owner_references or []]
    return (
        (existing.data or {}) != wanted["data"]
        or any(labels.get(k) != v for k, v in meta["labels"].items())
        or (meta["ownerReferences"][0]["uid"], True) not in refs
        or existing.type != "Opaque"
    )


class SecretConflict(Exception):
    """A Secret of that name exists and belongs to someone else: never overwritten."""


def apply(core: client.CoreV1Api, wanted: dict[str, Any], owner: Owner) -> bool:
    """Create or repair the Secret; returns True when something was written."""
    namespace, name = wanted["metadata"]["namespace"], wanted["metadata"]["name"]
    try:
        existing = core.read_namespaced_secret(name, namespace)
    except ApiException as error:
        if error.status != 404:
            raise
        core.create_namespaced_secret(namespace, wanted)
        return True
    if not _is_ours(existing, owner) and (existing.metadata.labels or {}).get(OWNER_LABEL) != owner.name:
        raise SecretConflict(f"Secret {namespace}/{name} exists and is not managed by this EventTracker")
    if not needs_update(existing, wanted):
        return False
    wanted = {**wanted, "metadata": {**wanted["metadata"], "resourceVersion": existing.metadata.resource_version}}
    core.replace_namespaced_secret(name, namespace, wanted)
    return True


def delete_if_ours(core: client.CoreV1Api, namespace: str, name: str, owner: Owner) -> bool:
    """Delete a Secret this resource owns; leave anybody else's alone."""
    try:
        existing = core.read_namespaced_secret(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    if not _is_ours(existing, owner):
        return False
    try:
        core.delete_namespaced_secret(name, namespace)
    except ApiException as error:
        if error.status != 404:
            raise
    return True
