"""The in-memory Personalize account: dataset groups, event trackers, tags.

Holds AWS's business rules (one tracker per dataset group, unique names,
quota, tag limit, what may be deleted when) and the test-control rules
(holds, planned failures). Every public method takes the one lock, first
brings every status up to date (see `lifecycle`), then acts; so concurrent
requests see a consistent account.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from personalize_emulator import errors
from personalize_emulator.clock import Clock, SystemClock
from personalize_emulator.config import EmulatorConfig
from personalize_emulator.lifecycle import CREATING, DELETING, Lifecycle, Status
from personalize_emulator.pagination import Page, Paginator
from personalize_emulator.rules import Hold, Kind, PlannedFailure, Selector

R = TypeVar("R", bound="Resource")


@dataclass(frozen=True)
class Caller:
    """Who asks, and where: the account and the region of the request's SigV4 scope."""

    account_id: str
    region: str

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def arn(self, kind: Kind, resource_id: str) -> str:
        return f"arn:{self.partition}:personalize:{self.region}:{self.account_id}:{kind}/{resource_id}"


@dataclass(kw_only=True)
class Resource:
    kind: Kind
    name: str
    arn: str
    caller: Caller
    position: int  # creation order, for listing and pagination
    created_at: float
    lifecycle: Lifecycle
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return self.lifecycle.status

    def admin_view(self) -> dict[str, Any]:
        """Everything a test may want to see, camelCase like the AWS APIs."""
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "accountId": self.caller.account_id,
            "region": self.caller.region,
            "status": self.status,
            "failureReason": self.lifecycle.visible_failure,
            "creationDateTime": self.created_at,
            "lastUpdatedDateTime": max(self.created_at, self.lifecycle.since),
            "tags": dict(self.tags),
        }


@dataclass(kw_only=True)
class DatasetGroup(Resource):
    domain: str | None = None
    role_arn: str | None = None
    kms_key_arn: str | None = None

    def admin_view(self) -> dict[str, Any]:
        return {**super().admin_view(), "domain": self.domain}


@dataclass(kw_only=True)
class EventTracker(Resource):
    dataset_group_arn: str
    tracking_id: str = field(repr=False)  # a credential for PutEvents: never in reprs or logs
    events_received: int = 0

    def admin_view(self) -> dict[str, Any]:
        return {
            **super().admin_view(),
            "datasetGroupArn": self.dataset_group_arn,
            "trackingId": self.tracking_id,
            "eventsReceived": self.events_received,
        }


