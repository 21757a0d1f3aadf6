"""`personalize-operator import`: manifests that adopt the event trackers already in an AWS region.

Why: producers have trackingIds baked in, so moving to GitOps must never
recreate a tracker. Every manifest carries `personalize.operators.dev/adopt:
"true"`, so applying it adopts the tracker (same ARN, same trackingId, no
CreateEventTracker). Trackers an existing EventTracker owns (its uid in the
ownership tags) and trackers that are not ACTIVE are skipped with a comment
saying why. `plan` is pure; `discover` does the AWS and Kubernetes reads.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from personalize_operator.api import model, names
from personalize_operator.api.names import ADOPT_ANNOTATION, NAME_TAG, NAMESPACE_TAG, UID_TAG
from personalize_operator.aws.client import TrackerClient, translate
from personalize_operator.aws.tracker import ACTIVE, RemoteTracker
from personalize_operator.tools.exits import RefusedInput
from personalize_operator.tools.manifest import dns_name, validate
from personalize_operator.tools.output import Document

PROGRESS_THRESHOLD = 5  # a bar only when there are more trackers than this


@dataclass(frozen=True)
class Candidate:
    """A tracker found in AWS, and the live EventTracker that owns it (namespace/name), if any."""

    tracker: RemoteTracker
    owner: str | None = None
    owner_unknown: str | None = None  # why ownership could not be checked (no cluster), when it could not


@dataclass(frozen=True)
class Skipped:
    arn: str
    name: str
    reason: str

    def line(self) -> str:
        return f"skipped {self.name} ({self.arn}): {self.reason}"


@dataclass
class ImportPlan:
    manifests: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def user_tags(tags: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Tags a manifest may carry, and the keys left out (ownership tags, aws:*: the CRD refuses them)."""
    kept, dropped = {}, []
    for key, value in sorted(tags.items()):
        if key.startswith(names.RESERVED_TAG_PREFIX) or key.lower().startswith(names.AWS_TAG_PREFIX):
            dropped.append(key)
        else:
            kept[key] = value
    return kept, dropped


def _skip_reason(candidate: Candidate) -> str | None:
    tracker = candidate.tracker
    if tracker.status != ACTIVE:
        because = f": {tracker.failure_reason}" if tracker.failure_reason else ""
        return f"status is {tracker.status}, not ACTIVE{because}"
    if candidate.owner is not None:
        return f"owned by EventTracker {candidate.owner} (uid {tracker.tags.get(UID_TAG, '')})"
    if candidate.owner_unknown is not None and UID_TAG in tracker.tags:
        owner = f"{tracker.tags.get(NAMESPACE_TAG, '?')}/{tracker.tags.get(NAME_TAG, '?')}"
        return f"carries the ownership tags of EventTracker {owner}, and the cluster could not be checked: " + (
            candidate.owner_unknown
        )
    return None


