"""Session fixtures: the real control plane (or an existing cluster) and namespaces.

Set PERSONALIZE_TEST_KUBECONFIG to run the suite against an existing cluster
(kind, k3d, EKS) instead of the local control plane. A control plane that
cannot start makes the tests that need it fail; they never skip.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from local_cluster.cluster import ControlPlane
from support.gitops import GitopsCheck, ensure_gitops_check
from support.kube import create_namespace, delete_namespace

EXISTING_CLUSTER_ENV = "PERSONALIZE_TEST_KUBECONFIG"
_log_dirs: list[Path] = []


@pytest.fixture(scope="session")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Admin kubeconfig of the cluster under test."""
    existing = os.environ.get(EXISTING_CLUSTER_ENV)
    if existing:
        yield Path(existing)
        return
    plane = ControlPlane(workdir=tmp_path_factory.mktemp("control-plane"))
    _log_dirs.append(plane.log_dir)
    with plane:
        yield plane.kubeconfig


@pytest.fixture(scope="session")
def api_client(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture(scope="session")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def namespace(core: client.CoreV1Api, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower().replace("_", "-"))[:40].strip("-")
    name = f"{stem}-{uuid.uuid4().hex[:6]}"
    yield create_namespace(core, name)
    delete_namespace(core, name)


@pytest.fixture(scope="session")
def gitops_check() -> GitopsCheck:
    """Argo CD's health engine and cli-utils' kstatus, built from their Go modules (tests/gitops/)."""
    return GitopsCheck(ensure_gitops_check())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for log_dir in _log_dirs:
        terminalreporter.write_line(f"control plane logs: {log_dir}")
