"""Contract tests: the same calls against real Amazon Personalize and the emulator must agree.

They run only when PERSONALIZE_REAL_AWS_DATASET_GROUP_ARN names an existing
dataset group and the normal AWS credential chain finds credentials (see
docs/emulator.md); otherwise they skip, and they are the only emulator tests
that ever skip. Most of them only read or send requests AWS refuses; the
lifecycle test creates and deletes an event tracker and runs only with
PERSONALIZE_REAL_AWS_ALLOW_CREATE=1 (the dataset group must have no tracker).
"""

from __future__ import annotations

import datetime
import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from personalize_emulator.testing import Emulator
from support.wait import wait_for

pytestmark = pytest.mark.real_aws

DATASET_GROUP_VARIABLE = "PERSONALIZE_REAL_AWS_DATASET_GROUP_ARN"
ALLOW_CREATE_VARIABLE = "PERSONALIZE_REAL_AWS_ALLOW_CREATE"


@dataclass
class Side:
    """One side of the comparison: clients, and a dataset group ARN that exists there."""

    name: str
    personalize: Any
    events: Any
    dataset_group: str
    endpoint: str

    @property
    def region(self) -> str:
        return self.dataset_group.split(":")[3]

    @property
    def account(self) -> str:
        return self.dataset_group.split(":")[4]


@pytest.fixture(scope="module")
def aws() -> Side:
    arn = os.environ.get(DATASET_GROUP_VARIABLE)
    if not arn:
        pytest.skip(f"{DATASET_GROUP_VARIABLE} is not set")
    session = boto3.session.Session(region_name=arn.split(":")[3])
    if session.get_credentials() is None:
        pytest.skip("no AWS credentials in the default chain")
    # Whatever endpoint variables the shell has, this side must talk to AWS itself.
    config = botocore.config.Config(ignore_configured_endpoint_urls=True, retries={"mode": "standard"})
    personalize = session.client("personalize", config=config)
    return Side(
        name="aws",
        personalize=personalize,
        events=session.client("personalize-events", config=config),
        dataset_group=arn,
        endpoint=personalize.meta.endpoint_url,
    )


@pytest.fixture(scope="module")
def emulated(aws: Side, emulator_session: Emulator) -> Iterator[Side]:
    emulator_session.admin.reset()
    personalize = emulator_session.client(region=aws.region)
    group = personalize.create_dataset_group(name=aws.dataset_group.rsplit("/", 1)[1])["datasetGroupArn"]
    yield Side(
        name="emulator",
        personalize=personalize,
        events=emulator_session.client("personalize-events", region=aws.region),
        dataset_group=group,
        endpoint=emulator_session.endpoint,
    )
    emulator_session.admin.reset()


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    try:
        call()
    except ClientError as error:
        return (
            str(error.response["Error"]["Code"]),
            str(error.response["Error"]["Message"]),
            int(error.response["ResponseMetadata"]["HTTPStatusCode"]),
        )
    raise AssertionError("the call succeeded")


def _both(aws: Side, emulated: Side, call: Callable[[Side], Any]) -> tuple[tuple[str, str, int], ...]:
    return _error(lambda: call(aws)), _error(lambda: call(emulated))


def test_describing_an_unknown_tracker_is_not_found(aws: Side, emulated: Side) -> None:
    def call(side: Side) -> Any:
        arn = f"arn:aws:personalize:{side.region}:{side.account}:event-tracker/0123abcd"
        return side.personalize.describe_event_tracker(eventTrackerArn=arn)

    real, fake = _both(aws, emulated, call)
    assert (real[0], real[2]) == (fake[0], fake[2]) == ("ResourceNotFoundException", 400)


def test_an_invalid_name_is_invalid_input_with_the_same_message(aws: Side, emulated: Side) -> None:
    real, fake = _both(
        aws, emulated, lambda s: s.personalize.create_event_tracker(name="bad name!", datasetGroupArn=s.dataset_group)
    )
    assert real[0] == fake[0] == "InvalidInputException"
    assert real[1] == fake[1]