def _unique(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 2
    while candidate in taken:
        tail = f"-{suffix}"
        candidate = name[: model.MAX_DEFAULTED_NAME - len(tail)] + tail
        suffix += 1
    taken.add(candidate)
    return candidate


def manifest_for(tracker: RemoteTracker, *, metadata_name: str, namespace: str | None, deletion_policy: str) -> dict:
    tags, _ = user_tags(tracker.tags)
    metadata: dict[str, Any] = {"name": metadata_name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["annotations"] = {ADOPT_ANNOTATION: "true"}
    spec: dict[str, Any] = {"name": tracker.name, "datasetGroupArn": tracker.dataset_group_arn}
    if tags:
        spec["tags"] = [{"tagKey": key, "tagValue": value} for key, value in tags.items()]
    spec["deletionPolicy"] = deletion_policy
    return {"apiVersion": f"{names.GROUP}/{names.VERSION}", "kind": names.KIND, "metadata": metadata, "spec": spec}


def plan(candidates: Iterable[Candidate], *, namespace: str | None, deletion_policy: str) -> ImportPlan:
    """Which trackers become manifests and which are skipped, and why; no I/O."""
    result = ImportPlan()
    taken: set[str] = set()
    for candidate in sorted(candidates, key=lambda c: (c.tracker.name, c.tracker.arn)):
        tracker = candidate.tracker
        reason = _skip_reason(candidate)
        if reason is not None:
            result.skipped.append(Skipped(tracker.arn, tracker.name, reason))
            continue
        name = _unique(dns_name(tracker.name)[: model.MAX_DEFAULTED_NAME].strip("-"), taken)
        body = manifest_for(tracker, metadata_name=name, namespace=namespace, deletion_policy=deletion_policy)
        try:
            validate(body)
        except RefusedInput as refused:
            result.skipped.append(Skipped(tracker.arn, tracker.name, "; ".join(refused.problems)))
            continue
        comments = [f"{tracker.arn}: adopted as it is (same ARN and trackingId, no CreateEventTracker)"]
        if UID_TAG in tracker.tags:
            former = f"{tracker.tags.get(NAMESPACE_TAG, '?')}/{tracker.tags.get(NAME_TAG, '?')}"
            comments.append(f"its ownership tags name EventTracker {former}, which no longer exists")
        _, dropped = user_tags(tracker.tags)
        if dropped:
            comments.append(f"tags left out (reserved): {', '.join(dropped)}")
        result.manifests.append(Document(body=body, comments=tuple(comments)))
    return result


# -- I/O ------------------------------------------------------------------------------------------


def list_arns(client: TrackerClient, dataset_group_arns: Sequence[str]) -> list[str]:
    """ARNs of the region's trackers (ListEventTrackers), all of them or those of the given dataset groups."""
    import botocore.exceptions

    paginator = client.client.get_paginator("list_event_trackers")
    scopes: list[dict[str, str]] = [{"datasetGroupArn": arn} for arn in dataset_group_arns] or [{}]
    arns: list[str] = []
    try:
        for scope in scopes:
            for page in paginator.paginate(**scope):
                arns += [summary["eventTrackerArn"] for summary in page.get("eventTrackers", [])]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise translate(error, "ListEventTrackers") from error
    return list(dict.fromkeys(arns))


def describe_all(client: TrackerClient, arns: Sequence[str], stderr: TextIO | None = None) -> list[RemoteTracker]:
    """DescribeEventTracker and ListTagsForResource for each ARN, with a progress bar when there are many."""
    from tqdm import tqdm

    found = []
    bar = tqdm(
        arns,
        desc="describing event trackers",
        unit="tracker",
        file=stderr or sys.stderr,
        disable=len(arns) <= PROGRESS_THRESHOLD,
        leave=True,
    )
    for arn in bar:
        tracker = client.describe(arn, with_tags=True)
        if tracker is not None:  # deleted since it was listed
            found.append(tracker)
    return found


OwnerLookup = Callable[[RemoteTracker], str | None]


def cluster_owners(custom: Any) -> OwnerLookup:
    """A lookup from a tracker's uid tag to the live EventTracker (namespace/name) with that uid."""
    from kubernetes.client.rest import ApiException

    try:
        listed = custom.list_cluster_custom_object(names.GROUP, names.VERSION, names.PLURAL, _request_timeout=30)[
            "items"
        ]
        by_uid = {meta["uid"]: f"{meta['namespace']}/{meta['name']}" for meta in (item["metadata"] for item in listed)}
    except ApiException as error:
        if error.status != 403:
            raise
        by_uid = None  # no cluster-wide list: ask for each tagged name instead

    def owner(tracker: RemoteTracker) -> str | None:
        uid = tracker.tags.get(UID_TAG)
        if not uid:
            return None
        if by_uid is not None:
            return by_uid.get(uid)
        namespace, name = tracker.tags.get(NAMESPACE_TAG), tracker.tags.get(NAME_TAG)
        if not namespace or not name:
            return None
        try:
            item = custom.get_namespaced_custom_object(
                names.GROUP, names.VERSION, namespace, names.PLURAL, name, _request_timeout=30
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return f"{namespace}/{name}" if item["metadata"].get("uid") == uid else None

    return owner


def candidates(trackers: Iterable[RemoteTracker], owners: OwnerLookup | None, unknown: str | None) -> list[Candidate]:
    if owners is None:
        return [Candidate(tracker=t, owner_unknown=unknown or "no cluster") for t in trackers]
    return [Candidate(tracker=t, owner=owners(t)) for t in trackers]
