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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    TRACKER_ARN_KEY,
    TRACKING_ID_KEY,
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


@dataclass(frozen=True)
class Shape:
    """What the spec says about the Secret besides its values: key names, the user's labels and annotations."""

    tracking_key: str = TRACKING_ID_KEY
    arn_key: str = TRACKER_ARN_KEY
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


DEFAULT_SHAPE = Shape()


@dataclass(frozen=True)
class SecretWrite:
    """What a write did: `written` something; `tracking_id_replaced`: an intact earlier trackingId of ours was
    replaced by another one (the moment workloads that read it once must restart)."""

    written: bool
    tracking_id_replaced: bool = False

    def __bool__(self) -> bool:
        return self.written


@dataclass(frozen=True)
class Calls:
    """The four calls on one kind of namespaced object, so Secret and ConfigMap share one read-then-write."""

    kind: str
    read: Callable[..., Any]
    create: Callable[..., Any]
    replace: Callable[..., Any]
    delete: Callable[..., Any]


def secret_calls(core: SecretsApi) -> Calls:
    """Looked up at call time, so an edge that only reads (a test's fake) still fits."""
    return Calls(
        "Secret",
        lambda *args, **kwargs: core.read_namespaced_secret(*args, **kwargs),
        lambda *args, **kwargs: core.create_namespaced_secret(*args, **kwargs),
        lambda *args, **kwargs: core.replace_namespaced_secret(*args, **kwargs),
        lambda *args, **kwargs: core.delete_namespaced_secret(*args, **kwargs),
    )


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def data_hash(data: Mapping[str, str]) -> str:
    """sha256 (hex) of the Secret's base64 `data` as compact JSON with sorted keys.

    Reproducible by hand: `kubectl get secret S -o json | jq -cjS .data | sha256sum`.
    """
    canonical = json.dumps(dict(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _decoded(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def tracking_id_replaced(
    previous_data: Mapping[str, str] | None, previous_annotations: Mapping[str, str] | None, tracking_id: str
) -> bool:
    """Did an intact Secret of ours hold another trackingId than the one written now? (pure)

    Intact: its data still matches the hash we wrote, so an edited or deleted Secret being healed, a first
    write and a renamed key (same value, another key) are never a change. Whatever the key names were, the
    old trackingId was one of the values: a change is when none of them is the new one.
    """
    if not previous_data or (previous_annotations or {}).get(DATA_HASH_ANNOTATION) != data_hash(previous_data):
        return False
    return tracking_id not in {_decoded(value) for value in previous_data.values()}


def owned_metadata(owner: Owner, kind: str, name: str, shape: Shape, annotations: Mapping[str, str]) -> dict[str, Any]:
    """An owned object's metadata: the user's labels and annotations, ours over them, our controller reference."""
    return {
        "name": name,
        "namespace": owner.namespace,
        "labels": {**shape.labels, **labels_for(owner)},
        "annotations": {**shape.annotations, **annotations},
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
    }


def labels_for(owner: Owner) -> dict[str, str]:
    """Our labels: managed-by and the owner's uid always; the owner's name only when it fits a label value."""
    labels = {**MANAGED_BY, OWNER_UID_LABEL: owner.uid}
    if len(owner.name) <= LABEL_VALUE_MAX:
        labels[OWNER_LABEL] = owner.name
    return labels


def render(owner: Owner, secret_name: str, tracking_id: str, arn: str, shape: Shape = DEFAULT_SHAPE) -> dict[str, Any]:
    """The Secret body (pure): the two values under the spec's key names, nothing else in data."""
    data = {shape.tracking_key: _b64(tracking_id), shape.arn_key: _b64(arn)}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": owned_metadata(owner, "Secret", secret_name, shape, {DATA_HASH_ANNOTATION: data_hash(data)}),
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


def merged(existing: Any, wanted: dict[str, Any]) -> Any:
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


def _failure(action: str, namespace: str, name: str, error: Exception, kind: str = "Secret") -> SecretError:
    if isinstance(error, ApiException):
        reason = str(error.reason or "").strip()
        return SecretError(
            f"{action} {kind} {name} failed: Kubernetes API answered {error.status} {reason}".rstrip(), error.status
        )
    return SecretError(f"{action} {kind} {name} failed: no answer from the Kubernetes API ({type(error).__name__})")


def _answer_or_none(action: str, calls: Calls, namespace: str, name: str, none_on: int, call: Callable[[], Any]) -> Any:
    """`call()`'s answer; None when the API answered `none_on` (404: absent, 409: exists); else SecretError."""
    try:
        return call()
    except ApiException as error:
        if error.status == none_on:
            return None
        raise _failure(action, namespace, name, error, calls.kind) from None
    except urllib3.exceptions.HTTPError as error:
        raise _failure(action, namespace, name, error, calls.kind) from None


def _read(calls: Calls, namespace: str, name: str) -> Any:
    return _answer_or_none(
        "reading", calls, namespace, name, 404, lambda: calls.read(name, namespace, _request_timeout=REQUEST_TIMEOUT)
    )


def _create_blind(calls: Calls, wanted: dict[str, Any]) -> SecretWrite | None:
    """A create without reading first (one request for a new resource's Secret); None when it already exists."""
    namespace, name = wanted["metadata"]["namespace"], wanted["metadata"]["name"]

    def create() -> SecretWrite:
        calls.create(namespace, wanted, _request_timeout=REQUEST_TIMEOUT)
        return SecretWrite(True)

    written: SecretWrite | None = _answer_or_none("writing", calls, namespace, name, 409, create)
    return written


def _write_once(
    calls: Calls, wanted: dict[str, Any], owner: Owner, conflict: type[Exception], tracking_id: str | None
) -> SecretWrite | None:
    """One read-then-write; None when the write lost a race (409) and should be tried again."""
    namespace, name = wanted["metadata"]["namespace"], wanted["metadata"]["name"]
    existing = _read(calls, namespace, name)
    try:
        if existing is None:
            calls.create(namespace, wanted, _request_timeout=REQUEST_TIMEOUT)
            return SecretWrite(True)
        if owner_uid(existing.metadata) != owner.uid:
            raise conflict(f"{calls.kind} {namespace}/{name} exists and is not controlled by this EventTracker")
        updated = merged(existing, wanted)
        if updated is None:
            return SecretWrite(False)
        # The body keeps the resourceVersion read above: the API server refuses (409) if anyone wrote since.
        calls.replace(name, namespace, updated, _request_timeout=REQUEST_TIMEOUT)
        replaced = tracking_id is not None and tracking_id_replaced(
            existing.data, existing.metadata.annotations, tracking_id
        )
        return SecretWrite(True, replaced)
    except ApiException as error:
        if error.status == 409:
            return None
        raise _failure("writing", namespace, name, error, calls.kind) from None
    except urllib3.exceptions.HTTPError as error:
        raise _failure("writing", namespace, name, error, calls.kind) from None


def apply(
    core: SecretsApi | Calls,
    wanted: dict[str, Any],
    owner: Owner,
    *,
    tracking_id: str | None = None,
    conflict: type[Exception] = SecretConflict,
    new: bool = False,
) -> SecretWrite:
    """Create or repair the object (a Secret unless `core` is another kind's Calls); truthy when written.

    `tracking_id`: the value being written, to tell whether it replaced another (SecretWrite).
    `new`: the object is most likely absent (decide.expects_new_secret): create it without reading first;
    one that exists (409) is then read and checked like any other.
    Raises `conflict` (not ours) or SecretError (the API failed or kept racing us).
    """
    calls = core if isinstance(core, Calls) else secret_calls(core)
    name = wanted["metadata"]["name"]
    if new and (created := _create_blind(calls, wanted)) is not None:
        return created
    for _ in range(CONFLICT_RETRIES):
        written = _write_once(calls, wanted, owner, conflict, tracking_id)
        if written is not None:
            return written
    raise SecretError(f"writing {calls.kind} {name} failed: it kept changing under us (409 Conflict)", 409)


def delete_if_ours(core: SecretsApi | Calls, namespace: str, name: str, owner: Owner) -> bool:
    """Delete an object this resource controls; leave anybody else's alone. True when ours was deleted."""
    calls = core if isinstance(core, Calls) else secret_calls(core)
    existing = _read(calls, namespace, name)
    if existing is None or owner_uid(existing.metadata) != owner.uid:
        return False
    # Preconditions: delete exactly the object checked above, not one recreated in between by someone else.
    preconditions = client.V1Preconditions(uid=existing.metadata.uid)
    try:
        calls.delete(
            name,
            namespace,
            body=client.V1DeleteOptions(preconditions=preconditions),
            _request_timeout=REQUEST_TIMEOUT,
        )
    except ApiException as error:
        if error.status in (404, 409):
            return error.status == 404
        raise _failure("deleting", namespace, name, error, calls.kind) from None
    except urllib3.exceptions.HTTPError as error:
        raise _failure("deleting", namespace, name, error, calls.kind) from None
    return True


@dataclass
class SecretStore:
    """The reconciler's Secret edge (reconcile.SecretEdge): SecretConflict or SecretError, never ApiException."""

    core: SecretsApi

    def write(
        self, owner: Owner, name: str, tracking_id: str, arn: str, shape: Shape = DEFAULT_SHAPE, *, new: bool = False
    ) -> SecretWrite:
        return apply(self.core, render(owner, name, tracking_id, arn, shape), owner, tracking_id=tracking_id, new=new)

    def remove(self, owner: Owner, name: str) -> bool:
        return delete_if_ours(self.core, owner.namespace, name, owner)


def secret_intact(secret: Any, uid: str, arn: str, shape: Shape = DEFAULT_SHAPE) -> bool:
    """Ours, its data unedited since we wrote it (the hash annotation), naming our tracker, under the spec's keys,
    with the spec's labels and annotations (pure)."""
    data: Mapping[str, str] = secret.data or {}
    annotations = secret.metadata.annotations or {}
    labels = getattr(secret.metadata, "labels", None) or {}
    named = _decoded(data.get(shape.arn_key, ""))
    return (
        owner_uid(secret.metadata) == uid
        and set(data) == {shape.tracking_key, shape.arn_key}
        and all(labels.get(k) == v for k, v in shape.labels.items())
        and all(annotations.get(k) == v for k, v in shape.annotations.items())
        and bool(data.get(shape.tracking_key))
        and annotations.get(DATA_HASH_ANNOTATION) == data_hash(data)
        and named == arn
    )
