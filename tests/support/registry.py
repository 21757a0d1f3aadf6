"""A real OCI registry on loopback: Debian's docker-registry (the CNCF distribution registry).

Why: releases are installed from a registry (`helm install oci://...`, the node
pulling the image), and only a real registry shows that the chart and the image
`make release` pushes are what Helm and containerd fetch. Each registry gets a
free port and a folder of its own (config and storage); nothing is shared with
the package's system service, which stays stopped. Plain HTTP: loopback only.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local_cluster.processes import free_port

BINARY = "docker-registry"
APT_PACKAGE = "docker-registry"


class RegistryError(RuntimeError):
    """The registry did not start; the message has the end of its log."""


def config(storage: Path, port: int) -> dict[str, Any]:
    """distribution's configuration: filesystem storage under `storage`, HTTP on 127.0.0.1:`port` only (pure)."""
    return {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }


@dataclass(frozen=True)
class Registry:
    address: str  # host:port, what image references and oci:// URLs start with
    log: Path

    def catalog(self) -> list[str]:
        with urllib.request.urlopen(f"http://{self.address}/v2/_catalog", timeout=5) as answer:
            return list(yaml.safe_load(answer.read())["repositories"])

    def tags(self, repository: str) -> list[str]:
        with urllib.request.urlopen(f"http://{self.address}/v2/{repository}/tags/list", timeout=5) as answer:
            return list(yaml.safe_load(answer.read()).get("tags") or [])


def _answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_registry(workdir: Path, start_timeout: float = 30.0) -> Iterator[Registry]:
    """Start a registry in `workdir` and stop it (its storage stays in `workdir`) when done."""
    binary = shutil.which(BINARY)
    if binary is None:
        raise RegistryError(f"{BINARY} not found: apt-get install {APT_PACKAGE} (make registry-tools)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config_file = workdir / "config.yml"
    config_file.write_text(yaml.safe_dump(config(workdir / "storage", port)))
    log = workdir / "registry.log"
    with log.open("ab") as out:
        process = subprocess.Popen([binary, "serve", str(config_file)], stdout=out, stderr=subprocess.STDOUT)
    registry = Registry(address=f"127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + start_timeout
        while not _answers(registry.address):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RegistryError(f"registry on {registry.address} did not start (exit {process.poll()}): {tail}")
            time.sleep(0.2)
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
