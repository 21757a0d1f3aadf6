"""Build (or reuse) Prometheus and promtool from the Prometheus Go module; find prometheus-operator's CRDs.

Why: alerts, rules and /metrics are judged by Prometheus's own engine (issue 25),
built from the Go module proxy at a pinned release and cached outside the clone
like the control plane. The ServiceMonitor and PrometheusRule the chart renders
are dry-run against the CRDs prometheus-operator ships in its own Go module
(example/prometheus-operator-crd), so the schema is theirs, not ours.
Run before pytest (`make prometheus-tools`): a cold build (~5 min on 2 cores)
outlasts a test's timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROMETHEUS_MODULE = "github.com/prometheus/prometheus"
PROMETHEUS_VERSION = "v0.316.0"  # Prometheus 3.x's Go module version line (v0.3XX.Y)
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR_VERSION = "v0.85.0"  # the newest version of the root module the proxy lists
BINARIES = ("prometheus", "promtool")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalize-operator" / "prometheus" / PROMETHEUS_VERSION


def _binary(name: str) -> Path:
    return cache_root() / "bin" / name


def promtool_path() -> Path:
    return _binary("promtool")


def prometheus_path() -> Path:
    return _binary("prometheus")


def built() -> bool:
    return all(os.access(_binary(name), os.X_OK) for name in BINARIES)


def build() -> None:
    """`go install` both commands at the pinned version (CGO off: static, like Prometheus's releases)."""
    if built():
        return
    env = {**os.environ, "GOBIN": str(cache_root() / "bin"), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    packages = [f"{PROMETHEUS_MODULE}/cmd/{name}@{PROMETHEUS_VERSION}" for name in BINARIES]
    started = time.monotonic()
    subprocess.run(["go", "install", *packages], check=True, env=env)
    print(f"built prometheus and promtool {PROMETHEUS_VERSION} in {time.monotonic() - started:.0f} s", file=sys.stderr)


def prometheus_operator_crds() -> list[Path]:
    """prometheus-operator's own CRD manifests, from its Go module in the module cache (downloaded once)."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{PROMETHEUS_OPERATOR_MODULE}@{PROMETHEUS_OPERATOR_VERSION}"],
        check=True,
        capture_output=True,
        text=True,
    )
    directory = Path(json.loads(out.stdout)["Dir"]) / "example" / "prometheus-operator-crd"
    crds = sorted(directory.glob("monitoring.coreos.com_*.yaml"))
    if not crds:
        raise RuntimeError(f"no CRDs under {directory}")
    return crds


if __name__ == "__main__":
    build()
    print(f"promtool: {promtool_path()}\nprometheus: {prometheus_path()}")
    print(f"prometheus-operator CRDs: {len(prometheus_operator_crds())} files")