def test_a_forged_next_token_is_invalid(aws: Side, emulated: Side) -> None:
    real, fake = _both(aws, emulated, lambda s: s.personalize.list_event_trackers(nextToken="forged"))
    assert real[0] == fake[0] == "InvalidNextTokenException"


def test_put_events_with_an_unknown_tracking_id(aws: Side, emulated: Side) -> None:
    def call(side: Side) -> Any:
        event = {"eventType": "click", "sentAt": datetime.datetime.now(tz=datetime.UTC)}
        return side.events.put_events(trackingId=str(uuid.uuid4()), sessionId="s", eventList=[event])

    real, fake = _both(aws, emulated, call)
    assert (real[0], real[2]) == (fake[0], fake[2])


def test_an_unsigned_request_is_refused_alike(aws: Side, emulated: Side) -> None:
    def send(endpoint: str) -> tuple[int, str | None]:
        request = urllib.request.Request(
            endpoint + "/",
            data=b"{}",
            method="POST",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AmazonPersonalize.ListDatasetGroups",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, None
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            code = error.headers.get("x-amzn-ErrorType") or body.get("__type")
            return error.code, str(code).split(":")[0].rsplit("#", 1)[-1]

    assert send(aws.endpoint) == send(emulated.endpoint)


def test_the_real_dataset_group_fits_the_model_and_the_status_vocabulary(aws: Side) -> None:
    group = aws.personalize.describe_dataset_group(datasetGroupArn=aws.dataset_group)["datasetGroup"]
    members = set(aws.personalize.meta.service_model.shape_for("DatasetGroup").members)
    assert set(group) <= members
    assert group["status"] in {"CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE", "CREATE FAILED", "DELETE PENDING"}


@pytest.mark.timeout(1800)
def test_tracker_lifecycle_matches(aws: Side, emulated: Side) -> None:
    if os.environ.get(ALLOW_CREATE_VARIABLE) != "1":
        pytest.skip(f"{ALLOW_CREATE_VARIABLE}=1 is needed to create a tracker in the real account")

    def lifecycle(side: Side, interval: float) -> dict[str, Any]:
        name = f"contract-{uuid.uuid4().hex[:8]}"
        created = side.personalize.create_event_tracker(name=name, datasetGroupArn=side.dataset_group)
        arn = created["eventTrackerArn"]
        statuses = _statuses(side, arn, until="ACTIVE", interval=interval)
        second = _error(
            lambda: side.personalize.create_event_tracker(name=name + "b", datasetGroupArn=side.dataset_group)
        )
        side.personalize.delete_event_tracker(eventTrackerArn=arn)
        statuses += _statuses(side, arn, until=None, interval=interval)
        return {"arn_prefix": arn.rsplit("/", 1)[0], "statuses": statuses, "second": second[0]}

    real = lifecycle(aws, interval=5.0)
    fake = lifecycle(emulated, interval=0.05)
    assert real["second"] == fake["second"] == "ResourceAlreadyExistsException"
    assert set(real["statuses"]) <= {
        "CREATE PENDING",
        "CREATE IN_PROGRESS",
        "ACTIVE",
        "DELETE PENDING",
        "DELETE IN_PROGRESS",
        None,
    }
    assert real["statuses"][-1] is None and "ACTIVE" in real["statuses"]
    assert real["arn_prefix"].endswith(":event-tracker") and fake["arn_prefix"].endswith(":event-tracker")


def _statuses(side: Side, arn: str, *, until: str | None, interval: float, timeout: float = 900) -> list[str | None]:
    """The distinct statuses of `arn`, in order, until it shows `until` (None: gone)."""
    seen: list[str | None] = []

    def step() -> bool:
        try:
            status: str | None = side.personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            status = None
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == until

    wait_for(step, timeout=timeout, interval=interval, what=f"{side.name}: {arn} to reach {until}")
    return seen
