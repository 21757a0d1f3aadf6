"""Flux itself applies the project's manifests from Git while the operator runs.

Flux's source-controller and kustomize-controller (built from their Go modules,
support.gitops_build) read a Git repository served on 127.0.0.1 holding the CRD from crds/ and
EventTrackers, through a Kustomization with `wait: true` and `prune: true` like the one
docs/flux.md shows. Every step is read from the Kustomization's Ready condition.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from personalize_emulator.testing import Emulator
from support.flux_engine import KUSTOMIZE, SOURCE, Flux, git_repository, kustomization, ready_condition
from support.git_server import GitServer, Repository
from support.gitops_steps import DEPLOY, StepLog, aws_name, new_repository, put_tracker, tracker_file
from support.solo import new_dataset_group
from support.trackers import Trackers

RESOURCE = "storefront"
TAKEN = "storefront-taken"


ENGINE = Flux  # started by the gitops_engine fixture (tests/e2e/conftest.py)


@pytest.fixture(scope="module")
def flux(gitops_engine: Flux) -> Flux:
    return gitops_engine


def report(obj: dict[str, Any]) -> str:
    """The Ready condition, and the Healthy one (the health checks' own) when it is there."""
    conditions = {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}
    shown = [
        f"{kind}={c.get('status')} {c.get('reason')}: {c.get('message')}"
        for kind in ("Ready", "Healthy")
        if (c := conditions.get(kind))
    ]
    return "; ".join(shown)


class Steps:
    """One GitRepository and Kustomization: commit, then wait for the Ready condition at that revision."""

    def __init__(self, flux: Flux, name: str, repo: Repository, log: StepLog) -> None:
        self.flux, self.name, self.repo, self.log = flux, name, repo, log

    def commit(self, message: str) -> str:
        revision = self.repo.commit(message)
        self.flux.wait_revision(self.name, revision)
        return revision

    def until(self, step: str, predicate: Any, what: str) -> dict[str, Any]:
        obj = self.flux.wait(KUSTOMIZE, self.name, predicate, what)
        self.log.add(step, report(obj))
        return obj

    def applied(self, revision: str) -> Any:
        """Ready=True with `revision` applied and health-checked."""
        return lambda o: (
            ready_condition(o).get("status") == "True"
            and (o.get("status") or {}).get("lastAppliedRevision", "").endswith(revision)
        )

    def remove(self) -> None:
        """Prune off first: the Kustomization's inventory holds the shared CRD, which must stay."""
        self.flux.patch(KUSTOMIZE, self.name, {"spec": {"prune": False}})
        self.flux.delete(KUSTOMIZE, self.name)
        self.flux.delete(SOURCE, self.name)


def test_an_event_tracker_from_git_is_waited_for_failed_early_on_a_conflict_and_pruned(
    flux: Flux,
    git_server: GitServer,
    trackers: Trackers,
    emulator: Emulator,
    dataset_group: str,
) -> None:
    log = StepLog("flux")
    ns = trackers.namespace
    tracker = aws_name("sf-clicks")
    repo = git_server.repository(f"shop-{uuid.uuid4().hex[:6]}")
    new_repository(repo)
    put_tracker(repo, RESOURCE, ns, dataset_group, tracker)
    emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=tracker)
    first = repo.commit("an EventTracker and its CRD")
    name = f"trackers-{uuid.uuid4().hex[:6]}"
    flux.create(SOURCE, git_repository(name, flux.namespace, git_server.url(repo.path.name)))
    flux.create(KUSTOMIZE, kustomization(name, flux.namespace, name, f"./{DEPLOY}"))
    steps = Steps(flux, name, repo, log)
    try:
        # 1. The first verdict after the apply (timing: it may come before the operator's first status,
        #    which kstatus reads as Current), then, asked again, Ready=Unknown while the tracker is InProgress.
        first_verdict = steps.until(
            "first reconcile after the apply",
            lambda o: (
                (o.get("status") or {}).get("lastAttemptedRevision", "").endswith(first)
                and any(c["type"] == "Healthy" for c in o["status"].get("conditions") or [])
            ),
            "a health check verdict at the first revision",
        )
        log.add("EventTracker phase right after", str(trackers.status(RESOURCE).get("phase", "(no status yet)")))
        trackers.wait_phase(RESOURCE, "Creating", timeout=120)
        if ready_condition(first_verdict).get("status") != "Unknown":
            flux.request_reconcile(KUSTOMIZE, name)
        waiting = steps.until(
            "applied, AWS creating",
            lambda o: (
                ready_condition(o).get("status") == "Unknown" and ready_condition(o).get("reason") == "Progressing"
            ),
            "Ready=Unknown while the health checks run",
        )
        assert trackers.status(RESOURCE)["phase"] == "Creating", report(waiting)

        # 2. The tracker ACTIVE: Ready=True at that revision.
        emulator.admin.release(name_pattern=tracker)
        steps.until("tracker ACTIVE", steps.applied(first), "Ready=True")
        assert trackers.status(RESOURCE)["phase"] == "Active"

        # 3. A second tracker in a dataset group someone else's tracker holds: failed early, naming it.
        taken_group = new_dataset_group(emulator, "taken")
        foreign = aws_name("someone-elses")
        emulator.client().create_event_tracker(name=foreign, datasetGroupArn=taken_group)
        put_tracker(repo, TAKEN, ns, taken_group, aws_name("sf-taken"))
        steps.commit("a tracker in a dataset group that is taken")
        failed = steps.until(
            "dataset group taken",
            lambda o: ready_condition(o).get("status") == "False" and TAKEN in ready_condition(o).get("message", ""),
            "Ready=False naming the stalled tracker",
        )
        ready = ready_condition(failed)
        assert ready["reason"] == "HealthCheckFailed"
        assert f"EventTracker/{ns}/{TAKEN} status: 'Failed'" in ready["message"]
        assert trackers.condition(TAKEN, "Stalled")["reason"] == "Conflict"

        # 4. Removing the manifests from Git: prune deletes through the finalizer, Ready=True again.
        repo.remove(tracker_file(TAKEN))
        repo.remove(tracker_file(RESOURCE))
        last = steps.commit("remove the trackers")
        steps.until("pruned", steps.applied(last), "Ready=True after the prune")
        trackers.wait_gone(RESOURCE, timeout=120)
        trackers.wait_gone(TAKEN, timeout=120)
        left = emulator.client().list_event_trackers(datasetGroupArn=dataset_group)["eventTrackers"]
        assert [t["name"] for t in left if t["name"] == tracker] == []
        inventory = [e["id"] for e in (flux.get(KUSTOMIZE, name)["status"].get("inventory") or {}).get("entries") or []]
        assert not any("EventTracker" in entry for entry in inventory), inventory
        log.add("pruned", "EventTrackers gone, AWS tracker gone, inventory holds only the CRD")
    finally:
        steps.remove()
