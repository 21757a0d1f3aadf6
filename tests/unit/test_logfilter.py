"""What the operator's log keeps of kopf's lines: scheduled re-checks at INFO, no per-event success lines."""

from __future__ import annotations

import logging

import pytest

from personalize_operator.runtime.logfilter import EventHandlersAreQuiet, RequeueIsNotAnError


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    ("message", "level", "kept"),
    [
        pytest.param("Handler 'notice_changes' succeeded.", logging.INFO, False, id="a watch event: dropped"),
        pytest.param("Handler 'follow_trackers' succeeded.", logging.INFO, False, id="the RBAC guard's: dropped"),
        pytest.param("Handler 'delete_tracker' succeeded.", logging.INFO, True, id="a deletion: kept"),
        pytest.param("Handler 'notice_changes' failed with an exception.", logging.ERROR, True, id="failures: kept"),
    ],
)
def test_event_handlers_are_quiet(message: str, level: int, kept: bool) -> None:
    assert EventHandlersAreQuiet().filter(record(message, level)) is kept


def test_a_requeue_is_logged_at_info_and_a_real_failure_keeps_its_level() -> None:
    requeue = record("Handler 'delete_tracker' failed temporarily: requeue: deleting", logging.ERROR)
    failure = record("Handler 'delete_tracker' failed temporarily: boom", logging.ERROR)
    assert RequeueIsNotAnError().filter(requeue) and requeue.levelno == logging.INFO
    assert RequeueIsNotAnError().filter(failure) and failure.levelno == logging.ERROR
