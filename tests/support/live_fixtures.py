"""Live EventTrackers turned into the health check's testdata fixtures (redacted, stable).

Why: Argo CD's reviewers ask for fixtures exported from a live cluster. The GitOps engine
tests export what the real API server held at each step; this module makes those objects
reproducible and safe to commit: fixed names, ARNs and timestamps, no uid, no
resourceVersion, no managedFields, no kopf or Argo CD bookkeeping, and never a trackingId.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_PREFIX = re.compile(r"arn:aws:personalize:[a-z0-9-]+:\d{12}:")
DATASET_GROUP = re.compile(r"(arn:aws:personalize:eu-west-1:111122223333:dataset-group/)[A-Za-z0-9_.-]+")
EVENT_TRACKER = re.compile(r"(arn:aws:personalize:eu-west-1:111122223333:event-tracker/)[A-Za-z0-9_.-]+")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
SINCE = "2025-01-01T10:00:00Z"
EXAMPLE_STATUS = {"accountId": "111122223333", "region": "eu-west-1"}
KEPT_ANNOTATIONS = "personalize.operators.dev/"
SECRET_KEYS = ("trackingId", "trackingID", "tracking_id")


class SecretInFixture(AssertionError):
    """A fixture would carry a trackingId: never written."""


def redact_text(text: str, names: dict[str, str]) -> str:
    """Example ARNs, then each live name (longest first) replaced by its example."""
    text = ACCOUNT_PREFIX.sub("arn:aws:personalize:eu-west-1:111122223333:", text)
    text = DATASET_GROUP.sub(r"\g<1>shop", text)
    text = EVENT_TRACKER.sub(r"\g<1>0f3c5e7a", text)
    for live in sorted(names, key=len, reverse=True):
        text = text.replace(live, names[live])
    return text


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in SECRET_KEYS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def redact(obj: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The fixture for one live EventTracker, in the layout of the existing testdata."""
    meta = obj["metadata"]
    metadata: dict[str, Any] = {"name": meta["name"], "namespace": meta["namespace"], "uid": "uid-1"}
    metadata["generation"] = meta.get("generation")
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k.startswith(KEPT_ANNOTATIONS)}
    if annotations:
        metadata["annotations"] = annotations
    if meta.get("deletionTimestamp"):
        metadata["deletionTimestamp"] = SINCE
    if meta.get("finalizers"):
        metadata["finalizers"] = list(meta["finalizers"])
    status = {k: v for k, v in (obj.get("status") or {}).items() if k != "kopf"}
    status.update({k: v for k, v in EXAMPLE_STATUS.items() if k in status})
    fixture = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": metadata, "spec": obj.get("spec")}
    if status:
        fixture["status"] = status
    text = TIMESTAMP.sub(SINCE, redact_text(json.dumps(_without_secrets(fixture)), names))
    redacted: dict[str, Any] = json.loads(text)
    if any(key in text for key in SECRET_KEYS):
        raise SecretInFixture(f"{meta['name']}: a trackingId key survived redaction")
    return redacted


def write(fixture: dict[str, Any], path: Path, source: str) -> None:
    """YAML as the existing testdata, with a comment saying where it came from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Exported from a live run ({source}); redacted by tests/support/live_fixtures.py.\n"
    path.write_text(header + yaml.safe_dump(fixture, sort_keys=False, width=100))
