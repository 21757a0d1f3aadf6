"""controller-runtime's work-queue and worker series for the one work queue (runtime/workqueue.py).

The Scheduler calls three hooks (added, started, finished); depth, active
workers and the running passes' ages are read at scrape time, so no gauge
can drift from the queue itself. Times are the scheduler's clock (the event
loop's), so due and start times compare.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from personalize_operator.runtime import metrics

_LABELS = (metrics.CONTROLLER, metrics.CONTROLLER)  # (controller, name): the queue is named after its controller


class QueueMetrics:
    """The work queue as controller-runtime reports a controller's: `waiting` counts passes due but not started."""

    def __init__(self, concurrency: int, *, clock: Callable[[], float], waiting: Callable[[], int]) -> None:
        self._clock = clock
        self._running: dict[str, float] = {}  # uid -> when its pass started
        self._lock = threading.Lock()  # read by the metrics server's thread
        metrics.MAX_CONCURRENT_RECONCILES.labels(metrics.CONTROLLER).set(concurrency)
        metrics.ACTIVE_WORKERS.labels(metrics.CONTROLLER).set_function(lambda: len(self._running))
        metrics.WORKQUEUE_DEPTH.labels(*_LABELS).set_function(waiting)
        metrics.WORKQUEUE_UNFINISHED_WORK.labels(*_LABELS).set_function(lambda: sum(self._ages(), 0.0))
        metrics.WORKQUEUE_LONGEST_RUNNING.labels(*_LABELS).set_function(lambda: max(self._ages(), default=0.0))

    def added(self) -> None:
        """A pass was put in the queue (a first pass, a requeue, a wake-up)."""
        metrics.WORKQUEUE_ADDS.labels(*_LABELS).inc()

    def started(self, uid: str, due: float) -> None:
        now = self._clock()
        metrics.WORKQUEUE_QUEUE_DURATION.labels(*_LABELS).observe(max(0.0, now - due))
        with self._lock:
            self._running[uid] = now

    def finished(self, uid: str) -> None:
        with self._lock:
            started = self._running.pop(uid, None)
        if started is not None:
            metrics.WORKQUEUE_WORK_DURATION.labels(*_LABELS).observe(max(0.0, self._clock() - started))

    def _ages(self) -> list[float]:
        now = self._clock()
        with self._lock:
            return [now - started for started in self._running.values()]
