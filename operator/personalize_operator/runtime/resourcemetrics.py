"""The per-resource gauges: EventTrackers by phase and Ready reason, and each one's Ready as 1/0.

Fed from every pass's outcome (reconciler/passes.py) and kept per uid, so a
resource is counted once however often it passes; a forgotten resource (gone,
or released by its deletion) takes its series with it, so nothing stale is left
for an alert on `personalize_operator_eventtracker_ready == 0` to fire on.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from prometheus_client import Gauge

from personalize_operator.runtime import metrics


@dataclass(frozen=True)
class Seen:
    """One resource as its last pass left it."""

    namespace: str
    name: str
    phase: str
    reason: str
    ready: bool


class TrackedResources:
    """uid -> Seen, mirrored into the two gauges; thread safe (passes run in worker threads)."""

    def __init__(self) -> None:
        self._seen: dict[str, Seen] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, uid: str, seen: Seen) -> None:
        with self._lock:
            before = self._seen.get(uid)
            self._seen[uid] = seen
            if before is not None:
                self._count(before, -1)
                if (before.namespace, before.name) != (seen.namespace, seen.name):
                    self._drop_ready(before)
            self._count(seen, +1)
            metrics.EVENTTRACKER_READY.labels(seen.namespace, seen.name).set(1 if seen.ready else 0)

    def forget(self, uid: str) -> None:
        with self._lock:
            before = self._seen.pop(uid, None)
            if before is not None:
                self._count(before, -1)
                self._drop_ready(before)

    def _count(self, seen: Seen, step: int) -> None:
        key = (seen.phase, seen.reason)
        self._counts[key] += step
        if self._counts[key] > 0:
            metrics.EVENTTRACKERS.labels(*key).set(self._counts[key])
        else:  # no resource in that state any more: no series (phase/reason pairs stay few)
            del self._counts[key]
            _remove(metrics.EVENTTRACKERS, *key)

    @staticmethod
    def _drop_ready(seen: Seen) -> None:
        _remove(metrics.EVENTTRACKER_READY, seen.namespace, seen.name)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


def _remove(gauge: Gauge, *labels: str) -> None:
    gauge.remove(*labels)  # a label set never set is no error


TRACKED = TrackedResources()  # the process's one set (the work queue forgets into it)
