"""gitops-check: Argo CD's Lua engine and cli-utils' kstatus, run as the GitOps tools run them.

The Go program under tests/gitops/ is built as helm is (local_cluster.build.ensure_helm):
from its own module through the Go module proxy, into
~/.cache/personalize-operator/gitops-check/, keyed by its go.sum, its source and the Go
toolchain. CI builds it once and every clean clone reuses it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_cluster.build import _build, cache_root, go_version

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "tests" / "gitops"
SOURCES = ("go.mod", "go.sum", "main.go", "actions.go")


def ensure_gitops_check(verbose: bool = True) -> Path:
    """Return the path of gitops-check, building it when its sources or Go changed."""
    digest = hashlib.sha256(b"".join((MODULE / name).read_bytes() for name in SOURCES) + go_version().encode())
    target = cache_root().parent / "gitops-check" / f"gitops-check_{digest.hexdigest()[:12]}"
    return _build(MODULE, target, {"gitops-check": "."}, "-s -w", verbose) / "gitops-check"


@dataclass(frozen=True)
class HealthCase:
    """One row of a health_test.yaml as gitops-check ran it."""

    input_path: str
    expected: dict[str, str]
    got: dict[str, str]
    error: str
    passed: bool


@dataclass(frozen=True)
class ActionCase:
    """One case of an action_test.yaml as gitops-check ran it: a discovery or an action test."""

    kind: str  # discovery | action
    action: str
    input_path: str
    expected: Any
    got: Any
    error: str
    passed: bool


@dataclass(frozen=True)
class GitopsCheck:
    """The built binary. Each call runs it once over a batch of objects."""

    binary: Path

    def _run(self, *args: str, objects: list[dict[str, Any]]) -> str:
        done = subprocess.run(
            [str(self.binary), *args], input=json.dumps(objects), capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"gitops-check {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done.stdout

    def health(self, script: Path, objects: list[dict[str, Any]], *, open_libs: bool = False) -> list[dict[str, str]]:
        """Argo CD's verdict on each object: {"status", "message"}, or {"error"} when the script fails."""
        flags = ["-open-libs"] if open_libs else []
        return list(json.loads(self._run("health", *flags, str(script), objects=objects)))

    def health_test(self, directory: Path, *, open_libs: bool = False) -> list[HealthCase]:
        """Every case of directory/health_test.yaml, run on directory/health.lua as Argo CD's own test runs it."""
        rows = self._table("health-test", directory, open_libs)
        return [
            HealthCase(row["inputPath"], row["expected"], row["got"], row.get("error", ""), row["passed"])
            for row in rows
        ]

    def _table(self, command: str, directory: Path, open_libs: bool) -> list[dict[str, Any]]:
        """Run a test table (health-test, actions-test): exit 1 means some case failed, anything else is an error."""
        flags = ["-open-libs"] if open_libs else []
        done = subprocess.run(
            [str(self.binary), command, *flags, str(directory)], capture_output=True, text=True, timeout=120
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"gitops-check {command} {directory} exited {done.returncode}: {done.stderr}")
        return list(json.loads(done.stdout))

    def actions_test(self, directory: Path, *, open_libs: bool = False) -> list[ActionCase]:
        """Every case of directory/action_test.yaml, run as Argo CD's TestLuaResourceActionsScript runs it."""
        return [
            ActionCase(
                row["kind"],
                row.get("action", ""),
                row["inputPath"],
                row["expected"],
                row["got"],
                row.get("error", ""),
                row["passed"],
            )
            for row in self._table("actions-test", directory, open_libs)
        ]

    def discover(self, directory: Path, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """The actions directory/discovery.lua lists for `obj`, with argocd-cm's libraries (Argo CD's API server)."""
        return list(json.loads(self._run("discover", str(directory), objects=[obj])))

    def action(self, directory: Path, name: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """What directory/name/action.lua returns for `obj`: [{"operation", "resource"}], as Argo CD decodes it."""
        return list(json.loads(self._run("action", str(directory), name, objects=[obj])))

    def merge_patch(self, live: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """The JSON merge patch Argo CD's API server sends for an action's result (jsonpatch.CreateMergePatch)."""
        return dict(json.loads(self._run("merge-patch", objects=[live, new])))

    def kstatus(self, objects: list[dict[str, Any]]) -> list[dict[str, str]]:
        """kstatus (sigs.k8s.io/cli-utils status.Compute) of each object: {"status", "message"}."""
        return list(json.loads(self._run("kstatus", objects=objects)))
