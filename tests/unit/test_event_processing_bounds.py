"""kopf is told to bound its per-object workers and list in pages (memory in bursts, issue 11)."""

from __future__ import annotations

import kopf
import pytest
from pydantic import ValidationError

from personalize_operator import handlers
from personalize_operator.settings import OperatorSettings


def test_bounds_are_applied_to_kopf() -> None:
    settings = kopf.OperatorSettings()
    assert settings.queueing.worker_limit is None and settings.watching.chunk_size is None  # kopf's defaults

    handlers.bound_event_processing(settings, 50)

    assert settings.queueing.worker_limit == 50
    assert settings.queueing.idle_timeout == handlers.EVENT_WORKER_IDLE_SECONDS < 1
    assert settings.watching.chunk_size == handlers.LIST_CHUNK == 100


def test_event_workers_default_and_range(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OperatorSettings().event_workers == 50
    monkeypatch.setenv("PERSONALIZE_OPERATOR_EVENT_WORKERS", "7")
    assert OperatorSettings().event_workers == 7
    with pytest.raises(ValidationError):
        OperatorSettings(event_workers=0)
