"""The operator as tests run it: `personalize-operator run` in a child process.

Tests never import the handlers into the test process: the operator runs
exactly as in the demo and the image, pointed at the emulator only through
the standard AWS_ENDPOINT_URL_* variables. Leader election stays on: each
process competes for a Lease of its own (a fresh name) unless a test gives
several processes the same `lease_name`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_cluster.processes import free_port
from personalize_emulator.testing import aws_environment
from support.shipped_policies import OPERATOR_ACCESS_KEY
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
    metrics_port: int = 0  # 0: no metrics server
    lease_name: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:10]}")
    metrics: bool = False  # serve /metrics on a free port (unless metrics_port is given): per-process AWS call counts
    # A key of its own, so the emulator can authorize the operator with the shipped policy while the tests' own
    # set-up calls (key "test") stay unrestricted; a key with no policy attached is allowed everything.
    access_key_id: str = OPERATOR_ACCESS_KEY

    def start(self, *, ready: bool = True) -> OperatorProcess:
        """Start and wait until live (a standby is live too); with ready, until it leads or stands by ready."""
        self.port = free_port()
        if self.metrics and not self.metrics_port:
            self.metrics_port = free_port()
        executable = shutil.which("personalize-operator", path=str(Path(sys.executable).parent)) or ""
        args = [
            executable,
            "run",
            f"--liveness=http://127.0.0.1:{self.port}/healthz",
            f"--metrics-port={self.metrics_port}",
            "--log-level=DEBUG",
        ]
        args += [f"--namespace={ns}" for ns in self.namespaces]
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PERSONALIZE_OPERATOR_LEASE_NAME": self.lease_name,
            **aws_environment(self.endpoint, access_key_id=self.access_key_id),
            **self.extra_env,
        }
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
            )
        wait_for(self.healthy, timeout=60, what=f"operator liveness (log: {self.log})")
        if ready:
            wait_for(lambda: self.probe("/readyz")[0] == 200, timeout=60, what=f"operator ready (log: {self.log})")
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise GiveUp(f"operator exited with {self.process.returncode}; log: {self.log}")
        return self.probe("/healthz")[0] == 200

    def probe(self, path: str) -> tuple[int, dict[str, object]]:
        """Status and JSON report of /healthz or /readyz; (0, {}) when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except OSError:
            return 0, {}

    def exposition(self) -> str:
        """Its /metrics as served (metrics_port must be set): the text Prometheus scrapes."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            return str(answer.read().decode())

    def samples(self) -> list[Any]:
        """Every sample its /metrics serves (metrics_port must be set), as prometheus_client parses them."""
        from prometheus_client.parser import text_string_to_metric_families

        return [sample for family in text_string_to_metric_families(self.exposition()) for sample in family.samples]

    def aws_calls(self) -> dict[str, float]:
        """This process's AWS calls per operation (every outcome), from its own /metrics."""
        calls: dict[str, float] = {}
        for sample in self.samples():
            if sample.name == "personalize_operator_aws_calls_total":
                operation = sample.labels["operation"]
                calls[operation] = calls.get(operation, 0.0) + sample.value
        return calls

    @property
    def identity(self) -> str:
        """Its leader-election identity, as the probes report it."""
        return str(self.probe("/healthz")[1].get("identity", ""))

    def pause(self) -> None:
        """SIGSTOP: a frozen process (a stalled node, a long GC pause), not a dead one."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def exit_code(self) -> int | None:
        assert self.process is not None
        return self.process.poll()

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

    def metric(self, name: str) -> float | None:
        """One unlabelled sample from the metrics server (metrics_port must be set); None when absent."""
        return next((sample.value for sample in self.samples() if sample.name == name and not sample.labels), None)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
