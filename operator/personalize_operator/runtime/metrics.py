"""Prometheus metrics: controller-runtime's reconcile, work-queue and leader-election series, and ours.

controller-runtime's names and labels (controller="eventtracker") let dashboards and alerts written for
Go controllers (Grafana dashboard 15920, the kubebuilder plugin) read this operator unchanged; ours
(personalize_operator_*) say what only this operator knows: AWS calls, call budget, resources by phase.
docs/observability.md lists every one. No `_created` series: controller-runtime exposes none.
"""

from __future__ import annotations

from enum import StrEnum

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram

prometheus_client.disable_created_metrics()

CONTROLLER = "eventtracker"  # the `controller` label (and the work queue's `name`), as controller-runtime names it


class ReconcileResult(StrEnum):
    """controller_runtime_reconcile_total's `result` (reconciler/outcome.py says which pass end is which)."""

    SUCCESS = "success"
    ERROR = "error"
    REQUEUE = "requeue"
    REQUEUE_AFTER = "requeue_after"


# controller-runtime's buckets (pkg/internal/controller/metrics) and client-go's work-queue buckets.
RECONCILE_BUCKETS = (
    *(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    *(1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60),
)
QUEUE_BUCKETS = tuple(1e-8 * 10**power for power in range(10))  # 10 ns .. 10 s, as client-go's ExponentialBuckets
AWS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total",
    "Total number of reconciliations per controller (result: success, error, requeue, requeue_after).",
    ["controller", "result"],
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller.", ["controller"]
)
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Length of time per reconciliation per controller.",
    ["controller"],
    buckets=RECONCILE_BUCKETS,
)
MAX_CONCURRENT_RECONCILES = Gauge(
    "controller_runtime_max_concurrent_reconciles",
    "Maximum number of concurrent reconciles per controller.",
    ["controller"],
)
ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers", "Number of currently used workers per controller.", ["controller"]
)
WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue.", ["controller", "name"])
WORKQUEUE_ADDS = Counter("workqueue_adds_total", "Total number of adds handled by workqueue.", ["controller", "name"])
WORKQUEUE_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested.",
    ["controller", "name"],
    buckets=QUEUE_BUCKETS,
)
WORKQUEUE_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes.",
    ["controller", "name"],
    buckets=QUEUE_BUCKETS,
)
WORKQUEUE_RETRIES = Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue.", ["controller", "name"]
)
WORKQUEUE_UNFINISHED_WORK = Gauge(
    "workqueue_unfinished_work_seconds",
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration.",
    ["controller", "name"],
)
WORKQUEUE_LONGEST_RUNNING = Gauge(
    "workqueue_longest_running_processor_seconds",
    "How many seconds has the longest running processor for workqueue been running.",
    ["controller", "name"],
)
LEADER_ELECTION_MASTER_STATUS = Gauge(
    "leader_election_master_status",
    "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
    ["name"],
)

AWS_CALL_DURATION = Histogram(
    "personalize_operator_aws_call_duration_seconds",
    "Time an AWS call took, botocore's retries and the wait for the call budget included, by operation.",
    ["operation"],
    buckets=AWS_BUCKETS,
)
AWS_CALL_BUDGET_WAIT = Histogram(
    "personalize_operator_aws_call_budget_wait_seconds",
    "Time each AWS request attempt waited for a token of its account and region's call budget, by region.",
    ["region"],
    buckets=AWS_BUCKETS,
)
ASSUME_ROLE_FAILURES = Counter(
    "personalize_operator_assume_role_failures_total",
    "STS AssumeRole calls for a tenancy role that failed, by role and error code.",
    ["role_arn", "code"],
)
STATUS_BOARD_LISTS = Counter(
    "personalize_operator_status_board_lists_total",
    "ListEventTrackers pages the status boards read, by region.",
    ["region"],
)
EVENTTRACKERS = Gauge(
    "personalize_operator_eventtrackers",
    "EventTrackers this replica tracks, by phase and Ready reason (as their last pass left them).",
    ["phase", "reason"],
)
EVENTTRACKER_READY = Gauge(
    "personalize_operator_eventtracker_ready",
    "1 while the EventTracker's Ready condition is True, 0 while False (as its last pass left it).",
    ["namespace", "name"],
)

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


def _initialise() -> None:
    """Every controller-runtime series exists from the start, at 0, as controller-runtime does (initMetrics)."""
    for result in ReconcileResult:
        RECONCILE_TOTAL.labels(CONTROLLER, result)
    RECONCILE_ERRORS.labels(CONTROLLER)
    RECONCILE_TIME.labels(CONTROLLER)
    ACTIVE_WORKERS.labels(CONTROLLER)
    for family in (WORKQUEUE_DEPTH, WORKQUEUE_ADDS, WORKQUEUE_QUEUE_DURATION, WORKQUEUE_WORK_DURATION):
        family.labels(CONTROLLER, CONTROLLER)
    for family in (WORKQUEUE_RETRIES, WORKQUEUE_UNFINISHED_WORK, WORKQUEUE_LONGEST_RUNNING):
        family.labels(CONTROLLER, CONTROLLER)


_initialise()
