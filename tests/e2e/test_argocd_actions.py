"""Argo CD's resource actions on live EventTrackers have the operator's effect.

Each action goes the way Argo CD's API server runs it (server/application RunResourceActionV2): the live
object (kubectl get -o yaml), the action run by Argo CD's own engine (the argocd CLI's
`admin settings resource-overrides run-action` on docs/argocd/argocd-cm.yaml), the JSON merge patch
between the two made by Argo CD's library (jsonpatch.CreateMergePatch, in gitops-check), sent as a
merge patch (kubectl patch --type merge). Each test has its own emulator and operator (`solo`), so the
AWS calls counted are this tracker's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from personalize_operator.api.names import PAUSED_ANNOTATION, REFRESH_ANNOTATION
from support.argocd_cli import ArgoCdCli
from support.gitops import GitopsCheck
from support.solo import Solo, new_dataset_group
from support.trackers import kubectl, manifest
from support.wait import let_pass, wait_for

PAUSED_WINDOW = 5.0  # seconds watched for AWS calls while paused
RESYNC_SECONDS = 600.0  # the operator's default resync: a refresh must not wait for it


@pytest.fixture(scope="module")
def argocd() -> ArgoCdCli:
    return ArgoCdCli.built()


class Actions:
    """Run Argo CD actions on one namespace's live EventTrackers."""

    def __init__(self, kubeconfig: Path, namespace: str, argocd: ArgoCdCli, gitops_check: GitopsCheck) -> None:
        self.kubeconfig, self.namespace, self.argocd, self.gitops_check = kubeconfig, namespace, argocd, gitops_check

    def live(self, name: str) -> dict[str, Any]:
        done = kubectl(self.kubeconfig, "get", "eventtracker", name, "-n", self.namespace, "-o", "yaml")
        return dict(yaml.safe_load(done.stdout))

    def listed(self, name: str) -> dict[str, bool]:
        """{action: disabled} for the live object, as Argo CD's UI would offer them."""
        return self.argocd.list_actions(self.live(name))

    def run(self, name: str, action: str) -> dict[str, Any]:
        """Run `action` as Argo CD's API server does; the merge patch it sent."""
        live = self.live(name)
        patch = self.gitops_check.merge_patch(live, self.argocd.run_action(live, action))
        assert "status" not in patch, patch  # else Argo CD would patch the status subresource as well
        kubectl(
            self.kubeconfig, "patch", "eventtracker", name, "-n", self.namespace, "--type", "merge",
            "-p", json.dumps(patch),
        )  # fmt: skip
        return patch


@pytest.fixture
def actions(kubeconfig: Path, solo: Solo, argocd: ArgoCdCli, gitops_check: GitopsCheck) -> Actions:
    return Actions(kubeconfig, solo.namespace, argocd, gitops_check)


def _active(solo: Solo, name: str) -> dict[str, Any]:
    solo.trackers.create(manifest(name, new_dataset_group(solo.emulator)))
    return solo.trackers.wait_phase(name, "Active", timeout=90)


def test_pause_stops_aws_calls_and_resume_brings_the_tracker_back(solo: Solo, actions: Actions) -> None:
    _active(solo, "shop")
    assert actions.listed("shop") == {"pause": False, "resume": True, "retry": True, "refresh": False}

    patch = actions.run("shop", "pause")
    assert patch == {"metadata": {"annotations": {PAUSED_ANNOTATION: "true"}}}
    solo.trackers.wait_phase("shop", "Active", reason="Paused", timeout=30)
    solo.emulator.admin.reset_calls()
    let_pass(PAUSED_WINDOW)
    calls = {op: n for op, n in solo.emulator.admin.calls().items() if n}
    print(f"AWS calls in {PAUSED_WINDOW:.0f}s paused: {calls}")
    assert calls == {}
    assert actions.listed("shop") == {"pause": True, "resume": False, "retry": True, "refresh": True}

    patch = actions.run("shop", "resume")
    assert patch == {"metadata": {"annotations": {PAUSED_ANNOTATION: None}}}
    solo.trackers.wait_phase("shop", "Active", reason="Active", timeout=30)
    assert PAUSED_ANNOTATION not in (actions.live("shop")["metadata"].get("annotations") or {})
    assert actions.listed("shop")["pause"] is False


