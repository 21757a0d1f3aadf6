"""What Flux (kstatus) and Argo CD (the health check) make of live EventTrackers in every phase.

The objects come from the real API server, reconciled by the operator process against
the emulator. cli-utils' status.Compute and Argo CD's gopher-lua judge them, each built
from its own Go module (tests/gitops/).
"""

from __future__ import annotations

from typing import Any

import pytest

from personalize_emulator.testing import Emulator, dataset_group_arn
from support.gitops import GitopsCheck, ensure_gitops_check
from support.trackers import REPO, Trackers, manifest
from support.wait import wait_for

HEALTH_LUA = REPO / "docs" / "argocd" / "health.lua"


@pytest.fixture(scope="module")
def gitops_check() -> GitopsCheck:
    return GitopsCheck(ensure_gitops_check())


def verdicts(check: GitopsCheck, obj: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(kstatus result, Argo CD health with argocd-cm's libraries) for one live object."""
    [kstatus] = check.kstatus([obj])
    [health] = check.health(HEALTH_LUA, [obj])
    return kstatus, health


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c["type"] == kind), {})


class TestEveryPhaseAsGitOpsToolsSeeIt:
    """Flux waits while the operator works, fails with the reason when a person must act, and Argo CD agrees."""

    def test_an_active_tracker_is_current_and_healthy(
        self, trackers: Trackers, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        trackers.create(manifest("gitops-active", dataset_group))
        trackers.wait_phase("gitops-active", "Active", timeout=60)
        obj = trackers.get("gitops-active")

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

        kstatus, health = verdicts(gitops_check, obj)

        reconciling = condition(obj, "Reconciling")
        assert (reconciling["status"], reconciling["reason"]) == ("True", "Creating")
        assert kstatus == {"status": "InProgress", "message": reconciling["message"]}
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
        trackers.wait_phase("gitops-pending", "Pending", reason="DatasetGroupNotFound", timeout=30)
        obj = trackers.get("gitops-pending")

        kstatus, health = verdicts(gitops_check, obj)

        reconciling = condition(obj, "Reconciling")
        assert (reconciling["status"], reconciling["reason"]) == ("True", "DatasetGroupNotFound")
        assert kstatus == {"status": "InProgress", "message": reconciling["message"]}
        assert health == {"status": "Progressing", "message": f"DatasetGroupNotFound: {reconciling['message']}"}

    def test_a_conflict_is_failed_with_the_condition_message(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        emulator.client().create_event_tracker(name="someone-elses-gitops", datasetGroupArn=dataset_group)
        trackers.create(manifest("gitops-conflict", dataset_group))
        trackers.wait_phase("gitops-conflict", "Failed", reason="Conflict", timeout=30)
        obj = trackers.get("gitops-conflict")

        kstatus, health = verdicts(gitops_check, obj)

        stalled = condition(obj, "Stalled")
        assert (stalled["status"], stalled["reason"]) == ("True", "Conflict")
        assert "someone-elses-gitops" in stalled["message"]
        assert kstatus == {"status": "Failed", "message": stalled["message"]}
        assert health == {"status": "Degraded", "message": f"Conflict: {stalled['message']}"}

    def test_create_failed_is_failed_with_the_condition_message(
        self, trackers: Trackers, emulator: Emulator, dataset_group: str, gitops_check: GitopsCheck
    ) -> None:
        emulator.admin.fail_creation(reason="dataset schema has no EVENT_TYPE", name_pattern="gitops-broken")
        trackers.create(manifest("gitops-broken", dataset_group))
        trackers.wait_phase("gitops-broken", "Failed", reason="CreateFailed", timeout=60)
        obj = trackers.get("gitops-broken")

        kstatus, health = verdicts(gitops_check, obj)

        stalled = condition(obj, "Stalled")
        assert (stalled["status"], stalled["reason"]) == ("True", "CreateFailed")
        assert kstatus == {"status": "Failed", "message": stalled["message"]}
        assert health == {"status": "Degraded", "message": f"CreateFailed: {stalled['message']}"}
