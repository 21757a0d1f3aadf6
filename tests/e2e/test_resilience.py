"""Throttling and crashes never produce a duplicate tracker."""

from __future__ import annotations

import signal

from support.solo import Solo, new_dataset_group
from support.trackers import manifest
from support.wait import wait_for


def test_ten_trackers_reach_active_under_fifty_percent_throttling(solo: Solo) -> None:
    groups = [new_dataset_group(solo.emulator, stem=f"busy{i}") for i in range(10)]
    solo.emulator.admin.seed(7)
    solo.emulator.admin.throttle(rate=0.5)
    for i, group in enumerate(groups):
        solo.trackers.create(manifest(f"busy-{i}", group))
    for i in range(10):
        solo.trackers.wait_phase(f"busy-{i}", "Active", timeout=180)
    solo.emulator.admin.clear_faults()
    trackers = solo.emulator.admin.trackers()
    assert len(trackers) == 10
    assert sorted(t["datasetGroupArn"] for t in trackers) == sorted(groups)


def test_operator_killed_between_create_and_status_write_adopts_its_tracker(solo: Solo) -> None:
    group = new_dataset_group(solo.emulator)
    # AWS creates the tracker but its answer comes 8 s late: the SIGKILL lands before the operator
    # learns the ARN, so it is never written to status.
    solo.emulator.admin.latency(8.0, operations=["CreateEventTracker"])
    solo.emulator.admin.reset_calls()
    solo.trackers.create(manifest("survivor", group))
    wait_for(
        lambda: solo.emulator.admin.calls().get("CreateEventTracker", 0) >= 1,
        timeout=30,
        what="CreateEventTracker answered",
    )
    assert solo.operator.process is not None
    solo.operator.process.send_signal(signal.SIGKILL)
    solo.operator.process.wait(timeout=10)
    assert not solo.trackers.status("survivor").get("eventTrackerArn"), "the kill must land before the status write"
    assert len(solo.emulator.admin.trackers()) == 1

    solo.emulator.admin.clear_faults()
    solo.restart_operator()
    status = solo.trackers.wait_phase("survivor", "Active", timeout=60)
    trackers = solo.emulator.admin.trackers()
    assert [t["arn"] for t in trackers] == [status["eventTrackerArn"]], "duplicate or lost tracker"
    assert solo.emulator.admin.calls().get("CreateEventTracker") == 1
