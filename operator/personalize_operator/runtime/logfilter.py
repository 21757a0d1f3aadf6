"""Keep the operator log honest: a scheduled re-check is not an error, and a watch event is not news.

kopf logs every TemporaryError at ERROR level; ours are the reconciler's
normal "come back in N seconds" (raised with a `requeue:` prefix), so they are
lowered to INFO. Real failures keep their level.

kopf also logs "Handler 'notice_changes' succeeded." at INFO for every watch
event of every EventTracker: lines that say nothing (the pass logs what it
did), some 1,300 in a burst of 200, and an eighth of the event loop's time
there (measured with py-spy). They are dropped; a failing event handler still
logs.
"""

from __future__ import annotations

import logging

REQUEUE_PREFIX = "requeue: "  # what the delete handler's TemporaryError messages start with
QUIET_HANDLERS = ("notice_changes", "follow_trackers")  # kopf event handlers, run on every watch event


class RequeueIsNotAnError(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and f"failed temporarily: {REQUEUE_PREFIX}" in record.getMessage():
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def is_event_handler_success(message: object) -> bool:
    """kopf's success line of one of our per-event handlers (kopf formats it before logging)."""
    return isinstance(message, str) and message in _SUCCESS_LINES


_SUCCESS_LINES = frozenset(f"Handler {name!r} succeeded." for name in QUIET_HANDLERS)


class EventHandlersAreQuiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and is_event_handler_success(record.msg))
