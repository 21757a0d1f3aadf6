"""Chart fixtures: helm built from the Go module proxy, the chart's CRD, a dedicated emulator, namespaces.

Every namespace these tests create is called `solo-chart-*`: the shared e2e
operator (tests/e2e/conftest.py) watches every namespace except `solo-*`, so
it never touches what the chart tests create, whatever order pytest runs them
in. helm or a control plane that cannot start fails the tests; nothing skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from local_cluster import build
from personalize_emulator.testing import Emulator, running_emulator
from personalize_operator.api import crd
from support.chart import CHART, ChartEnv, Helm
from support.kube import install_crd


@pytest.fixture(scope="session")
def helm(kubeconfig: Path, api_client: client.ApiClient, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """helm v3 (built once, cached) pointed at the cluster under test with the admin identity."""
    version = client.VersionApi(api_client).get_code().git_version
    return Helm(
        binary=build.ensure_helm(), home=tmp_path_factory.mktemp("helm"), kubeconfig=kubeconfig, kube_version=version
    )


@pytest.fixture(scope="session")
def chart_crd(kubeconfig: Path) -> str:
    """The CRD exactly as the chart ships it (in charts/personalize-operator/files/ beside the monitoring sources)."""
    return install_crd(kubeconfig, CHART / "files" / crd.CRD_FILENAME)


@pytest.fixture(scope="session")
def chart_emulator() -> Iterator[Emulator]:
    """An emulator of the chart tests' own: nothing else creates or counts trackers in it."""
    with running_emulator(transition_delay=0.5, tracker_quota=100) as running:
        yield running


@pytest.fixture
def chart_env(
    helm: Helm, chart_crd: str, chart_emulator: Emulator, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> ChartEnv:
    return ChartEnv(helm, chart_emulator, core, custom)
