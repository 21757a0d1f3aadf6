"""What the Argo CD and Flux engine tests share: a Git repository of the project's manifests,
the step log they print, and the fixtures they export.

Why here: both engines sync the same manifests (the CRD from crds/ and EventTrackers) from the
same kind of repository, and report each step the same way, so the two tests read alike.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support import live_fixtures
from support.git_server import Repository
from support.trackers import REPO, manifest

CRD_FILE = REPO / "crds" / "eventtrackers.personalize.operators.dev.yaml"
TESTDATA = (
    REPO / "docs" / "argocd" / "resource_customizations" / "personalize.operators.dev" / "EventTracker" / "testdata"
)
EXPORT_ENV = "PERSONALIZE_EXPORT_LIVE_FIXTURES"  # a folder: write the redacted fixtures there (e.g. TESTDATA)
DEPLOY = "deploy"


def aws_name(stem: str) -> str:
    """A tracker name no other test uses (the emulator's holds match names by regex)."""
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def tracker_file(name: str) -> str:
    return f"{DEPLOY}/eventtracker-{name}.yaml"


def put_tracker(
    repo: Repository,
    name: str,
    namespace: str,
    dataset_group: str,
    tracker: str,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> None:
    """An EventTracker manifest in the repository, as a user commits it."""
    body = manifest(name, dataset_group, name=tracker, **spec)
    body["metadata"]["namespace"] = namespace
    if annotations:
        body["metadata"]["annotations"] = annotations
    repo.write(tracker_file(name), yaml.safe_dump(body, sort_keys=False))


def new_repository(repo: Repository) -> None:
    """The project's CRD as crds/ ships it, next to the EventTrackers (one sync, one path)."""
    repo.copy(CRD_FILE, f"{DEPLOY}/eventtrackers.personalize.operators.dev.yaml")


@dataclass
class StepLog:
    """The steps a test went through and what the engine reported at each; printed as it goes."""

    engine: str
    lines: list[str] = field(default_factory=list)

    def add(self, step: str, report: str) -> None:
        line = f"[{self.engine}] {step}: {report}"
        self.lines.append(line)
        print(line, flush=True)


def export(obj: dict[str, Any], state: str, names: dict[str, str], source: str, tmp: Path) -> dict[str, Any]:
    """Redact a live EventTracker; write it as testdata/live-<state>.yaml in tmp (and in $EXPORT_ENV if set)."""
    fixture = live_fixtures.redact(obj, names)
    folders = [tmp] + ([Path(os.environ[EXPORT_ENV])] if os.environ.get(EXPORT_ENV) else [])
    for folder in folders:
        live_fixtures.write(fixture, folder / f"live-{state}.yaml", source)
    return fixture


def committed_expectation(state: str) -> dict[str, str] | None:
    """What docs/.../health_test.yaml expects for testdata/live-<state>.yaml, once committed."""
    table = yaml.safe_load((TESTDATA.parent / "health_test.yaml").read_text())
    wanted = f"testdata/live-{state}.yaml"
    return next((dict(t["healthStatus"]) for t in table["tests"] if t["inputPath"] == wanted), None)
