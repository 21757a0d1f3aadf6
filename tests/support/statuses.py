"""Every status the operator writes, made by its own code: each decision of the behaviour table, rendered.

The Argo CD health check and kstatus are judged on these. The decisions come from
support/behaviour.py (the real decide* functions) plus one row per reason the
real error table can lead decide_error to; the statuses from the real renderer
(reconciler.status.render, or render_invalid for a spec that did not parse).
`reasons_decide_can_produce` reads the decision module itself, so a reason no
row shows fails tests/unit/test_statuses.py instead of going unchecked.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from personalize_operator.api.names import READY, RECONCILING, STALLED, SYNCED
from personalize_operator.aws.errors import CODE_KINDS, make
from personalize_operator.reconciler import decide as decide_module
from personalize_operator.reconciler.decide import Decision, Recorded, decide_error
from personalize_operator.reconciler.status import render, render_invalid
from support.behaviour import ROWS, Row, failure
from support.builders import desired, event_tracker

SINCE = "2025-01-01T10:00:00Z"
GENERATION = desired().generation
PHASES_BEFORE_AN_ERROR = ("", "Creating", "Active")
OURS = (READY, SYNCED, RECONCILING, STALLED)


@dataclass(frozen=True)
class RenderedStatus:
    name: str
    decision: Decision
    deleting: bool
    generation: int  # metadata.generation of the resource the pass looked at
    status: dict[str, Any]

    def event_tracker(self, *, generation: int | None = None) -> dict[str, Any]:
        """The whole object carrying this status (at `generation`, else the pass's), deleting if the pass was."""
        return event_tracker(self.status, generation=generation or self.generation, deleting=self.deleting)


def rendered(row: Row) -> RenderedStatus:
    """The status a pass ending in `row`'s decision writes, from the operator's renderer."""
    if row.parsed:
        observed = row.observed.tracker
        status = render(row.desired, row.recorded, row.decision, observed, [], SINCE)
    else:
        status = render_invalid(row.decision, row.desired.generation, [], SINCE)
    return RenderedStatus(row.name, row.decision, row.deleting, row.desired.generation, status)


def error_rows() -> list[Row]:
    """One row per (phase, reason) the real error table leads decide_error to, before and during deletion."""
    rows: dict[tuple[str, str, bool], Row] = {}
    for code in sorted(CODE_KINDS):
        for before in PHASES_BEFORE_AN_ERROR:
            for deleting in (False, True):
                decision = decide_error(make(code, "", "op"), desired(), Recorded(phase=before), deleting=deleting)
                key = (str(decision.phase), decision.reason, deleting)
                name = f"{code}-{before or 'new'}{'-deleting' if deleting else ''}"
                expected = (decision.step, decision.phase, decision.reason)
                rows.setdefault(key, failure(name, code, expected, before=before, deleting=deleting))
    return list(rows.values())


def _covered(rows: list[Row]) -> set[tuple[str, str, bool]]:
    return {(str(row.decision.phase), row.decision.reason, row.deleting) for row in rows}


STATUSES = [rendered(row) for row in ROWS]
STATUSES += [rendered(row) for row in error_rows() if not _covered([row]) <= _covered(ROWS)]


def reasons_decide_can_produce() -> set[str]:
    """Every Ready reason the decision module can write: its literal reasons, and each one its error table gives."""
    tree = ast.parse(inspect.getsource(decide_module))
    literal = {
        call.args[2].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Decision"
        if len(call.args) > 2 and isinstance(call.args[2], ast.Constant) and isinstance(call.args[2].value, str)
    }
    from_errors = {row.decision.reason for row in error_rows()}
    return literal | from_errors


def decide_functions() -> set[str]:
    """The public decide* functions of the decision module (each must have a row)."""
    return {name for name, _ in inspect.getmembers(decide_module, inspect.isfunction) if name.startswith("decide")}


def condition_states(status: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """type -> (status, reason) of the conditions the operator writes (timestamps and messages left out)."""
    return {c["type"]: (c["status"], c.get("reason", "")) for c in status.get("conditions") or [] if c["type"] in OURS}


def rendered_condition_states(phase: str, reason: str, *, deleting: bool) -> list[dict[str, tuple[str, str]]]:
    """The condition states of every status in the table with this phase and Ready reason."""
    return [
        condition_states(case.status)
        for case in STATUSES
        if (case.status["phase"], case.decision.reason, case.deleting) == (phase, reason, deleting)
    ]