class Store:
    """The account state; thread safe."""

    def __init__(self, config: EmulatorConfig, *, clock: Clock | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = clock or SystemClock()
        self._paginator = Paginator()
        self._initial = config
        self.config = config
        self._resources: dict[str, Resource] = {}
        self._by_tracking_id: dict[str, str] = {}
        self._holds: list[Hold] = []
        self._failures: list[PlannedFailure] = []
        self._positions = 0

    # -- dataset groups ---------------------------------------------------------------

    def create_dataset_group(
        self,
        caller: Caller,
        *,
        name: str,
        tags: dict[str, str],
        domain: str | None = None,
        role_arn: str | None = None,
        kms_key_arn: str | None = None,
    ) -> DatasetGroup:
        with self._lock:
            self._tick()
            arn = caller.arn(Kind.DATASET_GROUP, name)
            if arn in self._resources:
                raise errors.already_exists(f"Dataset group {arn} already exists.")
            self._check_tag_count(len(tags))
            group = DatasetGroup(
                kind=Kind.DATASET_GROUP,
                name=name,
                arn=arn,
                caller=caller,
                **self._birth(Kind.DATASET_GROUP, name, arn),
                tags=dict(tags),
                domain=domain,
                role_arn=role_arn,
                kms_key_arn=kms_key_arn,
            )
            self._resources[arn] = group
            return group

    def describe_dataset_group(self, caller: Caller, arn: str) -> DatasetGroup:
        with self._lock:
            self._tick()
            return self._get(caller, arn, DatasetGroup)

    def list_dataset_groups(self, caller: Caller, *, token: str | None, size: int | None) -> Page[DatasetGroup]:
        with self._lock:
            self._tick()
            groups = self._of(caller, DatasetGroup)
            return self._paginator.page(
                [(g.position, g) for g in groups], query=f"ListDatasetGroups|{caller.region}", token=token, size=size
            )

    def delete_dataset_group(self, caller: Caller, arn: str) -> None:
        with self._lock:
            self._tick()
            group = self._get(caller, arn, DatasetGroup)
            if group.status in CREATING or group.status in DELETING:
                raise errors.in_use(f"Dataset group {arn} is {group.status}; it cannot be deleted now.")
            tracker = self._tracker_of(arn)
            if tracker is not None:
                raise errors.in_use(f"Dataset group {arn} has event tracker {tracker.arn}; delete it first.")
            group.lifecycle.start_deletion(self._clock.now())
            self._tick()

    # -- event trackers ---------------------------------------------------------------

    def create_event_tracker(
        self, caller: Caller, *, name: str, dataset_group_arn: str, tags: dict[str, str]
    ) -> EventTracker:
        with self._lock:
            self._tick()
            group = self._get(caller, dataset_group_arn, DatasetGroup)
            if group.status is not Status.ACTIVE:
                raise errors.in_use(f"Dataset group {dataset_group_arn} is {group.status}, not ACTIVE.")
            existing = self._tracker_of(dataset_group_arn)
            if existing is not None:
                raise errors.already_exists(
                    f"Dataset group {dataset_group_arn} already has event tracker {existing.arn}; "
                    "only one event tracker can exist per dataset group."
                )
            trackers = self._of(caller, EventTracker)
            same_name = next((t for t in trackers if t.name == name), None)
            if same_name is not None:
                raise errors.already_exists(f"Event tracker {same_name.arn} with name {name} already exists.")
            if len(trackers) >= self.config.tracker_quota:
                raise errors.limit_exceeded(
                    f"Event tracker quota of {self.config.tracker_quota} per account and region reached."
                )
            self._check_tag_count(len(tags))
            arn = self._new_tracker_arn(caller)
            tracking_id = str(uuid.uuid4())
            tracker = EventTracker(
                kind=Kind.EVENT_TRACKER,
                name=name,
                arn=arn,
                caller=caller,
                **self._birth(Kind.EVENT_TRACKER, name, arn),
                tags=dict(tags),
                dataset_group_arn=dataset_group_arn,
                tracking_id=tracking_id,
            )
            self._resources[arn] = tracker
            self._by_tracking_id[tracking_id] = arn
            return tracker

    def describe_event_tracker(self, caller: Caller, arn: str) -> EventTracker:
        with self._lock:
            self._tick()
            return self._get(caller, arn, EventTracker)

    def list_event_trackers(
        self, caller: Caller, *, dataset_group_arn: str | None, token: str | None, size: int | None
    ) -> Page[EventTracker]:
        with self._lock:
            self._tick()
            trackers = [t for t in self._of(caller, EventTracker) if dataset_group_arn in (None, t.dataset_group_arn)]
            query = f"ListEventTrackers|{caller.region}|{dataset_group_arn or ''}"
            return self._paginator.page([(t.position, t) for t in trackers], query=query, token=token, size=size)

    def delete_event_tracker(self, caller: Caller, arn: str) -> None:
        with self._lock:
            self._tick()
            tracker = self._get(caller, arn, EventTracker)
            if tracker.status in CREATING or tracker.status in DELETING:
                raise errors.in_use(f"Event tracker {arn} is {tracker.status}; it cannot be deleted now.")
            tracker.lifecycle.start_deletion(self._clock.now())
            self._tick()

    def record_events(self, caller: Caller, *, tracking_id: str, count: int) -> None:
        """PutEvents: only the trackingId of an ACTIVE tracker in the caller's region is accepted."""
        with self._lock:
            self._tick()
            arn = self._by_tracking_id.get(tracking_id)
            tracker = self._resources.get(arn) if arn else None
            if not isinstance(tracker, EventTracker) or tracker.caller != caller:
                raise errors.not_found("No event tracker has the given tracking ID.")
            if tracker.status is not Status.ACTIVE:
                raise errors.not_found(f"The event tracker with the given tracking ID is {tracker.status}, not ACTIVE.")
            tracker.events_received += count

    # -- tags -------------------------------------------------------------------------

    def tag(self, caller: Caller, arn: str, tags: dict[str, str]) -> None:
        with self._lock:
            self._tick()
            resource = self._taggable(caller, arn)
            merged = {**resource.tags, **tags}
            self._check_tag_count(len(merged))
            resource.tags = merged

    def untag(self, caller: Caller, arn: str, keys: Iterable[str]) -> None:
        with self._lock:
            self._tick()
            resource = self._taggable(caller, arn)
            for key in keys:
                resource.tags.pop(key, None)

    def tags(self, caller: Caller, arn: str) -> dict[str, str]:
        with self._lock:
            self._tick()
            return dict(self._get(caller, arn, Resource).tags)

    # -- test control -----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            self._tick()
            resources = sorted(self._resources.values(), key=lambda r: r.position)
            return {
                "datasetGroups": [r.admin_view() for r in resources if isinstance(r, DatasetGroup)],
                "eventTrackers": [r.admin_view() for r in resources if isinstance(r, EventTracker)],
                "holds": [h.as_json() for h in self._holds],
                "failures": [f.as_json() for f in self._failures],
            }

    def configure(self, **changes: Any) -> EmulatorConfig:
        with self._lock:
            self._tick()  # time so far counts under the old settings
            self.config = self.config.replace(**changes)
            return self.config

    def hold(self, hold: Hold) -> Hold:
        with self._lock:
            self._tick()  # a hold acts from now on, not retroactively
            self._holds.append(hold)
            return hold

    def release(self, *, hold_id: int | None = None, selector: Selector | None = None) -> list[Hold]:
        """Remove holds (all, one by id, or those with exactly `selector`); held resources move on after a delay."""
        with self._lock:
            self._tick()
            released = [
                h
                for h in self._holds
                if (hold_id is None or h.id == hold_id) and (selector is None or h.selector == selector)
            ]
            self._holds = [h for h in self._holds if h not in released]
            now = self._clock.now()
            for resource in self._resources.values():
                if any(h.status is resource.status and self._selects(h.selector, resource) for h in released):
                    resource.lifecycle.restart_clock(now)
            self._tick()
            return released

    def plan_failure(self, failure: PlannedFailure) -> PlannedFailure:
        with self._lock:
            self._failures.append(failure)
            return failure

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def remove(self, arn: str) -> bool:
        """Delete a resource out of band (as if someone used the console); a group takes its tracker along."""
        with self._lock:
            resource = self._resources.get(arn)
            if resource is None:
                return False
            if isinstance(resource, DatasetGroup):
                tracker = self._tracker_of(arn)
                if tracker is not None:
                    self._forget(tracker)
            self._forget(resource)
            return True

    def reset(self) -> None:
        """Back to an empty account and the start-up settings."""
        with self._lock:
            self.config = self._initial
            self._resources.clear()
            self._by_tracking_id.clear()
            self._holds.clear()
            self._failures.clear()

    # -- internals ---------------------------------------------------------------------

    def _birth(self, kind: Kind, name: str, arn: str) -> dict[str, Any]:
        now = self._clock.now()
        self._positions += 1
        failure = next(
            (f.reason for f in self._failures if f.selector.matches(kind=kind, name=name, arn=arn)),
            None,
        )
        return {
            "position": self._positions,
            "created_at": now,
            "lifecycle": Lifecycle.created(now, failure_reason=failure),
        }

    def _new_tracker_arn(self, caller: Caller) -> str:
        while True:
            arn = caller.arn(Kind.EVENT_TRACKER, secrets.token_hex(4))
            if arn not in self._resources:
                return arn

    def _tick(self) -> None:
        now = self._clock.now()
        delay = self.config.transition_delay
        for resource in list(self._resources.values()):
            resource.lifecycle.advance(now, delay, held=self._held_for(resource))
            if resource.status is Status.GONE:
                self._forget(resource)

    def _held_for(self, resource: Resource) -> Callable[[Status], bool]:
        def held(status: Status) -> bool:
            return any(h.status is status and self._selects(h.selector, resource) for h in self._holds)

        return held

    @staticmethod
    def _selects(selector: Selector, resource: Resource) -> bool:
        return selector.matches(kind=resource.kind, name=resource.name, arn=resource.arn)

    def _forget(self, resource: Resource) -> None:
        self._resources.pop(resource.arn, None)
        if isinstance(resource, EventTracker):
            self._by_tracking_id.pop(resource.tracking_id, None)

    def _get(self, caller: Caller, arn: str, kind: type[R]) -> R:
        resource = self._resources.get(arn)
        if not isinstance(resource, kind) or resource.caller != caller:
            raise errors.not_found(f"Resource {arn} does not exist.")
        return resource

    def _taggable(self, caller: Caller, arn: str) -> Resource:
        resource = self._get(caller, arn, Resource)
        if resource.status in DELETING:
            raise errors.in_use(f"Resource {arn} is {resource.status}.")
        return resource

    def _of(self, caller: Caller, kind: type[R]) -> list[R]:
        found = [r for r in self._resources.values() if isinstance(r, kind) and r.caller == caller]
        return sorted(found, key=lambda r: r.position)

    def _tracker_of(self, dataset_group_arn: str) -> EventTracker | None:
        return next(
            (
                r
                for r in self._resources.values()
                if isinstance(r, EventTracker) and r.dataset_group_arn == dataset_group_arn
            ),
            None,
        )

    def _check_tag_count(self, count: int) -> None:
        limit = self.config.max_tags_per_resource
        if count > limit:
            raise errors.too_many_tags(f"A resource can have at most {limit} tags; the request would give it {count}.")
