"""Warm start time of the local control plane (binaries already built).

Usage: .venv/bin/python bench/controlplane_start.py [RUNS]
Prints each start (etcd + kube-apiserver /readyz + kube-controller-manager /healthz) and the median.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from local_cluster import build
from local_cluster.cluster import ControlPlane


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    binaries = build.ensure_binaries()
    times = []
    for _ in range(runs):
        started = time.monotonic()
        with ControlPlane(workdir=Path(tempfile.mkdtemp(prefix="bench-cp-")), binaries=binaries):
            times.append(time.monotonic() - started)
    print(f"control plane warm start over {runs} runs: " + ", ".join(f"{t:.2f}s" for t in times))
    print(f"median {statistics.median(times):.2f}s  min {min(times):.2f}s  max {max(times):.2f}s")


if __name__ == "__main__":
    main()
