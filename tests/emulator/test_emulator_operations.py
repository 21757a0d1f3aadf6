"""Every implemented operation through boto3, with raw responses checked against botocore's model."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, Shape, StructureShape

from personalize_emulator.testing import Emulator

Unique = Callable[[str], str]


def shape_problems(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Where a raw JSON response departs from the model's output shape (written apart from the emulator)."""
    if shape is None:
        return [] if value in (None, {}) else [f"{path or 'body'}: no output shape, got {value!r}"]
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        problems = [f"{path}.{key}: not in {shape.name}" for key in value if key not in shape.members]
        for key, item in value.items():
            if key in shape.members:
                problems += shape_problems(shape.members[key], item, f"{path}.{key}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected array"]
        return [p for i, item in enumerate(value) for p in shape_problems(shape.member, item, f"{path}[{i}]")]
    if isinstance(shape, MapShape):
        return [f"{path}: expected object"] if not isinstance(value, dict) else []
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "long": int,
        "boolean": bool,
        "timestamp": (int, float),
        "float": (int, float),
        "double": (int, float),
    }
    wanted = expected.get(shape.type_name)
    if wanted is not None and not isinstance(value, wanted):
        return [f"{path}: expected {shape.type_name}, got {value!r}"]
    return []


@pytest.fixture(autouse=True)
def raw_responses(personalize: Any) -> list[tuple[str, list[str]]]:
    """Every raw 200 response body, checked against the operation's output shape."""
    seen: list[tuple[str, list[str]]] = []

    def check(http_response: Any, model: Any, **_: Any) -> None:
        if http_response.status_code == 200:
            body = json.loads(http_response.content or b"null")
            seen.append((model.name, shape_problems(model.output_shape, body)))

    personalize.meta.events.register("after-call.personalize", check)
    return seen


def test_dataset_group_operations_round_trip(personalize: Any, unique: Unique) -> None:
    name = unique("dg")
    created = personalize.create_dataset_group(
        name=name, domain="ECOMMERCE", tags=[{"tagKey": "team", "tagValue": "search"}]
    )
    arn = created["datasetGroupArn"]
    assert arn == f"arn:aws:personalize:us-east-1:123456789012:dataset-group/{name}"
    assert created["domain"] == "ECOMMERCE"

    described = personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
    assert described["name"] == name
    assert described["status"] == "ACTIVE"
    assert described["domain"] == "ECOMMERCE"
    assert described["creationDateTime"] <= described["lastUpdatedDateTime"]

    listed = personalize.list_dataset_groups()["datasetGroups"]
    assert [g["datasetGroupArn"] for g in listed] == [arn]

    personalize.delete_dataset_group(datasetGroupArn=arn)
    with pytest.raises(ClientError) as gone:
        personalize.describe_dataset_group(datasetGroupArn=arn)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_event_tracker_operations_round_trip(personalize: Any, dataset_group: str, unique: Unique) -> None:
    name = unique("tracker")
    created = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group)
    arn = created["eventTrackerArn"]
    assert arn.startswith("arn:aws:personalize:us-east-1:123456789012:event-tracker/")
    assert len(created["trackingId"]) == 36  # a UUID

    tracker = personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]
    assert tracker == tracker | {
        "name": name,
        "eventTrackerArn": arn,
        "accountId": "123456789012",
        "trackingId": created["trackingId"],
        "datasetGroupArn": dataset_group,
        "status": "ACTIVE",
    }

    summaries = personalize.list_event_trackers(datasetGroupArn=dataset_group)["eventTrackers"]
    assert [(s["name"], s["eventTrackerArn"], s["status"]) for s in summaries] == [(name, arn, "ACTIVE")]
    assert "trackingId" not in summaries[0]  # summaries carry only what the model's summary shape has

    personalize.delete_event_tracker(eventTrackerArn=arn)
    assert personalize.list_event_trackers(datasetGroupArn=dataset_group)["eventTrackers"] == []


def test_tags_at_creation_and_through_tag_operations(personalize: Any, dataset_group: str, unique: Unique) -> None:
    arn = personalize.create_event_tracker(
        name=unique("tracker"),
        datasetGroupArn=dataset_group,
        tags=[{"tagKey": "owner", "tagValue": "team-a"}, {"tagKey": "env", "tagValue": "dev"}],
    )["eventTrackerArn"]

    personalize.tag_resource(
        resourceArn=arn, tags=[{"tagKey": "env", "tagValue": "prod"}, {"tagKey": "cost", "tagValue": ""}]
    )
    personalize.untag_resource(resourceArn=arn, tagKeys=["owner", "never-set"])

    tags = personalize.list_tags_for_resource(resourceArn=arn)["tags"]
    assert {t["tagKey"]: t["tagValue"] for t in tags} == {"env": "prod", "cost": ""}


def test_tag_operations_work_on_dataset_groups(personalize: Any, dataset_group: str) -> None:
    personalize.tag_resource(resourceArn=dataset_group, tags=[{"tagKey": "a", "tagValue": "1"}])
    assert personalize.list_tags_for_resource(resourceArn=dataset_group)["tags"] == [{"tagKey": "a", "tagValue": "1"}]


