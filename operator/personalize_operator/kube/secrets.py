"""The tracking Secret: rendered from the tracker, applied only once it is ACTIVE.

The Secret's existence is the readiness gate for application pods, and its
trackingId is a write credential: this module never logs values and never
returns them to callers; its errors carry a status and a reason, never a body.

Ownership is the controller ownerReference's uid and nothing else: labels can
be copied by anyone with edit rights in the namespace, an ownerReference uid
cannot be guessed. A Secret that merely carries our labels is someone else's
(SecretConflict) and is left alone. Updates are read-modify-replace with the
resourceVersion read, so other controllers' labels, annotations,
ownerReferences and finalizers survive, and a concurrent write is detected
rather than overwritten.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from personalize_operator.api.names import (
    API_VERSION,
    DATA_HASH_ANNOTATION,
    GROUP,
    KIND,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    OWNER_LABEL,
    OWNER_UID_LABEL,
)
from personalize_operator.kube.secretsapi import SecretsApi

MANAGED_BY = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
LABEL_VALUE_MAX = 63

REQUEST_TIMEOUT = (5.0, 30.0)
CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class Owner:
    namespace: str
    name: str
    uid: str


class SecretError(Exception):
    """A Kubernetes call on the Secret failed; the message is safe to show (status and reason, never data).

    `status` is the HTTP status, None when the API did not answer. Retryable.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SecretConflict(Exception):
    """A Secret of that name exists and is not controlled by this EventTracker: never overwritten."""


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def data_hash(data: Mapping[str, str]) -> str:
    """sha256 (hex) of the Secret's base64 `data` as compact JSON with sorted keys.

    Reproducible by hand: `kubectl get secret S -o json | jq -cjS .data | sha256sum`.
    """
    canonical = json.dumps(dict(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def labels_for(owner: Owner) -> dict[str, str]:
    """Our labels: managed-by and the owner's uid always; the owner's name only when it fits a label value."""
    labels = {**MANAGED_BY, OWNER_UID_LABEL: owner.uid}
    if len(owner.name) <= LABEL_VALUE_MAX:
        labels[OWNER_LABEL] = owner.name
    return labels


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
            "labels": labels_for(owner),
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


def _field(obj: Any, snake: str, camel: str) -> Any:
    """A field of a kubernetes-client model or of a plain dict (kopf bodies, watch events)."""
    if isinstance(obj, Mapping):
        return obj.get(camel)
    return getattr(obj, snake, None)


def owner_uid(secret_metadata: Any) -> str | None:
    """The uid of the EventTracker that controls this Secret (its controller ownerReference), else None."""
    for ref in _field(secret_metadata, "owner_references", "ownerReferences") or []:
        api_version = _field(ref, "api_version", "apiVersion") or ""
        if (
            _field(ref, "controller", "controller")
            and _field(ref, "kind", "kind") == KIND
            and api_version.split("/", 1)[0] == GROUP
        ):
            return _field(ref, "uid", "uid")
    return None


def merged(existing: client.V1Secret, wanted: dict[str, Any]) -> client.V1Secret | None:
    """A copy of `existing` with our data, labels and annotations, all else kept; None when in line (pure)."""
    meta = wanted["metadata"]
    labels = {**(existing.metadata.labels or {}), **meta["labels"]}
    annotations = {**(existing.metadata.annotations or {}), **meta["annotations"]}
    current = (existing.data or {}, existing.metadata.labels or {}, existing.metadata.annotations or {})
    if current == (wanted["data"], labels, annotations):
        return None
    updated = copy.deepcopy(existing)
    updated.metadata.labels = labels
    updated.metadata.annotations = annotations
    updated.data = dict(wanted["data"])
    return updated


def _failure(action: str, namespace: str, name: str, error: Exception) -> SecretError:
    if isinstance(error, ApiException):
        reason = str(error.reason or "").strip()
        return SecretError(
            f"{action} Secret {name} failed: Kubernetes API answered {error.status} {reason}".rstrip(), error.status
        )
    return SecretError(f"{action} Secret {name} failed: no answer from the Kubernetes API ({type(error).__name__})")


def _read(core: SecretsApi, namespace: str, name: str) -> client.V1Secret | None:
    try:
        return core.read_namespaced_secret(name, namespace, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as error:
        if error.status == 404:
            return None
        raise _failure("reading", namespace, name, error) from None
    except urllib3.exceptions.HTTPError as error:
        raise _failure("reading", namespace, name, error) from None


def _write_once(core: SecretsApi, wanted: dict[str, Any], owner: Owner) -> bool | None:
    """One read-then-write; None when the write lost a race (409) and should be tried again."""
    namespace, name = wanted["metadata"]["namespace"], wanted["metadata"]["name"]
    existing = _read(core, namespace, name)
    try:
        if existing is None:
            core.create_namespaced_secret(namespace, wanted, _request_timeout=REQUEST_TIMEOUT)
            return True
        if owner_uid(existing.metadata) != owner.uid:
            raise SecretConflict(f"Secret {namespace}/{name} exists and is not controlled by this EventTracker")
        updated = merged(existing, wanted)
        if updated is None:
            return False
        # The body keeps the resourceVersion read above: the API server refuses (409) if anyone wrote since.
        core.replace_namespaced_secret(name, namespace, updated, _request_timeout=REQUEST_TIMEOUT)
        return True
    except ApiException as error:
        if error.status == 409:
            return None
        raise _failure("writing", namespace, name, error) from None
    except urllib3.exceptions.HTTPError as error:
        raise _failure("writing", namespace, name, error) from None


def apply(core: SecretsApi, wanted: dict[str, Any], owner: Owner) -> bool:
    """Create or repair the Secret; True when something was written.

    Raises SecretConflict (not ours) or SecretError (the API failed or kept racing us).
    """
    name = wanted["metadata"]["name"]
    for _ in range(CONFLICT_RETRIES):
        written = _write_once(core, wanted, owner)
        if written is not None:
            return written
    raise SecretError(f"writing Secret {name} failed: it kept changing under us (409 Conflict)", 409)


def delete_if_ours(core: SecretsApi, namespace: str, name: str, owner: Owner) -> bool:
    """Delete a Secret this resource controls; leave anybody else's alone. True when ours was deleted."""
    existing = _read(core, namespace, name)
    if existing is None or owner_uid(existing.metadata) != owner.uid:
        return False
    # Preconditions: delete exactly the object checked above, not one recreated in between by someone else.
    preconditions = client.V1Preconditions(uid=existing.metadata.uid)
    try:
        core.delete_namespaced_secret(
            name,
            namespace,
            body=client.V1DeleteOptions(preconditions=preconditions),
            _request_timeout=REQUEST_TIMEOUT,
        )
    except ApiException as error:
        if error.status in (404, 409):
            return error.status == 404
        raise _failure("deleting", namespace, name, error) from None
    except urllib3.exceptions.HTTPError as error:
        raise _failure("deleting", namespace, name, error) from None
    return True


@dataclass
class SecretStore:
    """The reconciler's Secret edge (reconcile.SecretEdge): SecretConflict or SecretError, never ApiException."""

    core: SecretsApi

    def write(self, owner: Owner, name: str, tracking_id: str, arn: str) -> bool:
        return apply(self.core, render(owner, name, tracking_id, arn), owner)

    def remove(self, owner: Owner, name: str) -> bool:
        return delete_if_ours(self.core, owner.namespace, name, owner)


def secret_intact(secret: Any, uid: str, arn: str) -> bool:
    """Ours, its data unedited since we wrote it (the hash annotation), and naming our tracker (pure)."""
    data: Mapping[str, str] = secret.data or {}
    annotations = secret.metadata.annotations or {}
    try:
        named = base64.b64decode(data.get("eventTrackerArn", "")).decode()
    except ValueError:
        return False
    return (
        owner_uid(secret.metadata) == uid
        and bool(data.get("trackingId"))
        and annotations.get(DATA_HASH_ANNOTATION) == data_hash(data)
        and named == arn
    )
