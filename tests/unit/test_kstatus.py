"""Reconciling and Stalled, and what kstatus (sigs.k8s.io/cli-utils, as Flux and kpt run it) makes of them.

The pure rules are table-tested. Every status the operator's decisions render is then
handed to cli-utils' own status.Compute, built from its Go module (tests/gitops/).
tests/e2e/test_gitops_status.py does the same on live objects.
"""

from __future__ import annotations

from typing import Any

import pytest

from personalize_operator.api.names import RECONCILING, STALLED, Phase
from personalize_operator.reconciler.conditions import kstatus_conditions
from support.gitops import GitopsCheck
from support.statuses import GENERATION, STATUSES, RenderedStatus


def _by_type(phase: str, reason: str, *, deleting: bool = False) -> dict[str, dict[str, Any]]:
    found = kstatus_conditions(phase, reason, f"{reason} explained", 7, deleting=deleting)
    return {condition["type"]: condition for condition in found}


@pytest.mark.parametrize(
    ("phase", "reason", "deleting", "reconciling", "stalled"),
    [
        pytest.param(Phase.ACTIVE, "Active", False, "False", "False", id="active"),
        pytest.param(Phase.ACTIVE, "AWSUnavailable", False, "False", "False", id="active-with-a-failing-update"),
        pytest.param(Phase.CREATING, "Creating", False, "True", "False", id="creating"),
        pytest.param(Phase.CREATING, "Retrying", False, "True", "False", id="retrying-a-failed-creation"),
        pytest.param(Phase.PENDING, "DatasetGroupNotFound", False, "True", "False", id="pending-with-retry"),
        pytest.param(Phase.PENDING, "AccessDenied", False, "True", "False", id="pending-access-denied"),
        pytest.param(Phase.DELETING, "Deleting", True, "True", "False", id="deleting"),
        pytest.param(Phase.DELETING, "Retained", True, "True", "False", id="retained"),
        pytest.param(Phase.FAILED, "Conflict", False, "False", "True", id="conflict"),
        pytest.param(Phase.FAILED, "NameConflict", False, "False", "True", id="name-conflict"),
        pytest.param(Phase.FAILED, "CreateFailed", False, "False", "True", id="create-failed"),
        pytest.param(Phase.FAILED, "InvalidSpec", False, "False", "True", id="invalid-spec"),
        pytest.param(Phase.FAILED, "SecretConflict", False, "False", "True", id="secret-conflict"),
        pytest.param(Phase.PENDING, "Forbidden", False, "False", "True", id="forbidden-in-any-phase"),
        pytest.param(Phase.FAILED, "SomethingNew", False, "False", "True", id="any-failed-phase"),
        pytest.param(Phase.DELETING, "Forbidden", True, "False", "True", id="stalled-while-deleting"),
    ],
)
def test_reconciling_while_the_operator_works_and_stalled_when_a_person_must_act(
    phase: Phase, reason: str, deleting: bool, reconciling: str, stalled: str
) -> None:
    found = _by_type(phase, reason, deleting=deleting)

    assert (found[RECONCILING]["status"], found[STALLED]["status"]) == (reconciling, stalled)


def test_the_true_condition_carries_the_reason_and_message_and_the_false_one_only_the_reason() -> None:
    found = _by_type(Phase.FAILED, "Conflict")

    assert found[STALLED] == {
        "type": STALLED,
        "status": "True",
        "reason": "Conflict",
        "message": "Conflict explained",
        "observedGeneration": 7,
    }
    assert (found[RECONCILING]["reason"], found[RECONCILING]["message"]) == ("Conflict", "")
    assert found[RECONCILING]["observedGeneration"] == 7


def test_both_are_always_written_so_an_old_true_turns_false() -> None:
    assert [condition["type"] for condition in kstatus_conditions(Phase.ACTIVE, "Active", "", 1)] == [
        RECONCILING,
        STALLED,
    ]


def _expected_kstatus(phase: Phase, deleting: bool) -> str:
    if deleting:
        return "Terminating"
    return {Phase.ACTIVE: "Current", Phase.FAILED: "Failed"}.get(phase, "InProgress")


@pytest.mark.parametrize("case", STATUSES, ids=[case.name for case in STATUSES])
def test_kstatus_of_every_status_the_operator_renders(gitops_check: GitopsCheck, case: RenderedStatus) -> None:
    decision = case.decision
    [result] = gitops_check.kstatus([case.event_tracker()])

    assert result["status"] == _expected_kstatus(decision.phase, case.deleting)
    if result["status"] in ("Failed", "InProgress"):
        assert result["message"] == decision.message


def test_kstatus_waits_for_the_operator_to_observe_a_new_generation(gitops_check: GitopsCheck) -> None:
    active = next(case for case in STATUSES if case.name == "active")
    tracker = active.event_tracker(generation=GENERATION + 1)

    [result] = gitops_check.kstatus([tracker])

    assert result == {
        "status": "InProgress",
        "message": f"EventTracker generation is {GENERATION + 1}, but latest observed generation is {GENERATION}",
    }
