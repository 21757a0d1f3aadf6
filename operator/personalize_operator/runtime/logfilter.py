"""Keep the operator log honest: a scheduled re-check is not an error.

kopf logs every TemporaryError at ERROR level; ours are the reconciler's
normal "come back in N seconds" (raised with a `requeue:` prefix), so they are
lowered to INFO. Real failures keep their level.
"""

from __future__ import annotations

import logging

REQUEUE_PREFIX = "requeue: "  # what the delete handler's TemporaryError messages start with


class RequeueIsNotAnError(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and f"failed temporarily: {REQUEUE_PREFIX}" in record.getMessage():
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True
