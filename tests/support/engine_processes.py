"""The part Argo CD's and Flux's test harnesses share: their processes, logs and namespace.

Why a base class: both run a few long-lived controller processes for one test module, log
each to its own file, stop them in reverse order and give up waiting when one has died.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

from local_cluster.processes import spawn, stop
from support.trackers import kubectl
from support.wait import GiveUp


@dataclass
class EngineProcesses:
    """Processes named by component, logs under `workdir`, objects in `namespace`."""

    kubeconfig: Path
    workdir: Path
    core: client.CoreV1Api
    custom: client.CustomObjectsApi
    namespace: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def create_namespace(self) -> None:
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=self.namespace)))

    def apply_crds(self, manifests: list[Path], names: list[str]) -> None:
        """Server-side apply the engine's own CRD manifests and wait until they are Established."""
        for manifest in manifests:
            kubectl(self.kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(manifest))
        for name in names:
            kubectl(self.kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", f"crd/{name}")

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.processes[name] = spawn(args, self.log(name), env=env)

    def stop_all(self) -> None:
        for process in reversed(self.processes.values()):
            stop(process)
        try:
            self.core.delete_namespace(self.namespace)
        except ApiException as error:
            if error.status != 404:
                raise

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def alive(self) -> None:
        """Raise GiveUp when a component died: waiting longer cannot help."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise GiveUp(f"{name} exited with {process.returncode}; log: {self.log(name)}")
