"""Where the status board saves AWS calls: waiting on a tracker in transition, and resuming Active resources.

Waiting: a pass that ends waiting on a tracker in CREATE/DELETE PENDING or
IN_PROGRESS follows it on its region's board instead of polling it: the
board's one ListEventTrackers a second wakes the resource as soon as the
tracker leaves that stage, and the pass's own requeue becomes a long safety
net (in case a wake-up is ever lost).

Reading from the list (`BoardTrackers`): the board wakes a follower at every
status step, and its pass reads the status from the list that woke it
instead of a Describe; when the list says ACTIVE for a tracker this process
created, the CreateEventTracker answer (kept in memory by aws.TrackerClient)
holds the trackingId, so the pass that writes the Secret needs no Describe
either.

Resuming: after a restart every resource runs a first pass. For a
resource that was Active, whose spec has not changed since, whose Secret is
intact (its data still hashes to the data-hash annotation and names the
recorded ARN) and whose tracker the board lists as ACTIVE, that pass has
nothing to do: the board answers all of them from one list per region
instead of a Describe and a ListTagsForResource each. Tags are compared at
the next resync, spread over the resync interval (pacing.first_delay).
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from kubernetes.client.rest import ApiException

from personalize_operator.api.names import DATA_HASH_ANNOTATION
from personalize_operator.aws.client import TrackerClient
from personalize_operator.aws.statusboard import TRANSITIONAL, StatusBoard
from personalize_operator.aws.tracker import ACTIVE, RemoteTracker
from personalize_operator.kube.secrets import REQUEST_TIMEOUT, data_hash, owner_uid
from personalize_operator.kube.secretsapi import SecretsApi
from personalize_operator.reconciler.decide import Decision, Desired, Phase, Recorded, Step
from personalize_operator.reconciler.reconcile import Outcome

log = logging.getLogger(__name__)

SAFETY_NET_SECONDS = 120.0  # a followed resource still looks by itself this often (a lost wake-up costs this)
# A list this recent may stand in for a Describe. Generous on purpose: in a burst the woken pass may wait
# for a worker thread and the list's pages for tokens; ACTIVE does not change by itself, and a status in
# transition read a little late only means one more wake-up by the next list.
BOARD_FRESHNESS_SECONDS = 30.0


class BoardTrackers:
    """A region's tracker client whose `describe` is answered from a recent board list when the list says
    enough: a tracker in transition (its status is all a waiting pass needs), or one this process created
    that the list shows ACTIVE (the create answer holds its trackingId). Everything else goes to AWS."""

    def __init__(self, inner: TrackerClient, board: StatusBoard, dataset_group_arn: str) -> None:
        self._inner = inner
        self._board = board
        self._dataset_group_arn = dataset_group_arn

    def describe(self, arn: str, *, with_tags: bool = False) -> RemoteTracker | None:
        seen = None if with_tags else self._board.recent(arn, within=BOARD_FRESHNESS_SECONDS)
        account_id = arn.split(":")[4] if arn.count(":") >= 5 else ""
        if seen is not None and seen.status in TRANSITIONAL:
            return RemoteTracker(
                arn=arn,
                name=seen.name,
                status=seen.status,
                dataset_group_arn=self._dataset_group_arn,
                account_id=account_id,
            )
        created = self._inner.created(arn) if seen is not None and seen.status == ACTIVE else None
        if created is None:
            return self._inner.describe(arn, with_tags=with_tags)
        self._inner.forget_created(arn)
        tracking_id, dataset_group_arn = created
        return RemoteTracker(
            arn=arn,
            name=seen.name if seen else "",
            status=ACTIVE,
            dataset_group_arn=dataset_group_arn,
            account_id=account_id,
            tracking_id=tracking_id,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def follow_if_waiting(board: StatusBoard | None, uid: str, outcome: Outcome) -> Outcome:
    """Follow the tracker on the board when the pass waits on a transition; the requeue becomes the safety net."""
    decision = outcome.decision
    arn, aws_status = outcome.status.get("eventTrackerArn"), outcome.status.get("awsStatus")
    if board is None or not arn or aws_status not in TRANSITIONAL or decision.requeue is None or not decision.synced:
        return outcome
    board.follow(uid, str(arn), str(aws_status))
    longer = dataclasses.replace(decision, requeue=max(decision.requeue, SAFETY_NET_SECONDS))
    return dataclasses.replace(outcome, decision=longer)


def settled_active(desired: Desired, recorded: Recorded) -> bool:
    """Status says Active for the current spec, nothing asked of us (pure)."""
    return (
        recorded.phase == Phase.ACTIVE
        and recorded.reason == "Active"
        and bool(recorded.arn)
        and recorded.observed_generation == desired.generation
        and recorded.secret_name == desired.secret_name
        and not desired.paused
        and desired.retry_token == recorded.retry_token
    )


def secret_intact(secret: Any, uid: str, arn: str) -> bool:
    """Ours, its data unedited since we wrote it (the hash annotation), and naming our tracker (pure)."""
    data: Mapping[str, str] = secret.data or {}
    annotations = secret.metadata.annotations or {}
    try:
        named = base64.b64decode(data.get("eventTrackerArn", "")).decode()
    except ValueError:
        return False
    return (
        owner_uid(secret.metadata) == uid
        and bool(data.get("trackingId"))
        and annotations.get(DATA_HASH_ANNOTATION) == data_hash(data)
        and named == arn
    )


def resumes_unchanged(
    board: StatusBoard | None, core: SecretsApi, desired: Desired, recorded: Recorded, since: float
) -> bool:
    """True when a first pass after start-up has nothing to do (see the module docstring); any doubt is False."""
    if board is None or not settled_active(desired, recorded):
        return False
    try:
        secret = core.read_namespaced_secret(desired.secret_name, desired.namespace, _request_timeout=REQUEST_TIMEOUT)
    except ApiException:
        return False  # missing or unreadable: the full pass repairs or reports it
    if not secret_intact(secret, desired.uid, recorded.arn):
        return False
    try:
        seen = board.lookup(recorded.arn, newer_than=since)
    except Exception as error:  # throttled, unreachable: the full pass makes its own calls and reports
        log.info("status board unavailable at resume (%s); describing instead", type(error).__name__)
        return False
    return seen is not None and seen.status == ACTIVE


def resumed(desired: Desired) -> Outcome:
    """The outcome of a first pass that found everything in line: nothing written, no Event."""
    decision = Decision(
        Step.SYNC,
        Phase.ACTIVE,
        "Active",
        f"event tracker {desired.tracker_name} is ACTIVE (region's tracker list) and Secret"
        f" {desired.secret_name} is intact; tags are compared at the next resync",
    )
    return Outcome(decision=decision, status={}, events=[])
