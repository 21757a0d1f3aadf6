"""What the probes answer, from the heartbeats: table-tested, plus the hook into kopf's watch-stream.

Protects the promise of docs/install.md: liveness fails when the API server (or the leader's
watch) has been silent longer than its setting, and only then; readiness means "leader that
has listed, or standby that reaches the API server".
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from personalize_operator.runtime import health
from personalize_operator.runtime.health import Heartbeats, Role, assess

LIMITS = {"api_timeout": 60.0, "watch_timeout": 330.0}


@pytest.mark.parametrize(
    ("beats", "now", "live", "ready"),
    [
        pytest.param(Heartbeats(started=0), 10, True, False, id="starting-is-live-not-ready"),
        pytest.param(Heartbeats(started=0), 61, False, False, id="never-reached-the-api-server"),
        pytest.param(Heartbeats(started=0, api=100), 150, True, True, id="standby-in-touch-is-ready"),
        pytest.param(Heartbeats(started=0, api=100), 161, False, False, id="standby-cut-off"),
        pytest.param(Heartbeats(started=0, api=100, role=Role.LEADER), 110, True, False, id="leader-not-listed-yet"),
        pytest.param(Heartbeats(0, api=100, watch=100, role=Role.LEADER), 110, True, True, id="leader-serving"),
        pytest.param(Heartbeats(0, api=500, watch=100, role=Role.LEADER), 431, False, False, id="leader-watch-dead"),
        pytest.param(Heartbeats(0, api=100, watch=100, role=Role.STANDBY), 500, False, False, id="old-watch-no-api"),
    ],
)
def test_assess(beats: Heartbeats, now: float, live: bool, ready: bool) -> None:
    verdict = assess(beats, now, **LIMITS)
    assert (verdict.live, verdict.ready) == (live, ready), verdict.reasons
    assert verdict.live or verdict.reasons


def test_the_reason_names_the_silence_and_the_limit() -> None:
    (reason,) = assess(Heartbeats(started=0, api=0), 75, **LIMITS).reasons
    assert reason == "API server not reached for 75s (limit 60s)"


def test_every_item_of_kopf_s_watch_stream_is_a_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    from kopf._cogs.clients import watching

    async def stream(**_: Any) -> Any:
        for item in ("listed", "bookmark"):
            yield item

    monkeypatch.setattr(watching, "infinite_watch", stream)
    now = [0.0]
    probes = health.Health(api_timeout=60, watch_timeout=330, clock=lambda: now[0])
    assert health.record_watch_activity(probes) is True, "kopf moved its watch-stream: update health.py"

    async def consume(plural: str) -> list[str]:
        return [item async for item in watching.infinite_watch(resource=SimpleNamespace(plural=plural))]

    now[0] = 41.0
    assert asyncio.run(consume("customresourcedefinitions")) == ["listed", "bookmark"]
    assert probes.beats.watch is None, "kopf's scanning watches are not the EventTracker watch"
    now[0] = 42.0
    assert asyncio.run(consume("eventtrackers")) == ["listed", "bookmark"]
    assert probes.beats.watch == 42.0
