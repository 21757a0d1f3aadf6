"""PutEvents (personalize-events, REST JSON on the same port) accepts only an ACTIVE tracker's trackingId.

For an unknown or not-yet-ACTIVE trackingId the emulator answers
ResourceNotFoundException (HTTP 400, code in x-amzn-ErrorType); see
docs/emulator.md for why.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from personalize_emulator.testing import Emulator

Unique = Callable[[str], str]


def _event(**extra: Any) -> dict[str, Any]:
    return {"eventType": "click", "sentAt": datetime.datetime.now(tz=datetime.UTC), "itemId": "item-1"} | extra


def _put(events: Any, tracking_id: str, count: int = 1) -> dict[str, Any]:
    return dict(
        events.put_events(trackingId=tracking_id, sessionId="session-1", userId="user-1", eventList=[_event()] * count)
    )


def test_an_active_trackers_id_is_accepted_and_counted(
    personalize: Any, events: Any, emulator: Emulator, dataset_group: str, unique: Unique
) -> None:
    created = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)
    response = _put(events, created["trackingId"], count=3)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    tracker = emulator.admin.tracker(arn=created["eventTrackerArn"])
    assert tracker is not None
    assert tracker["eventsReceived"] == 3


def test_a_not_yet_active_trackers_id_is_refused(
    personalize: Any, events: Any, emulator: Emulator, dataset_group: str, unique: Unique
) -> None:
    name = unique("t")
    emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=name)
    created = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group)
    with pytest.raises(ClientError) as refused:
        _put(events, created["trackingId"])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "CREATE IN_PROGRESS" in refused.value.response["Error"]["Message"]
    assert created["trackingId"] not in refused.value.response["Error"]["Message"]

    emulator.admin.release(name_pattern=name)
    _put(events, created["trackingId"])


def test_an_unknown_tracking_id_is_refused(events: Any) -> None:
    with pytest.raises(ClientError) as refused:
        _put(events, "4a3e0c4e-0000-4000-8000-000000000000")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_deleted_trackers_id_is_refused(personalize: Any, events: Any, dataset_group: str, unique: Unique) -> None:
    created = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)
    personalize.delete_event_tracker(eventTrackerArn=created["eventTrackerArn"])
    with pytest.raises(ClientError) as refused:
        _put(events, created["trackingId"])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_tracking_id_works_only_in_its_region(
    personalize: Any, make_client: Callable[..., Any], dataset_group: str, unique: Unique
) -> None:
    created = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)
    elsewhere = make_client("personalize-events", region_name="eu-west-1")
    with pytest.raises(ClientError) as refused:
        _put(elsewhere, created["trackingId"])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "event_list",
    [
        pytest.param([], id="empty-event-list"),
        pytest.param([_event()] * 11, id="eleven-events"),
        pytest.param([_event(eventType="")], id="empty-event-type"),
        pytest.param([_event(impression=[])], id="empty-impression-list"),
        pytest.param([_event(metricAttribution={"eventAttributionSource": "   "})], id="blank-attribution-source"),
    ],
)
def test_input_the_model_rejects_is_invalid_input(make_client: Callable[..., Any], event_list: list[Any]) -> None:
    unvalidated = make_client("personalize-events", parameter_validation=False)
    with pytest.raises(ClientError) as refused:
        unvalidated.put_events(trackingId="x", sessionId="s", eventList=event_list)
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "validation error" in refused.value.response["Error"]["Message"]


def test_sensitive_event_members_are_not_echoed(make_client: Callable[..., Any]) -> None:
    unvalidated = make_client("personalize-events", parameter_validation=False)
    with pytest.raises(ClientError) as refused:
        unvalidated.put_events(trackingId="x", sessionId="s", eventList=[_event(itemId="")], userId="secret-user" * 30)
    message = refused.value.response["Error"]["Message"]
    assert "Value at 'userId'" in message
    assert "secret-user" not in message
