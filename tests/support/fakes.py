"""In-memory fakes of the operator's own interfaces (never of boto3 or Kubernetes: the e2e suite proves those).

FakeTrackers is aws.tracker's Trackers, FakeSecrets kube.secrets' SecretWriter,
FakeOwners the Owners lookup, FakeRegion one region's ListEventTrackers as the
status board reads it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from personalize_operator.api.names import RestartResult
from personalize_operator.aws.errors import AlreadyExists, AwsError
from personalize_operator.aws.tracker import RemoteTracker, Sighting
from personalize_operator.kube.configmaps import Facts
from personalize_operator.kube.secrets import DEFAULT_SHAPE, Owner, SecretConflict, SecretError, SecretWrite, Shape
from support.builders import ARN, remote_tracker, tracker_arn


class FakeRegion:
    """An in-memory ListEventTrackers: statuses (by ARN) set by the test, lists counted, `fail` makes them raise."""

    def __init__(self, statuses: Mapping[str, str] | None = None) -> None:
        self.statuses: dict[str, str] = dict(statuses or {})
        self.calls = 0
        self.fail = False
        self.lock = threading.Lock()

    @classmethod
    def holding(cls, status: str = "ACTIVE") -> FakeRegion:
        """A region whose only tracker is ARN in `status` ("": no tracker at all)."""
        return cls({ARN: status} if status else {})

    def set(self, key: str, status: str) -> str:
        arn = tracker_arn(key)
        with self.lock:
            self.statuses[arn] = status
        return arn

    def remove(self, key: str) -> None:
        with self.lock:
            del self.statuses[tracker_arn(key)]

    def list(self) -> Iterator[Sighting]:
        with self.lock:
            self.calls += 1
            if self.fail:
                raise RuntimeError("LimitExceededException")
            items = [Sighting(arn=arn, name=arn.rsplit("/", 1)[1], status=s) for arn, s in self.statuses.items()]
        yield from items


class Woken:
    """The status board's wake callback: records uids, sets `event` on each."""

    def __init__(self) -> None:
        self.uids: list[str] = []
        self.event = threading.Event()

    def __call__(self, uid: str) -> None:
        self.uids.append(uid)
        self.event.set()


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
        arn = tracker_arn(str(next(_ids)))
        tracker = remote_tracker(status, tags=tags, arn=arn, name=name, account_id="", tracking_id=f"id-{arn}")
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
    """The Secret writer: trackingIds by Secret name; `conflict` or `broken` make writes fail as Kubernetes would."""

    written: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, Shape] = field(default_factory=dict)
    conflict: bool = False
    broken: bool = False

    def write(
        self, owner: Owner, name: str, tracking_id: str, arn: str, shape: Shape = DEFAULT_SHAPE, *, new: bool = False
    ) -> SecretWrite:
        if self.conflict:
            raise SecretConflict(f"Secret {owner.namespace}/{name} exists and is not managed by this EventTracker")
        if self.broken:
            raise SecretError(f"writing Secret {name} failed: Kubernetes API answered 403 Forbidden", 403)
        before, shape_before = self.written.get(name), self.shapes.get(name)
        self.written[name] = tracking_id
        self.shapes[name] = shape
        reshaped = shape_before is not None and shape_before != shape
        return SecretWrite(before != tracking_id or reshaped, before not in (None, tracking_id))

    def remove(self, owner: Owner, name: str) -> bool:
        return self.written.pop(name, None) is not None


@dataclass
class FakeConfigMaps:
    """The ConfigMap writer: facts by ConfigMap name."""

    written: dict[str, Facts] = field(default_factory=dict)

    def write(self, owner: Owner, name: str, facts: Facts, shape: Shape = DEFAULT_SHAPE) -> SecretWrite:
        changed = self.written.get(name) != facts
        self.written[name] = facts
        return SecretWrite(changed)

    def remove(self, owner: Owner, name: str) -> bool:
        return self.written.pop(name, None) is not None


@dataclass
class FakeWorkloads:
    """Workloads by (kind, name): restarts counted; `forbidden` answers every restart with Forbidden."""

    existing: set[tuple[str, str]] = field(default_factory=set)
    forbidden: bool = False
    restarts: list[tuple[str, str]] = field(default_factory=list)

    def restart(self, namespace: str, kind: str, name: str, at: str) -> RestartResult:
        if self.forbidden:
            return RestartResult.FORBIDDEN
        if (kind, name) not in self.existing:
            return RestartResult.MISSING
        self.restarts.append((kind, name))
        return RestartResult.RESTARTED


@dataclass
class FakeOwners:
    """Which EventTracker uids are alive."""

    alive_uids: set[str] = field(default_factory=set)

    def alive(self, namespace: str, name: str, uid: str) -> bool:
        return uid in self.alive_uids
