"""What Flux (kstatus) and Argo CD (the health check) make of live EventTrackers in every phase.

The objects come from the real API server, reconciled by the operator process against
the emulator. cli-utils' status.Compute and Argo CD's gopher-lua judge them, each built
from its own Go module (tests/gitops/).
"""

from __future__ import annotations

from typing import Any

from personalize_emulator.testing import Emulator, dataset_group_arn
from support.gitops import GitopsCheck
from support.statuses import condition_states, rendered_condition_states
from support.trackers import REPO, Trackers, manifest
from support.wait import wait_for

HEALTH_LUA = REPO / "docs" / "argocd" / "health.lua"


def verdicts(check: GitopsCheck, obj: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(kstatus result, Argo CD health with argocd-cm's libraries) for one live object.

    First, the live conditions must be ones the statuses table renders for that phase and reason: the
    unit tests judge every status of that table, so this keeps the table honest about what is written.
    """
    status, deleting = obj["status"], "deletionTimestamp" in obj["metadata"]
    rendered = rendered_condition_states(status["phase"], condition(obj, "Ready")["reason"], deleting=deleting)
    assert condition_states(status) in rendered, (condition_states(status), rendered)
    [kstatus] = check.kstatus([obj])
    [health] = check.health(HEALTH_LUA, [obj])
    return kstatus, health


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c["type"] == kind), {})


def settled(trackers: Trackers, name: str, phase: str, reason: str, timeout: float = 30) -> dict[str, Any]:
    trackers.wait_phase(name, phase, reason=reason, timeout=timeout)
    return trackers.get(name)


def assert_failed_with_the_stalled_message(check: GitopsCheck, obj: dict[str, Any], reason: str) -> str:
    """Flux's Failed and Argo CD's Degraded, both carrying the Stalled condition's message (returned)."""
    kstatus, health = verdicts(check, obj)
    stalled = condition(obj, "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", reason)
    assert kstatus == {"status": "Failed", "message": stalled["message"]}
    assert health == {"status": "Degraded", "message": f"{reason}: {stalled['message']}"}
    return str(stalled["message"])


def assert_in_progress_with_the_reconciling_message(
    check: GitopsCheck, obj: dict[str, Any], reason: str
) -> dict[str, str]:
    """Flux's InProgress carrying the Reconciling condition's message; Argo CD's health returned."""
    kstatus, health = verdicts(check, obj)
    reconciling = condition(obj, "Reconciling")
    assert (reconciling["status"], reconciling["reason"]) == ("True", reason)
    assert kstatus == {"status": "InProgress", "message": reconciling["message"]}
    return health


class TestEveryPhaseAsGitOpsToolsSeeIt:
    """Flux waits while the operator works, fails with the reason when a person must act, and Argo CD agrees."""

    def test_an_active_tracker_is_current_and_healthy(
        self, trackers: Trackers, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        trackers.create(manifest("gitops-active", dataset_group))
        obj = settled(trackers, "gitops-active", "Active", "Active", timeout=60)

        kstatus, health = verdicts(gitops_check, obj)

        assert kstatus == {"status": "Current", "message": "Resource is Ready"}
        assert health == {"status": "Healthy", "message": f"Active: {condition(obj, 'Ready')['message']}"}

    def test_a_tracker_being_created_is_in_progress_then_terminating_once_deleted(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        emulator.admin.hold("CREATE IN_PROGRESS", name_pattern="gitops-creating")
        trackers.create(manifest("gitops-creating", dataset_group))
        wait_for(
            lambda: trackers.status("gitops-creating").get("awsStatus") == "CREATE IN_PROGRESS",
            timeout=30,
            what="CREATE IN_PROGRESS reported",
        )
        obj = trackers.get("gitops-creating")

        health = assert_in_progress_with_the_reconciling_message(gitops_check, obj, "Creating")

        assert health["status"] == "Progressing"

        trackers.delete("gitops-creating")
        wait_for(lambda: trackers.status("gitops-creating").get("phase") == "Deleting", timeout=30, what="Deleting")
        obj = trackers.get("gitops-creating")

        kstatus, health = verdicts(gitops_check, obj)

        assert kstatus == {"status": "Terminating", "message": "Resource scheduled for deletion"}
        assert health["status"] == "Progressing"
        emulator.admin.release(name_pattern="gitops-creating")
        trackers.wait_gone("gitops-creating", timeout=90)

    def test_a_pending_tracker_is_in_progress_with_the_reason(
        self, trackers: Trackers, gitops_check: GitopsCheck
    ) -> None:
        trackers.create(manifest("gitops-pending", dataset_group_arn("gitops-later-" + trackers.namespace[-6:])))
        obj = settled(trackers, "gitops-pending", "Pending", "DatasetGroupNotFound")

        health = assert_in_progress_with_the_reconciling_message(gitops_check, obj, "DatasetGroupNotFound")

        message = condition(obj, "Reconciling")["message"]
        assert health == {"status": "Progressing", "message": f"DatasetGroupNotFound: {message}"}

    def test_a_conflict_is_failed_with_the_condition_message(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        emulator.client().create_event_tracker(name="someone-elses-gitops", datasetGroupArn=dataset_group)
        trackers.create(manifest("gitops-conflict", dataset_group))
        obj = settled(trackers, "gitops-conflict", "Failed", "Conflict")

        assert "someone-elses-gitops" in assert_failed_with_the_stalled_message(gitops_check, obj, "Conflict")

    def test_create_failed_is_failed_with_the_condition_message(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        emulator.admin.fail_creation(reason="dataset schema has no EVENT_TYPE", name_pattern="gitops-broken")
        trackers.create(manifest("gitops-broken", dataset_group))
        obj = settled(trackers, "gitops-broken", "Failed", "CreateFailed", timeout=60)

        assert_failed_with_the_stalled_message(gitops_check, obj, "CreateFailed")