def test_tag_operations_on_unknown_resources_are_not_found(personalize: Any) -> None:
    arn = "arn:aws:personalize:us-east-1:123456789012:event-tracker/0000"
    calls = [
        lambda: personalize.tag_resource(resourceArn=arn, tags=[{"tagKey": "a", "tagValue": "b"}]),
        lambda: personalize.untag_resource(resourceArn=arn, tagKeys=["a"]),
        lambda: personalize.list_tags_for_resource(resourceArn=arn),
    ]
    for call in calls:
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_tagging_beyond_the_per_resource_limit_is_too_many_tags(personalize: Any, dataset_group: str) -> None:
    limit = 50  # the emulator's default, AWS's documented limit
    personalize.tag_resource(
        resourceArn=dataset_group, tags=[{"tagKey": f"k{i}", "tagValue": "v"} for i in range(limit)]
    )
    with pytest.raises(ClientError) as error:
        personalize.tag_resource(resourceArn=dataset_group, tags=[{"tagKey": "one-more", "tagValue": "v"}])
    assert error.value.response["Error"]["Code"] == "TooManyTagsException"
    # Re-setting existing keys does not count twice.
    personalize.tag_resource(resourceArn=dataset_group, tags=[{"tagKey": "k0", "tagValue": "new"}])


def test_event_trackers_paginate_with_next_token_and_max_results(
    personalize: Any, emulator: Emulator, unique: Unique
) -> None:
    emulator.admin.configure(tracker_quota=20)
    created = []
    for _ in range(7):
        group = personalize.create_dataset_group(name=unique("dg"))["datasetGroupArn"]
        created.append(personalize.create_event_tracker(name=unique("t"), datasetGroupArn=group)["eventTrackerArn"])

    pages, token = [], None
    while True:
        kwargs = {"maxResults": 3} | ({"nextToken": token} if token else {})
        page = personalize.list_event_trackers(**kwargs)
        pages.append([t["eventTrackerArn"] for t in page["eventTrackers"]])
        token = page.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [arn for p in pages for arn in p] == created

    paginated = personalize.get_paginator("list_event_trackers").paginate(PaginationConfig={"PageSize": 2})
    assert [t["eventTrackerArn"] for page in paginated for t in page["eventTrackers"]] == created


def test_dataset_groups_paginate(personalize: Any, unique: Unique) -> None:
    names = [unique("dg") for _ in range(5)]
    for name in names:
        personalize.create_dataset_group(name=name)
    first = personalize.list_dataset_groups(maxResults=4)
    second = personalize.list_dataset_groups(maxResults=4, nextToken=first["nextToken"])
    assert [g["name"] for g in first["datasetGroups"] + second["datasetGroups"]] == names
    assert "nextToken" not in second


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-token", id="garbage"),
        pytest.param("eyJhZnRlciI6MX0.0000", id="forged-signature"),
    ],
)
def test_a_token_the_emulator_did_not_issue_is_invalid(personalize: Any, token: str) -> None:
    with pytest.raises(ClientError) as error:
        personalize.list_event_trackers(nextToken=token)
    assert error.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_a_token_from_another_query_is_invalid(personalize: Any, unique: Unique) -> None:
    for _ in range(2):
        personalize.create_dataset_group(name=unique("dg"))
    token = personalize.list_dataset_groups(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as error:
        personalize.list_event_trackers(nextToken=token)
    assert error.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_resources_live_in_the_region_of_the_signing_scope(make_client: Callable[..., Any], unique: Unique) -> None:
    ireland = make_client("personalize", region_name="eu-west-1")
    virginia = make_client("personalize", region_name="us-east-1")
    arn = ireland.create_dataset_group(name=unique("dg"))["datasetGroupArn"]
    assert arn.startswith("arn:aws:personalize:eu-west-1:123456789012:dataset-group/")
    assert virginia.list_dataset_groups()["datasetGroups"] == []
    with pytest.raises(ClientError) as error:
        virginia.describe_dataset_group(datasetGroupArn=arn)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_china_regions_get_the_aws_cn_partition(make_client: Callable[..., Any], unique: Unique) -> None:
    beijing = make_client("personalize", region_name="cn-north-1")
    arn = beijing.create_dataset_group(name=unique("dg"))["datasetGroupArn"]
    assert arn.startswith("arn:aws-cn:personalize:cn-north-1:")


def test_every_raw_response_matches_the_model(
    personalize: Any, dataset_group: str, unique: Unique, raw_responses: list[tuple[str, list[str]]]
) -> None:
    """Runs each operation once more and asserts the raw JSON (not boto3's parse) fits the output shape."""
    arn = personalize.create_event_tracker(
        name=unique("t"), datasetGroupArn=dataset_group, tags=[{"tagKey": "a", "tagValue": "b"}]
    )["eventTrackerArn"]
    personalize.describe_event_tracker(eventTrackerArn=arn)
    personalize.list_event_trackers()
    personalize.describe_dataset_group(datasetGroupArn=dataset_group)
    personalize.list_dataset_groups()
    personalize.tag_resource(resourceArn=arn, tags=[{"tagKey": "c", "tagValue": "d"}])
    personalize.list_tags_for_resource(resourceArn=arn)
    personalize.untag_resource(resourceArn=arn, tagKeys=["c"])
    personalize.delete_event_tracker(eventTrackerArn=arn)
    personalize.delete_dataset_group(datasetGroupArn=dataset_group)

    operations = {name for name, _ in raw_responses}
    assert operations == {
        "CreateDatasetGroup",
        "CreateEventTracker",
        "DescribeEventTracker",
        "ListEventTrackers",
        "DescribeDatasetGroup",
        "ListDatasetGroups",
        "TagResource",
        "ListTagsForResource",
        "UntagResource",
        "DeleteEventTracker",
        "DeleteDatasetGroup",
    }
    assert [(name, problems) for name, problems in raw_responses if problems] == []
