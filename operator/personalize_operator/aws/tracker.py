"""What AWS says about one event tracker, as plain data (no boto3 here, so pure code can use it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

CREATING_STATES = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS"})
DELETING_STATES = frozenset({"DELETE PENDING", "DELETE IN_PROGRESS"})
TRANSITIONAL_STATES = CREATING_STATES | DELETING_STATES
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"


@dataclass(frozen=True)
class RemoteTracker:
    """What DescribeEventTracker (and ListTagsForResource) said about one tracker."""

    arn: str
    name: str
    status: str
    dataset_group_arn: str
    account_id: str = ""
    tracking_id: str = field(default="", repr=False)  # a write credential: never in repr or logs
    tags: Mapping[str, str] = field(default_factory=dict)
    failure_reason: str = ""
