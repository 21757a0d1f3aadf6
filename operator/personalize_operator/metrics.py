"""Prometheus metrics: outbound AWS calls by operation and outcome, reconcile results."""

from __future__ import annotations

from prometheus_client import Counter

AWS_CALLS = Counter(
    "personalize_operator_aws_calls_total",
    "Calls to Amazon Personalize, by operation and outcome (Success or the AWS error code).",
    ["operation", "outcome"],
)
RECONCILES = Counter(
    "personalize_operator_reconciles_total",
    "Reconcile passes, by the action decided.",
    ["action"],
)
WATCH_ERRORS = Counter(
    "personalize_operator_watch_errors_total",
    "Watches of the operator's own (non-kopf) streams that failed and were restarted, by watch.",
    ["watch"],
)
SECRET_WAKEUPS = Counter(
    "personalize_operator_secret_wakeups_total",
    "EventTrackers woken because their Secret was deleted or its data edited.",
)
