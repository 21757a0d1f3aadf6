"""Prometheus metrics: outbound AWS calls by operation and outcome, reconcile results, leadership and watch health."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

AWS_CALLS = Counter(
    "personalize_operator_aws_calls_total",
    "Calls to Amazon Personalize, by operation and outcome (Success or the AWS error code).",
    ["operation", "outcome"],
)
AWS_CALL_BUDGET = Gauge(
    "personalize_operator_aws_call_budget_rate",
    "Calls per second the adaptive call budget allows now, by region and account ('own': the operator's identity).",
    ["region", "account"],
)
RECONCILES = Counter(
    "personalize_operator_reconciles_total",
    "Reconcile passes, by the action decided and the result (the Ready reason the pass ended in).",
    ["action", "result"],
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
LEADER = Gauge(
    "personalize_operator_leader",
    "1 while this replica holds the leader-election Lease (and reconciles), 0 while it stands by.",
)
WATCH_HEALTHY = Gauge(
    "personalize_operator_watch_healthy",
    "1 while this replica's EventTracker watch is up (it leads, has listed, and is not silent past watch_timeout).",
)
WATCH_LAST_ACTIVITY = Gauge(
    "personalize_operator_watch_last_activity_timestamp_seconds",
    "Unix time of the last item (event, listing, bookmark) the EventTracker watch delivered.",
)
API_REACHABLE = Gauge(
    "personalize_operator_api_server_reachable",
    "1 while the API server has answered within liveness_timeout (the Lease is read every retry_period).",
)
TENANCY_RELOADS = Counter(
    "personalize_operator_tenancy_reloads_total",
    "Tenancy file reads that changed something, by outcome (loaded, or refused: the last good map stays).",
    ["outcome"],
)
CRD_OUTDATED = Gauge(
    "personalize_operator_crd_outdated",
    "1 when the served EventTracker CRD is older than this operator (or has another schema), checked at start-up.",
)
