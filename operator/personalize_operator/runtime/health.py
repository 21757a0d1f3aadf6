"""Liveness and readiness that tell the truth, served before kopf starts (a standby runs no kopf).

kopf's own liveness endpoint answers 200 whenever its event loop runs: it only runs the
`@kopf.on.probe` handlers, and exists only once kopf runs, which a standby never does. So this
module serves both probes itself, from two heartbeats:

- the API server answered (every Lease read or renewal, every `retry_period`, in every role);
- the leader's EventTracker watch delivered something (an event, the end of a listing, or one
  of the bookmarks the API server sends about every minute).

`/healthz` is 503 when either has been silent for longer than its setting; `/readyz` is 200 for
a live standby that talks to the API server, and for a live leader once its watch has listed.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from personalize_operator.api import names
from personalize_operator.runtime import metrics

logger = logging.getLogger("personalize_operator.runtime.health")
READINESS_PATH = "/readyz"
WATCHED_PLURAL = names.PLURAL


class Role(enum.StrEnum):
    STANDBY = "standby"
    LEADER = "leader"


@dataclass(frozen=True)
class Verdict:
    live: bool
    ready: bool
    reasons: tuple[str, ...] = ()


@dataclass
class Heartbeats:
    """When each sign of life was last seen (monotonic seconds); None: not yet."""

    started: float
    api: float | None = None
    watch: float | None = None
    role: Role = Role.STANDBY


def assess(beats: Heartbeats, now: float, *, api_timeout: float, watch_timeout: float) -> Verdict:
    """Live unless the API server or the leader's watch has been silent too long; ready when live and serving."""
    reasons: list[str] = []
    api_silence = now - (beats.api if beats.api is not None else beats.started)
    if api_silence > api_timeout:
        reasons.append(f"API server not reached for {api_silence:.0f}s (limit {api_timeout:g}s)")
    if beats.role is Role.LEADER and beats.watch is not None and now - beats.watch > watch_timeout:
        reasons.append(f"EventTracker watch silent for {now - beats.watch:.0f}s (limit {watch_timeout:g}s)")
    live = not reasons
    serving = beats.api is not None and (beats.role is Role.STANDBY or beats.watch is not None)
    if live and not serving:
        reasons.append("waiting for the API server" if beats.api is None else "waiting for the first listing")
    return Verdict(live=live, ready=live and serving, reasons=tuple(reasons))


@dataclass
class Health:
    """The operator's heartbeats, recorded from any thread, and what the probes answer."""

    api_timeout: float
    watch_timeout: float
    identity: str = ""
    clock: Callable[[], float] = time.monotonic
    beats: Heartbeats = field(init=False)

    def __post_init__(self) -> None:
        self.beats = Heartbeats(started=self.clock())
        metrics.WATCH_HEALTHY.set_function(lambda: float(self.watch_healthy()))
        metrics.API_REACHABLE.set_function(lambda: float(self.api_reachable()))

    def watch_healthy(self) -> bool:
        beats = self.beats
        if beats.role is not Role.LEADER or beats.watch is None:
            return False
        return self.clock() - beats.watch <= self.watch_timeout

    def api_reachable(self) -> bool:
        return self.beats.api is not None and self.clock() - self.beats.api <= self.api_timeout

    def api_reached(self) -> None:
        self.beats.api = self.clock()

    def watch_alive(self) -> None:
        self.beats.watch = self.clock()
        metrics.WATCH_LAST_ACTIVITY.set_to_current_time()

    def leading(self) -> None:
        self.beats.role = Role.LEADER

    def verdict(self) -> Verdict:
        return assess(self.beats, self.clock(), api_timeout=self.api_timeout, watch_timeout=self.watch_timeout)

    def report(self) -> dict[str, Any]:
        verdict, now = self.verdict(), self.clock()
        return {
            "live": verdict.live,
            "ready": verdict.ready,
            "role": str(self.beats.role),
            "identity": self.identity,
            "reasons": list(verdict.reasons),
            "apiSilenceSeconds": None if self.beats.api is None else round(now - self.beats.api, 1),
            "watchSilenceSeconds": None if self.beats.watch is None else round(now - self.beats.watch, 1),
        }


def serve(health: Health, endpoint: str) -> ThreadingHTTPServer:
    """Serve `<path>` (liveness, e.g. /healthz) and /readyz on the endpoint's host and port, in a thread."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme != "http":
        raise ValueError(f"liveness endpoint must be http://host:port/path, not {endpoint!r}")
    liveness_path = parts.path or "/healthz"

    class Probes(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path not in (liveness_path, READINESS_PATH):
                self.send_error(404)
                return
            report = health.report()
            ok = report["live"] if path == liveness_path else report["ready"]
            body = json.dumps(report).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: not worth a line
            pass

    server = ThreadingHTTPServer((parts.hostname or "0.0.0.0", parts.port or 80), Probes)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    logger.info(f"serving liveness at {liveness_path} and readiness at {READINESS_PATH} on port {parts.port}")
    return server


def record_watch_activity(health: Health) -> bool:
    """Count every item kopf's watch-stream yields as a sign of life of the watch.

    kopf has no public hook for its watch-stream (BOOKMARK events stop before any handler), so
    this wraps `kopf._cogs.clients.watching.infinite_watch`, which kopf's queueing calls through
    the module attribute. If a kopf release moves it, this says so and the liveness falls back to
    the API server heartbeat alone (tests/unit/test_health.py fails first).
    """
    try:
        from kopf._cogs.clients import watching
    except ImportError:
        watching = None
    original = getattr(watching, "infinite_watch", None)
    if original is None:
        logger.warning("kopf's watch-stream was not found: liveness checks the API server only")
        return False
    if getattr(original, "_records_health", False):
        return True

    async def infinite_watch(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        ours = getattr(kwargs.get("resource"), "plural", None) == WATCHED_PLURAL  # not the CRD or namespace scans
        async for item in original(*args, **kwargs):
            if ours:
                health.watch_alive()
            yield item

    infinite_watch._records_health = True  # type: ignore[attr-defined]
    watching.infinite_watch = infinite_watch  # type: ignore[union-attr]
    return True


def keep_in_touch(health: Health, period: float) -> None:
    """Without leader election nothing reads the Lease: ask the API server its version every period instead."""
    from kubernetes import client, config

    config.load_config()
    version = client.VersionApi()

    def ping() -> None:
        while True:
            try:
                version.get_code(_request_timeout=max(1.0, period))
                health.api_reached()
            except Exception as error:
                logger.debug(f"API server not reached: {error}")
            time.sleep(period)

    threading.Thread(target=ping, name="api-ping", daemon=True).start()
