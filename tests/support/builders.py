"""The one set of test builders: a Desired, a Recorded, a RemoteTracker or an Observation with sane defaults.

Every unit test and table builds its objects here, changing only what the case is
about, so a new field in the operator's dataclasses is one edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from personalize_operator.api.model import GROUP, KIND, VERSION
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.reconciler.decide import UID_TAG, Desired, Observation, Recorded
from personalize_operator.reconciler.inputs import FINALIZER

ACCOUNT = "111122223333"
REGION = "eu-west-1"
DG = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/shop"
TRACKING_ID = "secret-id"  # never expected in any message or status


def tracker_arn(key: str) -> str:
    """The ARN of event tracker `key` in the test account and region."""
    return f"arn:aws:personalize:{REGION}:{ACCOUNT}:event-tracker/{key}"


ARN = tracker_arn("abc")


def desired(**changes: Any) -> Desired:
    """EventTracker shop/storefront (uid-1, generation 1, tag team=growth) as the reconciler sees it."""
    base: dict[str, Any] = {
        "uid": "uid-1",
        "namespace": "shop",
        "name": "storefront",
        "generation": 1,
        "tracker_name": "storefront",
        "dataset_group_arn": DG,
        "region": REGION,
        "secret_name": "storefront-tracking",
        "tags": {"team": "growth"},
    }
    return Desired(**(base | changes))


def recorded(**changes: Any) -> Recorded:
    """What earlier passes wrote: nothing, unless changed."""
    return Recorded(**changes)


def active_recorded(**changes: Any) -> Recorded:
    """The status of a resource that reached Active at generation 1 with its Secret written."""
    base: dict[str, Any] = {
        "arn": ARN,
        "phase": "Active",
        "reason": "Active",
        "observed_generation": 1,
        "secret_name": "storefront-tracking",
    }
    return Recorded(**(base | changes))


def remote_tracker(
    status: str = "ACTIVE", *, uid: str = "uid-1", tags: Mapping[str, str] | None = None, **changes: Any
) -> RemoteTracker:
    """Tracker `storefront` at ARN as Describe shows it, tagged as owned by `uid` unless `tags` is given."""
    base: dict[str, Any] = {
        "arn": ARN,
        "name": "storefront",
        "status": status,
        "dataset_group_arn": DG,
        "account_id": ACCOUNT,
        "tracking_id": TRACKING_ID,
        "tags": {UID_TAG: uid} if tags is None else dict(tags),
    }
    return RemoteTracker(**(base | changes))


def observation(status: str | None = None, **tracker_changes: Any) -> Observation:
    """What a pass saw: our tracker in `status` (None: no tracker of ours)."""
    return Observation(tracker=remote_tracker(status, **tracker_changes) if status is not None else None)


def event_tracker(
    status: Mapping[str, Any] | None = None, *, generation: int = 1, deleting: bool = False
) -> dict[str, Any]:
    """EventTracker shop/storefront as the API server returns it, with `status`, marked for deletion if `deleting`."""
    metadata: dict[str, Any] = {"name": "storefront", "namespace": "shop", "uid": "uid-1", "generation": generation}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T12:00:00Z"
        metadata["finalizers"] = [FINALIZER]
    obj: dict[str, Any] = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": metadata,
        "spec": {"name": "storefront", "datasetGroupArn": DG},
    }
    if status is not None:
        obj["status"] = dict(status)
    return obj


def spec_tags(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """spec.tags as a manifest writes them (Personalize's tagKey/tagValue list)."""
    return [{"tagKey": key, "tagValue": value} for key, value in pairs]


def numbered_tags(count: int) -> list[dict[str, str]]:
    """`count` distinct tags k0=v, k1=v, ..."""
    return spec_tags(*((f"k{i}", "v") for i in range(count)))


def foreign(uid: str = "someone-else", *, owner: str = "", name: str = "theirs") -> Observation:
    """Another tracker holds the dataset group; `owner` is the live EventTracker owning it, if any."""
    return Observation(foreign=remote_tracker("ACTIVE", uid=uid, name=name), foreign_owner=owner)
