"""What AWS says about event trackers, as plain data: their states, a Describe, a list row.

No boto3 here, so the pure decision and status modules can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

CREATE_PENDING = "CREATE PENDING"  # every new tracker's first state
CREATING_STATES = frozenset({CREATE_PENDING, "CREATE IN_PROGRESS"})
DELETING_STATES = frozenset({"DELETE PENDING", "DELETE IN_PROGRESS"})
TRANSITIONAL_STATES = CREATING_STATES | DELETING_STATES
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"
GONE = "GONE"  # the status board's word for a tracker its list no longer shows
PAGE_SIZE = 100  # ListEventTrackers' largest page


def is_transitional(status: str) -> bool:
    return status in TRANSITIONAL_STATES


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


@dataclass(frozen=True)
class Sighting:
    """One tracker as ListEventTrackers shows it (no trackingId, no tags: the list has neither)."""

    arn: str
    name: str
    status: str
