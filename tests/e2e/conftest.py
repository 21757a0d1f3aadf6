"""End-to-end fixtures: the emulator, the CRD and the operator as a real process.

A shared operator watches every namespace except `solo-*`; tests that kill
the operator or count AWS calls exactly get their own emulator and operator
in a `solo-*` namespace (the `solo` fixture), so nothing else disturbs them.
Both emulators authorize the operator's access key with docs/iam-policy.json,
as IAM would: a permission the shipped policy lacks fails these tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from personalize_emulator.testing import Emulator, running_emulator
from support.git_server import GitServer
from support.kube import create_namespace, delete_namespace, install_crd
from support.operator_process import OperatorProcess
from support.shipped_policies import OPERATOR_POLICY_AT_START
from support.solo import Solo, new_dataset_group
from support.trackers import REPO, Trackers

TRANSITION_DELAY = 0.5  # seconds per AWS status transition in the emulator
TRACKER_QUOTA = 500  # the whole session creates far more than AWS's default quota of trackers


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with running_emulator(
        transition_delay=TRANSITION_DELAY, tracker_quota=TRACKER_QUOTA, iam_policy_files=OPERATOR_POLICY_AT_START
    ) as running:
        yield running


@pytest.fixture(scope="session")
def crd(kubeconfig: Path) -> str:
    return install_crd(kubeconfig, REPO / "crds")


@pytest.fixture(scope="session")
def operator(
    kubeconfig: Path,
    emulator: Emulator,
    crd: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(kubeconfig=kubeconfig, endpoint=emulator.endpoint, log=log, namespaces=["!solo-*"])
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """Git repositories on 127.0.0.1 for Argo CD and Flux to sync from (git http-backend)."""
    with GitServer(tmp_path_factory.mktemp("git")) as server:
        yield server


@pytest.fixture
def trackers(
    custom: client.CustomObjectsApi, core: client.CoreV1Api, namespace: str, operator: OperatorProcess
) -> Trackers:
    return Trackers(custom=custom, core=core, namespace=namespace)


@pytest.fixture
def dataset_group(emulator: Emulator) -> str:
    return new_dataset_group(emulator)


@pytest.fixture
def solo_env() -> dict[str, str]:
    """Extra environment for the solo operator; a test module overrides it (e.g. a short resync)."""
    return {}


@pytest.fixture
def solo(
    kubeconfig: Path,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    crd: str,
    tmp_path: Path,
    solo_env: dict[str, str],
) -> Iterator[Solo]:
    name = f"solo-{uuid.uuid4().hex[:8]}"
    create_namespace(core, name)
    with running_emulator(
        transition_delay=TRANSITION_DELAY, tracker_quota=TRACKER_QUOTA, iam_policy_files=OPERATOR_POLICY_AT_START
    ) as own:
        process = OperatorProcess(
            kubeconfig=kubeconfig,
            endpoint=own.endpoint,
            log=tmp_path / "operator.log",
            namespaces=[name],
            extra_env=solo_env,
            metrics=True,  # its own AWS calls and reconciles, on its own /metrics
        ).start()
        box = Solo(
            namespace=name, emulator=own, operator=process, trackers=Trackers(custom=custom, core=core, namespace=name)
        )
        try:
            yield box
        finally:
            _delete_all(custom, name)
            box.operator.stop()
            delete_namespace(core, name)


def _delete_all(custom: client.CustomObjectsApi, namespace: str) -> None:
    """Let the solo operator finalize what the test left, so the namespace can go."""
    from support.trackers import GROUP, PLURAL, VERSION
    from support.wait import wait_for

    items: list[dict[str, Any]] = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
    for item in items:
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, item["metadata"]["name"])
    wait_for(
        lambda: not custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"],
        timeout=60,
        what=f"trackers in {namespace} finalized",
    )


@pytest.fixture(autouse=True)
def _emulator_left_clean(emulator: Emulator) -> Iterator[None]:
    """Faults, holds and planned failures never outlive the test that set them."""
    yield
    emulator.admin.clear_faults()
    emulator.admin.release()
    emulator.admin.clear_failures()


@pytest.fixture(scope="module")
def gitops_engine(
    request: pytest.FixtureRequest,
    kubeconfig: Path,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    operator: OperatorProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """The GitOps engine a test module names in `ENGINE` (Argo CD or Flux), running against the control plane."""
    engine_class = request.module.ENGINE
    workdir = tmp_path_factory.mktemp(engine_class.__name__.lower())
    with engine_class(kubeconfig=kubeconfig, workdir=workdir, core=core, custom=custom) as engine:
        yield engine
