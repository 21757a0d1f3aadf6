"""Argo CD's own resource-action engine: `argocd admin settings resource-overrides` of the argocd binary.

The binary is the multi-call one support.gitops_build builds (`make gitops-binaries`); named `argocd`,
it is the CLI. `list-actions` and `run-action` read the resource customizations from an argocd-cm file
(--argocd-cm-path) the way Argo CD's API server reads them from the cluster, and run the same Lua code
(util/lua). run-action prints only a diff, through KUBECTL_EXTERNAL_DIFF as kubectl does: that
command is given the live and the resulting object's files, so ours copies the result out.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.gitops_build import build

REPO = Path(__file__).resolve().parents[2]
ARGOCD_CM = REPO / "docs" / "argocd" / "argocd-cm.yaml"


@dataclass(frozen=True)
class ArgoCdCli:
    """The argocd CLI with one argocd-cm file."""

    binary: Path
    argocd_cm: Path = ARGOCD_CM

    @classmethod
    def built(cls, argocd_cm: Path = ARGOCD_CM) -> ArgoCdCli:
        binary = build("argocd")
        assert binary.name == "argocd", binary  # the multi-call binary picks the CLI by this name
        return cls(binary, argocd_cm)

    def _run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [
                str(self.binary),
                "admin",
                "settings",
                "resource-overrides",
                *args,
                "--argocd-cm-path",
                str(self.argocd_cm),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
        )
        if done.returncode != 0:
            raise RuntimeError(f"argocd {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done.stdout

    def list_actions(self, obj: dict[str, Any]) -> dict[str, bool]:
        """{action: disabled} as `list-actions` prints them (NAME DISABLED)."""
        with tempfile.TemporaryDirectory(prefix="argocd-actions-") as tmp:
            path = Path(tmp) / "object.yaml"
            path.write_text(yaml.safe_dump(obj))
            lines = self._run("list-actions", str(path)).splitlines()
        if not lines or lines[0].split() != ["NAME", "DISABLED"]:
            raise RuntimeError(f"argocd list-actions printed no actions: {lines}")
        return {name: disabled == "true" for name, disabled in (line.split() for line in lines[1:])}

    def run_action(self, obj: dict[str, Any], action: str) -> dict[str, Any]:
        """The object `run-action` computes (what Argo CD's API server then patches the live object to)."""
        with tempfile.TemporaryDirectory(prefix="argocd-actions-") as tmp:
            path, result = Path(tmp) / "object.yaml", Path(tmp) / "result.yaml"
            path.write_text(yaml.safe_dump(obj))
            copy_result = f"sh -c 'cp \"$2\" {result}' sh"  # given the live file, then the result file
            self._run("run-action", str(path), action, env={"KUBECTL_EXTERNAL_DIFF": copy_result})
            if not result.exists():
                raise RuntimeError(f"argocd run-action {action} produced no object")
            return dict(yaml.safe_load(result.read_text()))
