"""Status rendering: phase, identity and the Ready / Synced conditions (pure).

Conditions follow metav1.Condition: lastTransitionTime only moves when the
condition's status flips, so `kubectl wait --for=condition=Ready` and humans
can tell how long a state has lasted.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

SYNC_OK = "ReconcileSuccess"
SYNC_ERROR = "ReconcileError"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def condition(kind: str, ok: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def merge(previous: Iterable[Mapping[str, Any]], updates: Iterable[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Replace conditions by type, keeping lastTransitionTime when the status did not change."""
    old = {c.get("type"): c for c in previous}
    merged: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in old.items() if k}
    for update in updates:
        before = old.get(update["type"])
        unchanged = before is not None and before.get("status") == update["status"]
        stamp = before.get("lastTransitionTime") if unchanged and before else None
        merged[update["type"]] = {**update, "lastTransitionTime": stamp or now}
    return [merged[k] for k in sorted(merged)]


def find(conditions: Iterable[Mapping[str, Any]], kind: str) -> Mapping[str, Any]:
    return next((c for c in conditions if c.get("type") == kind), {})
