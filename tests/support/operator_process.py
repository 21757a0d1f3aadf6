"""The operator as tests run it: `personalize-operator run` in a child process.

Tests never import the handlers into the test process: the operator runs
exactly as in the demo and the image, pointed at the emulator only through
the standard AWS_ENDPOINT_URL_* variables.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from local_cluster.processes import free_port
from personalize_emulator.testing import aws_environment
from support.wait import GiveUp, wait_for


@dataclass
class OperatorProcess:
    kubeconfig: Path
    endpoint: str
    log: Path
    namespaces: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start(self) -> OperatorProcess:
        self.port = free_port()
        executable = shutil.which("personalize-operator", path=str(Path(sys.executable).parent)) or ""
        args = [
            executable,
            "run",
            f"--liveness=http://127.0.0.1:{self.port}/healthz",
            "--metrics-port=0",
            "--log-level=DEBUG",
        ]
        args += [f"--namespace={ns}" for ns in self.namespaces]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), **aws_environment(self.endpoint), **self.extra_env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
            )
        wait_for(self.healthy, timeout=60, what=f"operator liveness (log: {self.log})")
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise GiveUp(f"operator exited with {self.process.returncode}; log: {self.log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no cleanup, as in a node failure or OOM kill."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
