"""A real Prometheus server (built from its Go module) scraping one operator and evaluating the chart's alerts.

Why: the alerts are judged by the engine that runs them in production, against
the operator's live /metrics. It listens on a free loopback port with its own
storage under the test's tmp dir and is stopped (never left) on exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local_cluster.processes import free_port, spawn
from support.alert_rules import RULES_FILE
from support.prometheus_tools import prometheus_path
from support.wait import GiveUp, wait_for

JOB = "personalize-operator"


@dataclass
class PrometheusServer:
    workdir: Path
    target: str  # host:port of the operator's /metrics
    scrape_interval: float = 1.0
    evaluation_interval: float = 1.0
    rule_files: tuple[Path, ...] = (RULES_FILE,)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    def __enter__(self) -> PrometheusServer:
        binary = prometheus_path()
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"prometheus is not built at {binary}: run `make prometheus-tools`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self.port = free_port()
        self.process = spawn(
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            self.workdir / "prometheus.log",
        )
        wait_for(self._ready, timeout=60, what=f"prometheus ready (log: {self.workdir / 'prometheus.log'})")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def config(self) -> dict[str, Any]:
        return {
            "global": {
                "scrape_interval": f"{self.scrape_interval:g}s",
                "scrape_timeout": f"{self.scrape_interval:g}s",
                "evaluation_interval": f"{self.evaluation_interval:g}s",
            },
            "rule_files": [str(path) for path in self.rule_files],
            "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [self.target]}]}],
        }

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise GiveUp(f"prometheus exited with {self.process.returncode}; log: {self.workdir / 'prometheus.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        """The `data` of an HTTP API answer (/api/v1/...); an error answer raises."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.loads(answer.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body}")
        return body["data"]

    def alert_state(self, name: str) -> str:
        """`firing`, `pending` or `inactive` (not in the list) for the alert, as the API reports it."""
        states = {alert["state"] for alert in self.api("alerts")["alerts"] if alert["labels"]["alertname"] == name}
        return "firing" if "firing" in states else "pending" if "pending" in states else "inactive"

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")
        return list(data["result"])

    def target_up(self) -> bool:
        targets = self.api("targets")["activeTargets"]
        return any(target["health"] == "up" for target in targets)
