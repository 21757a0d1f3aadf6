"""The operator's live /metrics, judged by Prometheus's own `promtool check metrics` (issue 25, acceptance 1).

A solo operator (its own emulator, /metrics on) brings one EventTracker to Active and creates and
deletes another; its /metrics, and a standby's, then go through promtool, built from the Prometheus Go module
(`make prometheus-tools`), which must report no problem at all. The same scrape must carry every
controller-runtime series of the metric contract (docs/observability.md), so dashboards and alerts
written for Go controllers find them, and the per-resource gauges must hold the kept resource only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support import prometheus_tools
from support.operator_process import OperatorProcess
from support.solo import Solo, new_dataset_group
from support.trackers import manifest

CONTROLLER = {"controller": "eventtracker"}
QUEUE = {"controller": "eventtracker", "name": "eventtracker"}
# Every controller-runtime series of the contract, with the labels it must carry here.
CONTROLLER_RUNTIME = [
    ("controller_runtime_reconcile_total", {**CONTROLLER, "result": "success"}),
    ("controller_runtime_reconcile_total", {**CONTROLLER, "result": "error"}),
    ("controller_runtime_reconcile_total", {**CONTROLLER, "result": "requeue"}),
    ("controller_runtime_reconcile_total", {**CONTROLLER, "result": "requeue_after"}),
    ("controller_runtime_reconcile_errors_total", CONTROLLER),
    ("controller_runtime_reconcile_time_seconds_count", CONTROLLER),
    ("controller_runtime_max_concurrent_reconciles", CONTROLLER),
    ("controller_runtime_active_workers", CONTROLLER),
    ("workqueue_depth", QUEUE),
    ("workqueue_adds_total", QUEUE),
    ("workqueue_queue_duration_seconds_count", QUEUE),
    ("workqueue_work_duration_seconds_count", QUEUE),
    ("workqueue_retries_total", QUEUE),
    ("workqueue_unfinished_work_seconds", QUEUE),
    ("workqueue_longest_running_processor_seconds", QUEUE),
]


@pytest.fixture(scope="module")
def promtool() -> Path:
    """promtool from `make prometheus-tools` (which `make test` runs first): missing is a failure, never a skip."""
    path = prometheus_tools.promtool_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"promtool is not built at {path}: run `make prometheus-tools`", pytrace=False)
    return path


def _value(samples: list[Any], name: str, labels: dict[str, str]) -> float | None:
    """The value of the one sample named `name` whose labels include `labels`; None when there is none."""
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, f"{name}{labels}: {len(found)} series"
    return found[0] if found else None


def _checked(promtool: Path, exposition: str) -> tuple[int, str]:
    """promtool check metrics on a scrape: its exit code and everything it printed."""
    done = subprocess.run(
        [str(promtool), "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout + done.stderr


def test_live_metrics_pass_promtool_and_carry_the_controller_runtime_series(
    promtool: Path, solo: Solo, tmp_path: Path
) -> None:
    group, gone_group = new_dataset_group(solo.emulator), new_dataset_group(solo.emulator)
    solo.trackers.create(manifest("kept", group))
    solo.trackers.create(manifest("gone", gone_group))
    solo.trackers.wait_phase("kept", "Active")
    solo.trackers.wait_phase("gone", "Active")
    solo.trackers.delete("gone")
    solo.trackers.wait_gone("gone")

    standby = OperatorProcess(
        kubeconfig=solo.operator.kubeconfig,
        endpoint=solo.emulator.endpoint,
        log=tmp_path / "standby.log",
        namespaces=[solo.namespace],
        lease_name=solo.operator.lease_name,
        metrics=True,
    ).start()
    try:
        standing_by = (_checked(promtool, standby.exposition()), standby.samples())
    finally:
        standby.stop()
    checked = _checked(promtool, solo.operator.exposition())
    samples = solo.operator.samples()

    assert checked == (0, "")
    assert standing_by[0] == (0, "")  # the chart scrapes every replica
    assert _value(standing_by[1], "leader_election_master_status", {"name": solo.operator.lease_name}) == 0
    assert [series for series in CONTROLLER_RUNTIME if _value(samples, *series) is None] == []
    assert not [s.name for s in samples if s.name.endswith("_created")]  # controller-runtime exposes none
    results = {
        r: _value(samples, "controller_runtime_reconcile_total", {**CONTROLLER, "result": r}) or 0
        for r in ("success", "requeue_after")
    }
    assert results["success"] >= 2 and results["requeue_after"] >= 2  # Active and released; creating and deleting
    assert _value(samples, "controller_runtime_reconcile_time_seconds_count", CONTROLLER) >= sum(results.values())
    assert _value(samples, "leader_election_master_status", {"name": solo.operator.lease_name}) == 1
    namespace = solo.namespace
    assert _value(samples, "personalize_operator_eventtracker_ready", {"namespace": namespace, "name": "kept"}) == 1
    assert _value(samples, "personalize_operator_eventtracker_ready", {"namespace": namespace, "name": "gone"}) is None
    assert _value(samples, "personalize_operator_eventtrackers", {"phase": "Active", "reason": "Active"}) == 1
    assert _value(samples, "personalize_operator_aws_call_duration_seconds_count", {"operation": "CreateEventTracker"})
    assert _value(samples, "personalize_operator_aws_call_budget_wait_seconds_count", {"region": solo.emulator.region})
    assert _value(samples, "personalize_operator_status_board_lists_total", {"region": solo.emulator.region})
