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
SOURCES = ("go.mod", "go.sum", "main.go")


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
        flags = ["-open-libs"] if open_libs else []
        done = subprocess.run(
            [str(self.binary), "health-test", *flags, str(directory)], capture_output=True, text=True, timeout=120
        )
        if done.returncode not in (0, 1):  # 1: some case failed; anything else: the table could not be run
            raise RuntimeError(f"gitops-check health-test {directory} exited {done.returncode}: {done.stderr}")
        rows = json.loads(done.stdout)
        return [
            HealthCase(row["inputPath"], row["expected"], row["got"], row.get("error", ""), row["passed"])
            for row in rows
        ]

    def kstatus(self, objects: list[dict[str, Any]]) -> list[dict[str, str]]:
        """kstatus (sigs.k8s.io/cli-utils status.Compute) of each object: {"status", "message"}."""
        return list(json.loads(self._run("kstatus", objects=objects)))
