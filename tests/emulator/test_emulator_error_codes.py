"""Each error code botocore's model lists for the tracker operations, provoked through boto3.

The parameter list is read from the model at collection time: if AWS adds an
error code to one of these operations, a new test appears and fails until a
scenario provokes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from personalize_emulator.admin_client import EmulatorAdmin
from personalize_emulator.testing import Emulator

OPERATIONS = ("CreateEventTracker", "DescribeEventTracker", "DeleteEventTracker", "ListEventTrackers")
_MODEL = botocore.session.get_session().get_service_model("personalize")
MODELLED = [(op, shape.name) for op in OPERATIONS for shape in _MODEL.operation_model(op).error_shapes]

UNKNOWN_TRACKER = "arn:aws:personalize:us-east-1:123456789012:event-tracker/00000000"
UNKNOWN_GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/does-not-exist"


@dataclass
class Scene:
    personalize: Any
    admin: EmulatorAdmin
    dataset_group: str
    unique: Callable[[str], str]

    def tracker(self, *, group: str | None = None, name: str | None = None) -> str:
        return str(
            self.personalize.create_event_tracker(
                name=name or self.unique("t"), datasetGroupArn=group or self.dataset_group
            )["eventTrackerArn"]
        )

    def group(self) -> str:
        return str(self.personalize.create_dataset_group(name=self.unique("dg"))["datasetGroupArn"])


def _quota_reached(s: Scene) -> None:
    s.admin.configure(tracker_quota=1)
    s.tracker()
    s.tracker(group=s.group())


def _group_still_creating(s: Scene) -> None:
    name = s.unique("creating")
    s.admin.hold("CREATE PENDING", name_pattern=name, kind="dataset-group")
    group = s.personalize.create_dataset_group(name=name)["datasetGroupArn"]
    s.tracker(group=group)


def _second_tracker(s: Scene) -> None:
    s.tracker()
    s.tracker()


def _delete_while_creating(s: Scene) -> None:
    name = s.unique("held")
    s.admin.hold("CREATE IN_PROGRESS", name_pattern=name)
    s.personalize.delete_event_tracker(eventTrackerArn=s.tracker(name=name))


SCENARIOS: dict[tuple[str, str], Callable[[Scene], object]] = {
    ("CreateEventTracker", "InvalidInputException"): lambda s: s.tracker(name="-starts-with-a-dash"),
    ("CreateEventTracker", "ResourceAlreadyExistsException"): _second_tracker,
    ("CreateEventTracker", "ResourceNotFoundException"): lambda s: s.tracker(group=UNKNOWN_GROUP),
    ("CreateEventTracker", "LimitExceededException"): _quota_reached,
    ("CreateEventTracker", "ResourceInUseException"): _group_still_creating,
    ("CreateEventTracker", "TooManyTagsException"): lambda s: s.personalize.create_event_tracker(
        name=s.unique("t"),
        datasetGroupArn=s.dataset_group,
        tags=[{"tagKey": f"k{i}", "tagValue": "v"} for i in range(51)],
    ),
    ("DescribeEventTracker", "InvalidInputException"): lambda s: s.personalize.describe_event_tracker(
        eventTrackerArn="not-an-arn"
    ),
    ("DescribeEventTracker", "ResourceNotFoundException"): lambda s: s.personalize.describe_event_tracker(
        eventTrackerArn=UNKNOWN_TRACKER
    ),
    ("DeleteEventTracker", "InvalidInputException"): lambda s: s.personalize.delete_event_tracker(
        eventTrackerArn="arn:aws:s3:::bucket"
    ),
    ("DeleteEventTracker", "ResourceNotFoundException"): lambda s: s.personalize.delete_event_tracker(
        eventTrackerArn=UNKNOWN_TRACKER
    ),
    ("DeleteEventTracker", "ResourceInUseException"): _delete_while_creating,
    ("ListEventTrackers", "InvalidInputException"): lambda s: s.personalize.list_event_trackers(
        datasetGroupArn="dataset-group/x"
    ),
    ("ListEventTrackers", "InvalidNextTokenException"): lambda s: s.personalize.list_event_trackers(nextToken="forged"),
}


def test_the_model_lists_errors_for_every_tracker_operation() -> None:
    assert {op for op, _ in MODELLED} == set(OPERATIONS)


def test_every_scenario_matches_a_modelled_error() -> None:
    """No stale scenarios: each one is for an error the model still lists."""
    assert set(SCENARIOS) <= set(MODELLED)


@pytest.mark.parametrize(("operation", "code"), MODELLED, ids=[f"{op}-{code}" for op, code in MODELLED])
def test_modelled_error_is_provoked(
    operation: str,
    code: str,
    personalize: Any,
    emulator: Emulator,
    dataset_group: str,
    unique: Callable[[str], str],
) -> None:
    scenario = SCENARIOS.get((operation, code))
    assert scenario is not None, f"no scenario provokes {code} from {operation}"
    with pytest.raises(ClientError) as raised:
        scenario(Scene(personalize=personalize, admin=emulator.admin, dataset_group=dataset_group, unique=unique))
    assert raised.value.operation_name == operation
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["Error"]["Message"]
