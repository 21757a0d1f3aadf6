"""Argo CD itself syncs the project's manifests from Git while the operator runs.

Argo CD's application controller and repo server (built from its Go module, support.gitops_build)
read a Git repository served on 127.0.0.1 holding the CRD from crds/ and EventTrackers; argocd-cm
carries docs/argocd/health.lua as docs/argocd.md installs it. Every step is read from the
Application's status: sync status, and the EventTracker's health as Argo CD's controller
judged it (status.resources, persisted with --persist-resource-health).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from personalize_emulator.testing import Emulator
from support.argocd_engine import ArgoCD, application
from support.git_server import GitServer, Repository
from support.gitops_steps import (
    DEPLOY,
    StepLog,
    aws_name,
    committed_expectation,
    export,
    new_repository,
    put_tracker,
    tracker_file,
)
from support.trackers import Trackers

RESOURCE = "storefront"
TAGS = [{"tagKey": "team", "tagValue": "storefront"}]
PAUSED = {"personalize.operators.dev/paused": "true"}


ENGINE = ArgoCD  # started by the gitops_engine fixture (tests/e2e/conftest.py)


@pytest.fixture(scope="module")
def argocd(gitops_engine: ArgoCD) -> ArgoCD:
    return gitops_engine


def tracker_health(app: dict[str, Any], name: str) -> dict[str, str]:
    """The EventTracker's health as the controller stored it in the Application's status."""
    for resource in (app.get("status") or {}).get("resources") or []:
        if resource.get("kind") == "EventTracker" and resource.get("name") == name:
            return dict(resource.get("health") or {})
    return {}


def tracker_listed(app: dict[str, Any], name: str) -> bool:
    return any(
        r.get("kind") == "EventTracker" and r.get("name") == name
        for r in (app.get("status") or {}).get("resources") or []
    )


def sync(app: dict[str, Any]) -> dict[str, Any]:
    return (app.get("status") or {}).get("sync") or {}


def report(app: dict[str, Any], name: str) -> str:
    health = tracker_health(app, name)
    return f"{sync(app).get('status')}/{health.get('status')} ({health.get('message', '')})"


class Step:
    """One Application in one test: commit, then wait for what the controller reports."""

    def __init__(self, argocd: ArgoCD, app: str, repo: Repository, log: StepLog) -> None:
        self.argocd, self.app, self.repo, self.log = argocd, app, repo, log

    @classmethod
    def start(
        cls, argocd: ArgoCD, git: GitServer, namespace: str, dataset_group: str, tracker: str
    ) -> tuple[Step, str]:
        """One commit of the CRD and an EventTracker, and an Application syncing it: (steps, revision)."""
        repo = git.repository(f"shop-{uuid.uuid4().hex[:6]}")
        new_repository(repo)
        put_tracker(repo, RESOURCE, namespace, dataset_group, tracker)
        revision = repo.commit("an EventTracker and its CRD")
        app = f"trackers-{uuid.uuid4().hex[:6]}"
        argocd.create_application(application(app, argocd.namespace, git.url(repo.path.name), DEPLOY, argocd.server))
        return cls(argocd, app, repo, StepLog("argocd")), revision

    def commit(self, message: str) -> str:
        revision = self.repo.commit(message)
        self.argocd.refresh(self.app)
        return revision

    def prune(self) -> dict[str, Any]:
        """Remove the EventTracker from Git; the Application once the prune is done and it is Synced."""
        self.repo.remove(tracker_file(RESOURCE))
        revision = self.commit("remove the tracker")

        def pruned(app: dict[str, Any]) -> bool:
            operation = (app.get("status") or {}).get("operationState") or {}
            return (
                operation.get("phase") == "Succeeded"
                and (operation.get("syncResult") or {}).get("revision") == revision
                and sync(app).get("status") == "Synced"
                and not tracker_listed(app, RESOURCE)
            )

        app = self.argocd.wait(self.app, pruned, "prune completed")
        operation = app["status"]["operationState"]
        self.log.add("pruned", f"{sync(app)['status']}, operation {operation['phase']}: {operation.get('message', '')}")
        return app

    def until(self, step: str, revision: str, health: str | None, what: str, **extra: Any) -> dict[str, Any]:
        def reached(app: dict[str, Any]) -> bool:
            at_revision = sync(app).get("status") == "Synced" and sync(app).get("revision") == revision
            return at_revision and (health is None or tracker_health(app, RESOURCE).get("status") == health)

        app = self.argocd.wait(self.app, reached, what, **extra)
        self.log.add(step, report(app, RESOURCE))
        return app


def names(namespace: str, tracker: str, foreign: str = "") -> dict[str, str]:
    """Live names to the examples the existing testdata uses."""
    found = {namespace: "shop", tracker: "storefront-clicks"}
    if foreign:
        found[foreign] = "storefront-clicks"
    return found


def matches_committed(state: str, health: dict[str, str], live_names: dict[str, str], exact: bool) -> None:
    """The live health, redacted like the fixture, is what health_test.yaml expects for it."""
    from support.live_fixtures import redact_text

    expected = committed_expectation(state)
    if expected is None:
        return
    assert health["status"] == expected["status"]
    if exact:
        assert redact_text(health["message"], live_names) == expected["message"]


@dataclass(frozen=True)
class Stage:
    """What every Argo CD test works with."""

    argocd: ArgoCD
    git_server: GitServer
    trackers: Trackers
    emulator: Emulator
    dataset_group: str
    tmp_path: Path

    def parts(self) -> tuple[ArgoCD, GitServer, Trackers, Emulator, str, Path]:
        return self.argocd, self.git_server, self.trackers, self.emulator, self.dataset_group, self.tmp_path


@pytest.fixture
def stage(
    argocd: ArgoCD, git_server: GitServer, trackers: Trackers, emulator: Emulator, dataset_group: str, tmp_path: Path
) -> Stage:
    return Stage(argocd, git_server, trackers, emulator, dataset_group, tmp_path)


def test_an_event_tracker_from_git_goes_progressing_then_healthy_stays_synced_and_is_pruned(
    stage: Stage,
) -> None:
    argocd, git_server, trackers, emulator, dataset_group, tmp_path = stage.parts()
    tracker = aws_name("sf-clicks")
    live_names = names(trackers.namespace, tracker)
    emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=tracker)
    steps, first = Step.start(argocd, git_server, trackers.namespace, dataset_group, tracker)
    repo, app, log = steps.repo, steps.app, steps.log

    # 1. Synced/Progressing while AWS creates the tracker.
    steps.until("applied, AWS creating", first, "Progressing", "Synced/Progressing")
    trackers.wait_phase(RESOURCE, "Creating", timeout=60)
    app_state = argocd.refresh(app)
    health = tracker_health(app_state, RESOURCE)
    assert health["status"] == "Progressing" and health["message"].startswith("Creating: ")
    log.add("AWS CREATE IN_PROGRESS", report(app_state, RESOURCE))
    export(trackers.get(RESOURCE), "creating", live_names, "Argo CD v3.6.1, Synced/Progressing", tmp_path)
    matches_committed("creating", health, live_names, exact=False)

    # 2. Synced/Healthy once the tracker is ACTIVE.
    emulator.admin.release(name_pattern=tracker)
    app_state = steps.until("tracker ACTIVE", first, "Healthy", "Synced/Healthy")
    ready = trackers.condition(RESOURCE, "Ready")
    assert tracker_health(app_state, RESOURCE) == {"status": "Healthy", "message": f"Active: {ready['message']}"}
    export(trackers.get(RESOURCE), "active", live_names, "Argo CD v3.6.1, Synced/Healthy", tmp_path)
    matches_committed("active", tracker_health(app_state, RESOURCE), live_names, exact=True)

    # 3. Still Synced over three refreshes while the operator writes status and annotations: a tags
    #    change from Git, with AWS throttling TagResource twice, keeps the operator writing for a while.
    put_tracker(repo, RESOURCE, trackers.namespace, dataset_group, tracker, tags=TAGS)
    emulator.admin.throttle(rate=1.0, operations=["TagResource"], count=2)
    second = steps.commit("tag the tracker")
    steps.until("tags commit applied", second, None, "Synced at the tags commit")
    versions: list[str] = []
    number = 0
    # At least three refreshes (the third a hard one), and on until the operator has written in between.
    while number < 3 or len(set(versions)) < 2:
        number += 1
        assert number <= 60, f"the operator wrote nothing over {number - 1} refreshes"
        kind = "hard" if number == 3 else "normal"
        app_state = argocd.refresh(app, kind)
        versions.append(trackers.get(RESOURCE)["metadata"]["resourceVersion"])
        assert sync(app_state).get("status") == "Synced" and sync(app_state).get("revision") == second
        ready = trackers.condition(RESOURCE, "Ready")
        log.add(
            f"refresh {number} ({kind})",
            f"{report(app_state, RESOURCE)}; EventTracker Ready={ready.get('reason')}, resourceVersion {versions[-1]}",
        )
    steps.until("tags applied in AWS", second, "Healthy", "Synced/Healthy after the tags change")
    live = trackers.get(RESOURCE)
    assert live["status"]["observedGeneration"] == live["metadata"]["generation"]

    # 4. Paused: what Argo CD shows (docs/argocd/health.lua keeps a paused tracker Healthy).
    put_tracker(repo, RESOURCE, trackers.namespace, dataset_group, tracker, PAUSED, tags=TAGS)
    third = steps.commit("pause the tracker")
    trackers.wait_phase(RESOURCE, "Active", reason="Paused", timeout=60)
    app_state = steps.until("paused", third, None, "Synced after pausing")
    app_state = argocd.wait(
        app, lambda a: "Paused" in tracker_health(a, RESOURCE).get("message", ""), "health says Paused"
    )
    log.add("paused (health)", report(app_state, RESOURCE))
    assert tracker_health(app_state, RESOURCE)["status"] == "Healthy"
    export(trackers.get(RESOURCE), "paused", live_names, "Argo CD v3.6.1, Synced/Healthy (paused)", tmp_path)
    matches_committed("paused", tracker_health(app_state, RESOURCE), live_names, exact=True)

    # 5. Removing the manifest from Git: the prune deletes through the finalizer and the AWS tracker goes.
    steps.prune()
    trackers.wait_gone(RESOURCE, timeout=120)
    left = emulator.client().list_event_trackers(datasetGroupArn=dataset_group)["eventTrackers"]
    assert [t["name"] for t in left if t["name"] == tracker] == []
    log.add("after the prune", "EventTracker gone, AWS tracker gone")
    argocd.delete_application(app)


def test_a_dataset_group_taken_by_another_tracker_is_degraded_with_the_operators_message(
    stage: Stage,
) -> None:
    argocd, git_server, trackers, emulator, dataset_group, tmp_path = stage.parts()
    foreign = aws_name("someone-elses")
    emulator.client().create_event_tracker(name=foreign, datasetGroupArn=dataset_group)
    tracker = aws_name("sf-clicks")
    live_names = names(trackers.namespace, tracker, foreign)
    steps, first = Step.start(argocd, git_server, trackers.namespace, dataset_group, tracker)
    app, log = steps.app, steps.log

    app_state = steps.until("dataset group taken", first, "Degraded", "Synced/Degraded")
    ready = trackers.condition(RESOURCE, "Ready")
    assert ready["reason"] == "Conflict" and foreign in ready["message"]
    assert tracker_health(app_state, RESOURCE) == {"status": "Degraded", "message": f"Conflict: {ready['message']}"}
    export(trackers.get(RESOURCE), "conflict", live_names, "Argo CD v3.6.1, Synced/Degraded", tmp_path)
    matches_committed("conflict", tracker_health(app_state, RESOURCE), live_names, exact=True)

    steps.prune()
    trackers.wait_gone(RESOURCE, timeout=120)
    left = {t["name"] for t in emulator.client().list_event_trackers(datasetGroupArn=dataset_group)["eventTrackers"]}
    assert foreign in left and tracker not in left  # the operator never deletes a tracker it did not create
    log.add("after the prune", "EventTracker gone, the other tracker untouched")
    argocd.delete_application(app)
