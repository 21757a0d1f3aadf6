"""One function per implemented operation: validated parameters in, output members out.

Handlers only translate between the API's members and the store; rules live
in `state`, encoding in `protocol`. An operation missing here is answered
UnknownOperationException.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from personalize_emulator.state import Caller, DatasetGroup, EventTracker, Store

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[Store, Caller, Params], Output]


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {item["tagKey"]: item["tagValue"] for item in items or []}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"tagKey": key, "tagValue": value} for key, value in tags.items()]


def _dataset_group(group: DatasetGroup) -> Output:
    view = group.admin_view()
    return {
        "name": group.name,
        "datasetGroupArn": group.arn,
        "status": group.status,
        "roleArn": group.role_arn,
        "kmsKeyArn": group.kms_key_arn,
        "domain": group.domain,
        "failureReason": view["failureReason"],
        "creationDateTime": view["creationDateTime"],
        "lastUpdatedDateTime": view["lastUpdatedDateTime"],
    }


def _event_tracker(tracker: EventTracker) -> Output:
    view = tracker.admin_view()
    return {
        "name": tracker.name,
        "eventTrackerArn": tracker.arn,
        "accountId": tracker.caller.account_id,
        "trackingId": tracker.tracking_id,
        "datasetGroupArn": tracker.dataset_group_arn,
        "status": tracker.status,
        "creationDateTime": view["creationDateTime"],
        "lastUpdatedDateTime": view["lastUpdatedDateTime"],
    }


def create_dataset_group(store: Store, caller: Caller, params: Params) -> Output:
    group = store.create_dataset_group(
        caller,
        name=params["name"],
        tags=_tags(params.get("tags")),
        domain=params.get("domain"),
        role_arn=params.get("roleArn"),
        kms_key_arn=params.get("kmsKeyArn"),
    )
    return {"datasetGroupArn": group.arn, "domain": group.domain}


def describe_dataset_group(store: Store, caller: Caller, params: Params) -> Output:
    return {"datasetGroup": _dataset_group(store.describe_dataset_group(caller, params["datasetGroupArn"]))}


def list_dataset_groups(store: Store, caller: Caller, params: Params) -> Output:
    page = store.list_dataset_groups(caller, token=params.get("nextToken"), size=params.get("maxResults"))
    # Summaries are the full descriptions less the members the summary shape lacks (protocol.shaped drops them).
    return {"datasetGroups": [_dataset_group(g) for g in page.items], "nextToken": page.next_token}


def delete_dataset_group(store: Store, caller: Caller, params: Params) -> Output:
    store.delete_dataset_group(caller, params["datasetGroupArn"])
    return {}


def create_event_tracker(store: Store, caller: Caller, params: Params) -> Output:
    tracker = store.create_event_tracker(
        caller, name=params["name"], dataset_group_arn=params["datasetGroupArn"], tags=_tags(params.get("tags"))
    )
    return {"eventTrackerArn": tracker.arn, "trackingId": tracker.tracking_id}


def describe_event_tracker(store: Store, caller: Caller, params: Params) -> Output:
    return {"eventTracker": _event_tracker(store.describe_event_tracker(caller, params["eventTrackerArn"]))}


def list_event_trackers(store: Store, caller: Caller, params: Params) -> Output:
    page = store.list_event_trackers(
        caller,
        dataset_group_arn=params.get("datasetGroupArn"),
        token=params.get("nextToken"),
        size=params.get("maxResults"),
    )
    return {"eventTrackers": [_event_tracker(t) for t in page.items], "nextToken": page.next_token}


def delete_event_tracker(store: Store, caller: Caller, params: Params) -> Output:
    store.delete_event_tracker(caller, params["eventTrackerArn"])
    return {}


def tag_resource(store: Store, caller: Caller, params: Params) -> Output:
    store.tag(caller, params["resourceArn"], _tags(params["tags"]))
    return {}


def untag_resource(store: Store, caller: Caller, params: Params) -> Output:
    store.untag(caller, params["resourceArn"], params["tagKeys"])
    return {}


def list_tags_for_resource(store: Store, caller: Caller, params: Params) -> Output:
    return {"tags": _tag_list(store.tags(caller, params["resourceArn"]))}


def put_events(store: Store, caller: Caller, params: Params) -> Output:
    store.record_events(caller, tracking_id=params["trackingId"], count=len(params["eventList"]))
    return {}


PERSONALIZE: dict[str, Handler] = {
    "CreateDatasetGroup": create_dataset_group,
    "DescribeDatasetGroup": describe_dataset_group,
    "ListDatasetGroups": list_dataset_groups,
    "DeleteDatasetGroup": delete_dataset_group,
    "CreateEventTracker": create_event_tracker,
    "DescribeEventTracker": describe_event_tracker,
    "ListEventTrackers": list_event_trackers,
    "DeleteEventTracker": delete_event_tracker,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}

PERSONALIZE_EVENTS: dict[str, Handler] = {
    "PutEvents": put_events,
}
