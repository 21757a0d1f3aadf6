"""Where the status board saves AWS calls: waiting on a tracker in transition, and resuming Active resources.

Waiting: a pass that ends waiting on a tracker in CREATE/DELETE PENDING or
IN_PROGRESS follows it on its region's board instead of polling it: the
board's one ListEventTrackers a second wakes the resource as soon as the
tracker leaves that stage, and the pass's own requeue becomes a long safety
net (in case a wake-up is ever lost).

Reading from the list (`statusboard.BoardTrackers`): the board wakes a follower at every
status step, and its pass reads the status from the list that woke it
instead of a Describe; when the list says ACTIVE for a tracker this process
created, the CreateEventTracker answer (kept in memory by aws/client.TrackerClient)
holds the trackingId, so the pass that writes the Secret needs no Describe
either.

Resuming: after a restart every resource runs a first pass. For a
resource that was Active, whose spec has not changed since, whose Secret is
intact (its data still hashes to the data-hash annotation and names the
recorded ARN) and whose tracker the board lists as ACTIVE, that pass has
nothing to do: the board answers all of them from one list per region
instead of a Describe and a ListTagsForResource each. Tags are compared at
the next resync, spread over the resync interval (requeue.first_delay).
"""

from __future__ import annotations

import dataclasses
import logging

from kubernetes.client.rest import ApiException

from personalize_operator.aws.ratelimit import BudgetWait
from personalize_operator.aws.statusboard import StatusBoard
from personalize_operator.aws.tracker import ACTIVE, TRANSITIONAL_STATES
from personalize_operator.kube.secrets import REQUEST_TIMEOUT, secret_intact
from personalize_operator.kube.secretsapi import SecretsApi
from personalize_operator.reconciler.decide import Desired, Recorded, settled_active
from personalize_operator.reconciler.outcome import Outcome
from personalize_operator.reconciler.reconcile import secret_shape
from personalize_operator.reconciler.requeue import SAFETY_NET_SECONDS

log = logging.getLogger(__name__)


def waits_on_transition(outcome: Outcome) -> bool:
    """The pass ended waiting for its tracker to leave a transitional state (what a status board follows)."""
    decision = outcome.decision
    arn, aws_status = outcome.status.get("eventTrackerArn"), outcome.status.get("awsStatus")
    return bool(arn) and aws_status in TRANSITIONAL_STATES and decision.requeue is not None and decision.synced


def follow_if_waiting(board: StatusBoard | None, uid: str, outcome: Outcome) -> Outcome:
    """Follow the tracker on the board when the pass waits on a transition; the requeue becomes the safety net."""
    decision = outcome.decision
    if board is None:
        return outcome
    if not waits_on_transition(outcome):
        board.forget(uid)  # not waiting (any more): a follow left from a step must not wake it again
        return outcome
    assert decision.requeue is not None
    board.follow(uid, str(outcome.status["eventTrackerArn"]), str(outcome.status["awsStatus"]))
    longer = dataclasses.replace(decision, requeue=max(decision.requeue, SAFETY_NET_SECONDS))
    return dataclasses.replace(outcome, decision=longer)


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
    if not secret_intact(secret, desired.uid, recorded.arn, secret_shape(desired)):
        return False
    try:
        seen = board.lookup(recorded.arn, newer_than=since)
    except BudgetWait:
        raise  # the pass waits for its turn in the call budget, then resumes the same way
    except Exception as error:  # throttled, unreachable: the full pass makes its own calls and reports
        log.info("status board unavailable at resume (%s); describing instead", type(error).__name__)
        return False
    return seen is not None and seen.status == ACTIVE
