"""The per-resource gauges: one count per resource by phase and Ready reason, and no series left once forgotten."""

from __future__ import annotations

from prometheus_client import REGISTRY

from personalize_operator.runtime.resourcemetrics import Seen, TrackedResources

BY_PHASE = "personalize_operator_eventtrackers"
READY = "personalize_operator_eventtracker_ready"


def _ready(namespace: str, name: str) -> float | None:
    return REGISTRY.get_sample_value(READY, {"namespace": namespace, "name": name})


def _in(phase: str, reason: str) -> float | None:
    return REGISTRY.get_sample_value(BY_PHASE, {"phase": phase, "reason": reason})


def test_each_resource_counts_once_in_its_latest_state_and_leaves_no_series_when_forgotten() -> None:
    tracked = TrackedResources()
    tracked.record("u1", Seen("rm-shop", "a", "Creating", "Creating", ready=False))
    tracked.record("u2", Seen("rm-shop", "b", "Creating", "Creating", ready=False))
    tracked.record("u1", Seen("rm-shop", "a", "Creating", "Creating", ready=False))  # passed again: still one
    creating = _in("Creating", "Creating")
    tracked.record("u1", Seen("rm-shop", "a", "Active", "Active", ready=True))
    moved = (_in("Creating", "Creating"), _in("Active", "Active"), _ready("rm-shop", "a"), _ready("rm-shop", "b"))
    tracked.forget("u1")
    tracked.forget("u2")
    tracked.forget("u2")  # twice (the work queue, then the deletion's release): no harm

    assert creating == 2
    assert moved == (1, 1, 1, 0)
    assert (_in("Creating", "Creating"), _in("Active", "Active"), _ready("rm-shop", "a"), _ready("rm-shop", "b")) == (
        None,
        None,
        None,
        None,
    )
    assert len(tracked) == 0
