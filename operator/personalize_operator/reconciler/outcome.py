"""How every pass ends, in one place: the status it writes, its transition Event, and its count.

Every way a pass can end (a reconcile or finalize step, a spec that does not
parse, a tenancy refusal, a resumed Active resource) goes through `conclude`,
so none of them can miss the status's conditions, the Event of a changed
state, the `personalize_operator_reconciles_total` count or controller-runtime's
`controller_runtime_reconcile_total{result}` (`reconcile_result` says which result a pass end is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from personalize_operator.aws.errors import THROTTLED_REASONS
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.reconciler import status
from personalize_operator.reconciler.decide import (
    Decision,
    Desired,
    Event,
    Recorded,
    Step,
    pass_events,
    transition_event,
)
from personalize_operator.runtime import metrics
from personalize_operator.runtime.metrics import ReconcileResult

RELEASE_STEPS = frozenset({Step.RELEASE, Step.RELEASE_RETAINED})  # the finalizer may go


@dataclass
class Outcome:
    """What a pass produced: the status patch, Events to post, and when to come back."""

    decision: Decision
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def requeue(self) -> float | None:
        return self.decision.requeue

    @property
    def release(self) -> bool:
        """The finalizer may go."""
        return self.decision.step in RELEASE_STEPS


def action_label(decision: Decision, *, deleting: bool) -> str:
    """The counter's `action`: the step decided, `finalize-` in front for a deletion's steps."""
    return f"finalize-{decision.step}" if deleting else str(decision.step)


def reconcile_result(decision: Decision) -> ReconcileResult:
    """controller-runtime's result for a pass end (pure; docs/observability.md has the table).

    success: settled (Active, Paused, or a deletion whose finalizer may go); error: the pass failed or
    only a person can move it on (an AWS error, Forbidden, CreateFailed, InvalidSpec, a Secret not
    written); requeue_after: waiting on something with a delay (Creating, Deleting, Adopting, and
    throttling, where AWS only asked us to slow down); requeue: again at once (no pass end asks that today).
    """
    if decision.step in RELEASE_STEPS or decision.step == Step.PAUSE:
        return ReconcileResult.SUCCESS
    if decision.reason in THROTTLED_REASONS:
        return ReconcileResult.REQUEUE_AFTER
    if decision.stalled or not decision.synced:
        return ReconcileResult.ERROR
    if decision.requeue is None:
        return ReconcileResult.SUCCESS
    return ReconcileResult.REQUEUE if decision.requeue <= 0 else ReconcileResult.REQUEUE_AFTER


def count(decision: Decision, *, deleting: bool) -> None:
    """One pass end in our counter and controller-runtime's; a live pass's error requeued is a work-queue retry."""
    metrics.RECONCILES.labels(action=action_label(decision, deleting=deleting), result=decision.reason).inc()
    result = reconcile_result(decision)
    metrics.RECONCILE_TOTAL.labels(metrics.CONTROLLER, result).inc()
    if result == ReconcileResult.ERROR:
        metrics.RECONCILE_ERRORS.labels(metrics.CONTROLLER).inc()
        if decision.requeue is not None and not deleting:  # deletions run in kopf's handler, not the queue
            metrics.WORKQUEUE_RETRIES.labels(metrics.CONTROLLER, metrics.CONTROLLER).inc()


def conclude(
    decision: Decision,
    *,
    desired: Desired | None,
    recorded: Recorded,
    previous_conditions: Iterable[Mapping[str, Any]],
    now: str,
    tracker: RemoteTracker | None = None,
    events: Iterable[Event] = (),
    generation: int = 0,
    deleting: bool = False,
    create_requested: bool = False,
    unchanged: bool = False,
) -> Outcome:
    """End a pass: render its status, put the transition Event first (pass_events), count it by action and result.

    `desired` None: the spec did not parse (only phase and conditions at `generation` are written).
    `unchanged`: the pass confirmed what status already says, so nothing is written (a resumed Active).
    """
    if unchanged:
        rendered: dict[str, Any] = {}
    elif desired is None:
        rendered = status.render_invalid(decision, generation, previous_conditions, now)
    else:
        rendered = status.render(
            desired, recorded, decision, tracker, previous_conditions, now, create_requested=create_requested
        )
    first = transition_event(recorded, decision)
    count(decision, deleting=deleting)
    return Outcome(decision=decision, status=rendered, events=pass_events(first, list(events)))
