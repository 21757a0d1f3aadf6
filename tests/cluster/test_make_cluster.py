"""`make cluster` is usable from another shell with kubectl and leaves nothing behind.

Protects the developer workflow of the README and the promise that stopping
the control plane stops every process it started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from local_cluster import build
from local_cluster.cluster import ControlPlane, ControlPlaneError
from support.wait import wait_for

REPO = Path(__file__).resolve().parents[2]


def processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_binaries_report_the_pinned_versions() -> None:
    versions = json.loads((REPO / "tests/controlplane/versions.json").read_text())
    binaries = build.ensure_binaries()
    for name in ("kube-apiserver", "kube-controller-manager"):
        out = subprocess.run([binaries / name, "--version"], capture_output=True, text=True, check=True).stdout
        assert out.strip() == f"Kubernetes {versions['kubernetes']}"
    etcd = subprocess.run([binaries / "etcd", "--version"], capture_output=True, text=True, check=True).stdout
    assert f"etcd Version: {versions['etcd'].lstrip('v')}" in etcd


def test_make_cluster_serves_kubectl_and_stops_cleanly(tmp_path: Path) -> None:
    versions = json.loads((REPO / "tests/controlplane/versions.json").read_text())
    local = tmp_path / "local"
    log = (tmp_path / "make.log").open("w")
    make = subprocess.Popen(
        ["make", "-s", "cluster", f"LOCAL={local}"],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: "Press Ctrl-C" in (tmp_path / "make.log").read_text(), timeout=120, what="make cluster ready")
        kubeconfig = local / "kubeconfig"
        kubectl = ["kubectl", f"--kubeconfig={kubeconfig}"]
        version = json.loads(
            subprocess.run([*kubectl, "get", "--raw", "/version"], capture_output=True, text=True, check=True).stdout
        )
        assert version["gitVersion"] == versions["kubernetes"]
        resources = subprocess.run(
            [*kubectl, "api-resources", "-o", "name"], capture_output=True, text=True, check=True
        ).stdout.split()
        for expected in ("secrets", "leases.coordination.k8s.io", "customresourcedefinitions.apiextensions.k8s.io"):
            assert expected in resources
        assert processes_mentioning(str(local))
    finally:
        make.send_signal(signal.SIGTERM)  # make passes it on, as for a user's Ctrl-C
        try:
            make.wait(timeout=60)
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
    wait_for(lambda: not processes_mentioning(str(local)), timeout=30, what="every control plane process gone")


def test_a_control_plane_that_cannot_start_raises_and_names_its_logs(tmp_path: Path) -> None:
    broken = tmp_path / "bin"
    broken.mkdir()
    for name in ("etcd", "kube-apiserver", "kube-controller-manager"):
        script = broken / name
        script.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
        script.chmod(0o755)
    plane = ControlPlane(workdir=tmp_path / "cp", binaries=broken, start_timeout=20)
    with pytest.raises(ControlPlaneError, match=str(plane.log_dir)):
        plane.start()
    assert not plane.processes, "nothing may be left running after a failed start"