def test_refresh_runs_a_pass_that_reads_aws_at_once(solo: Solo, actions: Actions) -> None:
    arn = _active(solo, "shop")["eventTrackerArn"]
    wait_for(lambda: solo.trackers.status("shop").get("awsStatus") == "ACTIVE", timeout=30, what="ACTIVE recorded")
    let_pass(2.0)  # the passes that brought it to Active have ended
    solo.emulator.admin.reset_calls()

    started = time.monotonic()
    patch = actions.run("shop", "refresh")
    value = patch["metadata"]["annotations"][REFRESH_ANNOTATION]
    wait_for(
        lambda: solo.trackers.status("shop").get("refreshHandled") == value,
        timeout=30,
        what="the refresh acted on",
    )
    took = time.monotonic() - started
    calls = solo.emulator.admin.calls()
    print(f"refresh handled {took:.1f}s after the action (resync {RESYNC_SECONDS:.0f}s); AWS calls: {calls}")
    assert calls.get("DescribeEventTracker", 0) >= 1  # read from AWS itself, not from a status-board list
    assert calls.get("ListTagsForResource", 0) >= 1
    assert took < RESYNC_SECONDS / 10
    status = solo.trackers.status("shop")
    assert (status["phase"], status["eventTrackerArn"]) == ("Active", arn)


def test_retry_recreates_a_create_failed_tracker(solo: Solo, actions: Actions) -> None:
    solo.emulator.admin.fail_creation(reason="dataset schema has no EVENT_TYPE", name_pattern="broken")
    group = new_dataset_group(solo.emulator)
    solo.trackers.create(manifest("broken", group))
    failed = solo.trackers.wait_phase("broken", "Failed", reason="CreateFailed", timeout=60)
    assert actions.listed("broken") == {"pause": False, "resume": True, "retry": False, "refresh": False}

    solo.emulator.admin.clear_failures()
    patch = actions.run("broken", "retry")
    assert list(patch["metadata"]["annotations"]) == ["personalize.operators.dev/retry"]

    active = solo.trackers.wait_phase("broken", "Active", timeout=90)
    assert active["eventTrackerArn"] != failed["eventTrackerArn"]
    remaining = [t["arn"] for t in solo.emulator.admin.trackers() if t["datasetGroupArn"] == group]
    assert remaining == [active["eventTrackerArn"]]
    assert actions.listed("broken")["retry"] is True  # disabled again once Active


def test_a_refresh_asked_while_the_operator_was_down_is_read_from_aws_not_resumed(solo: Solo, actions: Actions) -> None:
    """After a restart an unchanged Active resource is resumed from the region's tracker list (no Describe);
    one whose refresh is pending is described."""
    for name in ("steady", "shop"):
        _active(solo, name)
    let_pass(2.0)
    solo.operator.stop()
    patch = actions.run("shop", "refresh")
    value = patch["metadata"]["annotations"][REFRESH_ANNOTATION]
    solo.emulator.admin.reset_calls()

    solo.restart_operator()
    wait_for(
        lambda: solo.trackers.status("shop").get("refreshHandled") == value, timeout=60, what="the refresh acted on"
    )
    let_pass(2.0)  # the steady resource's first pass too

    calls = solo.emulator.admin.calls()
    print(f"AWS calls after the restart: {calls}")
    assert calls.get("DescribeEventTracker") == 1  # the refreshed one; the steady one resumed from the list
    assert calls.get("ListTagsForResource") == 1
    assert solo.trackers.status("steady").get("refreshHandled") is None
