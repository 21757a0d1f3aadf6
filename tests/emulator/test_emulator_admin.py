"""The /_emulator/ control API through `EmulatorAdmin`, as the operator's e2e tests will use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from personalize_emulator.admin_client import AdminError
from personalize_emulator.testing import Emulator

Unique = Callable[[str], str]


def test_state_shows_groups_trackers_tags_and_tracking_ids(
    personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
) -> None:
    name = unique("t")
    created = personalize.create_event_tracker(
        name=name, datasetGroupArn=dataset_group, tags=[{"tagKey": "owner", "tagValue": "me"}]
    )
    state = emulator.admin.state()
    assert [g["arn"] for g in state["datasetGroups"]] == [dataset_group]
    (tracker,) = state["eventTrackers"]
    assert tracker | {"trackingId": "<hidden>"} == tracker | {
        "name": name,
        "arn": created["eventTrackerArn"],
        "datasetGroupArn": dataset_group,
        "status": "ACTIVE",
        "tags": {"owner": "me"},
        "accountId": "123456789012",
        "region": "us-east-1",
        "eventsReceived": 0,
        "trackingId": "<hidden>",
    }
    assert tracker["trackingId"] == created["trackingId"]
    assert emulator.admin.tracker(name=name) == tracker


def test_calls_are_counted_per_operation_and_can_be_reset(personalize: Any, emulator: Emulator) -> None:
    personalize.list_dataset_groups()
    personalize.list_dataset_groups()
    personalize.list_event_trackers()
    assert emulator.admin.calls() == {"ListDatasetGroups": 2, "ListEventTrackers": 1}
    emulator.admin.reset_calls()
    assert emulator.admin.calls() == {}


def test_reset_restores_an_empty_account_and_start_up_settings(
    personalize: Any, emulator: Emulator, dataset_group: str
) -> None:
    emulator.admin.configure(transition_delay=5, tracker_quota=1)
    emulator.admin.throttle(operations=["CreateSolution"])
    emulator.admin.hold("CREATE PENDING", name_pattern="x")
    emulator.admin.fail_creation(name_pattern="y", reason="r")
    emulator.admin.reset()
    state = emulator.admin.state()
    assert (state["datasetGroups"], state["eventTrackers"], state["holds"], state["failures"], state["faults"]) == (
        [],
        [],
        [],
        [],
        [],
    )
    assert state["config"]["transitionDelay"] == 0.0
    assert state["config"]["trackerQuota"] == 10
    assert emulator.admin.calls() == {}


def test_configure_reports_the_settings_in_force(emulator: Emulator) -> None:
    assert emulator.admin.configure(max_tags_per_resource=3)["maxTagsPerResource"] == 3
    assert emulator.admin.config()["maxTagsPerResource"] == 3


def test_faults_are_listed_with_how_often_they_fired(personalize: Any, emulator: Emulator) -> None:
    rule = emulator.admin.throttle(count=1, operations=["ListDatasetGroups"])
    personalize.list_dataset_groups()
    (listed,) = emulator.admin.faults()
    assert listed == rule | {"fired": 1}
    emulator.admin.clear_faults()
    assert emulator.admin.faults() == []


def test_release_without_arguments_releases_every_hold(emulator: Emulator) -> None:
    emulator.admin.hold("CREATE PENDING", name_pattern="a")
    emulator.admin.hold("DELETE PENDING", name_pattern="b")
    assert len(emulator.admin.release()) == 2
    assert emulator.admin.state()["holds"] == []


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda admin: admin._call("POST", "/config", {"nope": 1}), id="unknown-setting"),
        pytest.param(lambda admin: admin._call("GET", "/nothing-here"), id="unknown-route"),
        pytest.param(
            lambda admin: admin.delete_out_of_band("arn:aws:personalize:x:y:event-tracker/z"), id="no-such-arn"
        ),
        pytest.param(lambda admin: admin.hold("ACTIVE"), id="hold-a-settled-status"),
        pytest.param(lambda admin: admin.hold("CREATE PENDING", name_pattern="("), id="bad-name-pattern"),
        pytest.param(lambda admin: admin.add_fault("explode"), id="unknown-fault"),
    ],
)
def test_bad_admin_requests_are_refused_with_a_reason(emulator: Emulator, call: Callable[[Any], Any]) -> None:
    with pytest.raises(AdminError) as refused:
        call(emulator.admin)
    assert "HTTP 4" in str(refused.value)


def test_health_is_false_when_nothing_listens() -> None:
    from personalize_emulator.admin_client import EmulatorAdmin

    assert EmulatorAdmin("http://127.0.0.1:9", timeout=1).health() is False
