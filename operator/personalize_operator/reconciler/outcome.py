"""How every pass ends, in one place: the status it writes, its transition Event, and its count.

Every way a pass can end (a reconcile or finalize step, a spec that does not
parse, a tenancy refusal, a resumed Active resource) goes through `conclude`,
so none of them can miss the status's conditions, the Event of a changed
state or the `personalize_operator_reconciles_total` count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
        return self.decision.step in {Step.RELEASE, Step.RELEASE_RETAINED}


def action_label(decision: Decision, *, deleting: bool) -> str:
    """The counter's `action`: the step decided, `finalize-` in front for a deletion's steps."""
    return f"finalize-{decision.step}" if deleting else str(decision.step)


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
    metrics.RECONCILES.labels(action=action_label(decision, deleting=deleting), result=decision.reason).inc()
    return Outcome(decision=decision, status=rendered, events=pass_events(first, list(events)))
