"""The statuses table the Argo CD and kstatus checks run on: complete, and made by the operator's own code."""

from __future__ import annotations

import pytest

from personalize_operator.api.names import READY
from support.behaviour import ROWS
from support.statuses import STATUSES, RenderedStatus, decide_functions, reasons_decide_can_produce


def _shown(cases: list[RenderedStatus]) -> set[str]:
    return {case.decision.reason for case in cases}


def test_every_reason_the_decision_module_can_produce_has_a_status() -> None:
    assert reasons_decide_can_produce() - _shown(STATUSES) == set()


def test_a_reason_left_out_of_the_table_would_be_noticed() -> None:
    without_forbidden = [case for case in STATUSES if case.decision.reason != "Forbidden"]

    assert reasons_decide_can_produce() - _shown(without_forbidden) == {"Forbidden"}


def test_every_decide_function_has_a_row() -> None:
    assert decide_functions() - {row.made_by for row in ROWS} == set()


@pytest.mark.parametrize("case", STATUSES, ids=[case.name for case in STATUSES])
def test_each_status_carries_its_decision(case: RenderedStatus) -> None:
    ready = next(c for c in case.status["conditions"] if c["type"] == READY)

    assert (case.status["phase"], ready["reason"], ready["message"]) == (
        str(case.decision.phase),
        case.decision.reason,
        case.decision.message,
    )


def test_case_names_are_unique() -> None:
    names = [case.name for case in STATUSES]
    assert len(names) == len(set(names))
