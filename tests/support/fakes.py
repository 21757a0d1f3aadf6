"""In-memory fakes of the reconciler's own edges (Trackers, SecretWriter, Owners): never of boto3 or Kubernetes.

The unit tests drive reconcile.py through these, row by row of the behaviour
table; the end-to-end suite proves the real edges.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from personalize_operator.aws.errors import AlreadyExists, AwsError
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.kube.secrets import Owner, SecretConflict, SecretError

DG = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop"
_ids = itertools.count(1)


@dataclass
class FakeTrackers:
    """Personalize in memory: trackers by ARN; `fail` makes one operation raise."""

    trackers: dict[str, RemoteTracker] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail: dict[str, AwsError] = field(default_factory=dict)

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        if operation in self.fail:
            raise self.fail[operation]

    def add(self, status: str, tags: Mapping[str, str], name: str = "storefront") -> RemoteTracker:
        arn = f"arn:aws:personalize:eu-west-1:111122223333:event-tracker/{next(_ids)}"
        tracker = RemoteTracker(
            arn=arn, name=name, status=status, dataset_group_arn=DG, tracking_id=f"id-{arn}", tags=dict(tags)
        )
        self.trackers[arn] = tracker
        return tracker

    def describe(self, arn: str, *, with_tags: bool = False) -> RemoteTracker | None:
        self._call("DescribeEventTracker")
        return self.trackers.get(arn)

    def find_in_dataset_group(self, dataset_group_arn: str) -> list[RemoteTracker]:
        self._call("ListEventTrackers")
        return [t for t in self.trackers.values() if t.dataset_group_arn == dataset_group_arn]

    def create(self, *, name: str, dataset_group_arn: str, tags: Mapping[str, str]) -> str:
        self._call("CreateEventTracker")
        if any(t.dataset_group_arn == dataset_group_arn for t in self.trackers.values()):
            raise AlreadyExists("ResourceAlreadyExistsException", "taken", "CreateEventTracker")
        return self.add("CREATE PENDING", tags, name).arn

    def may_exist(self, name: str) -> bool:
        """As a status board's list would answer: a tracker of this name is in the region."""
        return any(t.name == name for t in self.trackers.values())

    def delete(self, arn: str) -> None:
        self._call("DeleteEventTracker")
        if arn in self.trackers:
            self.trackers[arn] = replace(self.trackers[arn], status="DELETE PENDING")

    def tags(self, arn: str) -> dict[str, str]:
        self._call("ListTagsForResource")
        return dict(self.trackers[arn].tags)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        if tags:
            self._call("TagResource")
            self.trackers[arn] = replace(self.trackers[arn], tags={**self.trackers[arn].tags, **tags})

    def untag(self, arn: str, keys: list[str]) -> None:
        if keys:
            self._call("UntagResource")
            kept = {k: v for k, v in self.trackers[arn].tags.items() if k not in keys}
            self.trackers[arn] = replace(self.trackers[arn], tags=kept)


@dataclass
class FakeSecrets:
    written: dict[str, str] = field(default_factory=dict)  # name -> trackingId
    conflict: bool = False
    broken: bool = False

    def write(self, owner: Owner, name: str, tracking_id: str, arn: str) -> bool:
        if self.conflict:
            raise SecretConflict(f"Secret {owner.namespace}/{name} exists and is not managed by this EventTracker")
        if self.broken:
            raise SecretError(f"writing Secret {name} failed: Kubernetes API answered 403 Forbidden", 403)
        changed = self.written.get(name) != tracking_id
        self.written[name] = tracking_id
        return changed

    def remove(self, owner: Owner, name: str) -> bool:
        return self.written.pop(name, None) is not None


@dataclass
class FakeOwners:
    alive_uids: set[str] = field(default_factory=set)

    def alive(self, namespace: str, name: str, uid: str) -> bool:
        return uid in self.alive_uids
