"""The tracking Secret: rendered from the tracker, applied only once it is ACTIVE.

The Secret's existence is the readiness gate for application pods, and its
trackingId is a write credential: this module never logs values and never
returns them to callers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

MANAGED_BY = {"app.kubernetes.io/managed-by": "personalize-operator"}
OWNER_LABEL = "personalize.operators.dev/event-tracker"
DATA_HASH_ANNOTATION = "personalize.operators.dev/data-hash"
# Server-side label selector for the Secrets this operator writes (the watch never sees anyone else's).
SECRET_SELECTOR = "app.kubernetes.io/managed-by=personalize-operator"
REQUEST_TIMEOUT = 30.0
API_VERSION = "personalize.operators.dev/v1alpha1"
KIND = "EventTracker"


@dataclass(frozen=True)
class Owner:
    namespace: str
    name: str
    uid: str


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def data_hash(data: Mapping[str, str]) -> str:
    """sha256 over the Secret's (base64) data: the annotation tools such as Reloader roll pods on."""
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()


def owner_uid(metadata: Any) -> str | None:
    """The uid of the controller ownerReference (a V1ObjectMeta or a dict), if any."""
    refs = metadata.get("ownerReferences") if isinstance(metadata, Mapping) else metadata.owner_references
    for ref in refs or []:
        controller = ref.get("controller") if isinstance(ref, Mapping) else ref.controller
        if controller:
            return str(ref.get("uid") if isinstance(ref, Mapping) else ref.uid)
    return None


def render(owner: Owner, secret_name: str, tracking_id: str, arn: str) -> dict[str, Any]:
    """The Secret body (pure)."""
    data = {"trackingId": _b64(tracking_id), "eventTrackerArn": _b64(arn)}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": secret_name,
            "namespace": owner.namespace,
            "labels": {**MANAGED_BY, OWNER_LABEL: owner.name},
            "annotations": {DATA_HASH_ANNOTATION: data_hash(data)},
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
        "data": data,
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
        or any((existing.metadata.annotations or {}).get(k) != v for k, v in meta["annotations"].items())
        or (meta["ownerReferences"][0]["uid"], True) not in refs
        or existing.type != "Opaque"
    )


class SecretConflict(Exception):
    """A Secret of that name exists and belongs to someone else: never overwritten."""


def apply(core: client.CoreV1Api, wanted: dict[str, Any], owner: Owner) -> bool:
    """Create or repair the Secret; returns True when something was written."""
    namespace, name = wanted["metadata"]["namespace"], wanted["metadata"]["name"]
    try:
        existing = core.read_namespaced_secret(name, namespace, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as error:
        if error.status != 404:
            raise
        core.create_namespaced_secret(namespace, wanted, _request_timeout=REQUEST_TIMEOUT)
        return True
    if not _is_ours(existing, owner) and (existing.metadata.labels or {}).get(OWNER_LABEL) != owner.name:
        raise SecretConflict(f"Secret {namespace}/{name} exists and is not managed by this EventTracker")
    if not needs_update(existing, wanted):
        return False
    wanted = {**wanted, "metadata": {**wanted["metadata"], "resourceVersion": existing.metadata.resource_version}}
    core.replace_namespaced_secret(name, namespace, wanted, _request_timeout=REQUEST_TIMEOUT)
    return True


def delete_if_ours(core: client.CoreV1Api, namespace: str, name: str, owner: Owner) -> bool:
    """Delete a Secret this resource owns; leave anybody else's alone."""
    try:
        existing = core.read_namespaced_secret(name, namespace, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    if not _is_ours(existing, owner):
        return False
    try:
        core.delete_namespaced_secret(name, namespace, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as error:
        if error.status != 404:
            raise
    return True


class SecretError(Exception):
    """Kubernetes refused or failed a Secret call; the message is safe to show (no data)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class SecretStore:
    """The reconciler's Secret edge: Kubernetes errors become SecretError here, at the boundary."""

    core: client.CoreV1Api

    def write(self, owner: Owner, name: str, tracking_id: str, arn: str) -> bool:
        try:
            return apply(self.core, render(owner, name, tracking_id, arn), owner)
        except ApiException as error:
            raise SecretError(
                f"writing Secret {name} failed: Kubernetes API answered {error.status} {error.reason}", error.status
            ) from None

    def remove(self, owner: Owner, name: str) -> bool:
        try:
            return delete_if_ours(self.core, owner.namespace, name, owner)
        except ApiException as error:
            raise SecretError(
                f"deleting Secret {name} failed: Kubernetes API answered {error.status} {error.reason}", error.status
            ) from None
