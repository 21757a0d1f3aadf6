"""kopf is told to let idle per-object workers go soon and to list in pages (memory in bursts, issue 11)."""

from __future__ import annotations

import kopf

from personalize_operator import handlers


def test_bounds_are_applied_to_kopf() -> None:
    settings = kopf.OperatorSettings()
    assert settings.queueing.idle_timeout == 5.0 and settings.watching.chunk_size is None  # kopf's defaults

    handlers.bound_event_processing(settings)

    assert settings.queueing.idle_timeout == handlers.EVENT_WORKER_IDLE_SECONDS < 1
    assert settings.watching.chunk_size == handlers.LIST_CHUNK == 100


def test_workers_are_not_limited() -> None:
    """A limit would let that many deletions sleeping on AWS stop every other resource's events."""
    settings = kopf.OperatorSettings()
    handlers.bound_event_processing(settings)
    assert settings.queueing.worker_limit is None
