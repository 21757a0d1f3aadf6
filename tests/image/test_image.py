"""The container image as a cluster runs it: non-root, no toolchain, read-only, and it reconciles.

Protects the promise of `docker build .`: the image starts with its default
entrypoint, runs as a numeric non-root user (so `runAsNonRoot` admits it),
carries no compiler or pip, and takes a tracker through its whole life with a
read-only root filesystem (only /tmp writable, as an emptyDir gives it). The
image is built with podman on a debootstrap base (tests/support/image.py);
a build or run that fails fails the test, it never skips.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from local_cluster.processes import free_port
from personalize_emulator.testing import Emulator, running_emulator
from support import image
from support.kube import create_namespace, delete_namespace, install_crd
from support.solo import new_dataset_group
from support.trackers import REPO, Trackers, manifest
from support.wait import GiveUp, wait_for

KUBECONFIG_IN_CONTAINER = "/etc/personalize-operator/kubeconfig"
TAG = "localhost/personalize-operator:test"

pytestmark = pytest.mark.timeout(1800)  # a cold cache debootstraps the base first (a few minutes)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> image.Built:
    log_path = tmp_path_factory.mktemp("image") / "build.log"
    with log_path.open("w") as log:
        try:
            result = image.build(TAG, log=log)
        except image.ImageError as error:
            pytest.fail(f"image build failed (log: {log_path}): {error}", pytrace=False)
    print(
        f"image {result.image}: {result.size / 1e6:.1f} MB, built in {result.seconds:.1f}s (base: {result.base_made})"
    )
    return result


def digest(value: str) -> str:
    """Compare credentials by hash so a failing assertion never prints one."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def run_once(built: image.Built, *command: str, entrypoint: str) -> str:
    return image.podman_output("run", "--rm", *image.ULIMITS, f"--entrypoint={entrypoint}", built.image, *command)


class TestImage:
    """What `docker inspect` and a pod security policy see."""

    def test_runs_as_numeric_non_root_user_with_the_operator_entrypoint(self, built: image.Built) -> None:
        config = image.image_config(built.image)
        assert config["User"] == image.USER
        assert config["Entrypoint"] == ["personalize-operator"] and config["Cmd"] == ["run"]
        assert {"PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"} <= set(config["Env"])
        assert run_once(built, "-u", entrypoint="id").strip() == "10001"
        assert run_once(built, "-g", entrypoint="id").strip() == "10001"

    def test_has_no_compiler_pip_or_build_tools(self, built: image.Built) -> None:
        tools = "gcc cc c++ g++ make ld as dpkg-buildpackage pip pip3"
        found = run_once(built, "-c", f"for tool in {tools}; do command -v $tool; done; true", entrypoint="/bin/sh")
        assert found.split() == []
        venv = run_once(built, "/opt/venv/bin", entrypoint="ls").split()
        assert "personalize-operator" in venv and not [name for name in venv if name.startswith(("pip", "wheel"))]
        modules = "import importlib.util as u; print([m for m in ('pip', 'setuptools') if u.find_spec(m)])"
        assert run_once(built, "-c", modules, entrypoint="python").strip() == "[]"

    def test_carries_only_the_operator_not_the_dev_tools_or_cryptography(self, built: image.Built) -> None:
        dev_only = ("personalize_emulator", "local_cluster", "personalize_demo", "cryptography", "matplotlib")
        probe = f"import importlib.util as u; print([m for m in {dev_only!r} if u.find_spec(m)])"
        assert run_once(built, "-c", probe, entrypoint="python").strip() == "[]"
        venv = run_once(built, "/opt/venv/bin", entrypoint="ls").split()
        assert "personalize-emulator" not in venv and "local-cluster" not in venv

    def test_default_command_is_personalize_operator_run(self, built: image.Built) -> None:
        usage = run_once(built, "run", "--help", entrypoint="personalize-operator")
        assert "--namespace" in usage and "--liveness" in usage


@pytest.fixture
def crd(kubeconfig: Path) -> str:
    return install_crd(kubeconfig, REPO / "crds")


@pytest.fixture
def own_namespace(core: client.CoreV1Api) -> Iterator[str]:
    """`solo-*`: the e2e suite's shared operator (if this session started one) leaves these namespaces alone."""
    name = f"solo-image-{uuid.uuid4().hex[:6]}"
    yield create_namespace(core, name)
    delete_namespace(core, name)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with running_emulator(transition_delay=0.5, tracker_quota=100) as running:
        yield running


def test_operator_container_takes_a_tracker_through_its_life_on_a_read_only_root(
    built: image.Built,
    kubeconfig: Path,
    crd: str,
    own_namespace: str,
    emulator: Emulator,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    tmp_path: Path,
) -> None:
    # The image's user is not root: give it a readable copy of the admin kubeconfig, mounted read-only.
    readable = tmp_path / "kubeconfig"
    readable.write_bytes(kubeconfig.read_bytes())
    readable.chmod(0o644)
    port = free_port()
    container = image.Container(
        name=f"personalize-operator-test-{uuid.uuid4().hex[:8]}",
        image=built.image,
        options=[
            "--network=host",
            "--read-only",
            "--read-only-tmpfs=false",
            "--tmpfs=/tmp:rw,size=16m,mode=1777",
            "--cap-drop=ALL",
            "--security-opt=no-new-privileges",
            f"--volume={readable}:{KUBECONFIG_IN_CONTAINER}:ro",
        ],
        env={"KUBECONFIG": KUBECONFIG_IN_CONTAINER, **emulator.env()},
        args=["run", f"--namespace={own_namespace}", f"--liveness=http://127.0.0.1:{port}/healthz", "--metrics-port=0"],
    )
    trackers = Trackers(custom=custom, core=core, namespace=own_namespace)
    dataset_group = new_dataset_group(emulator, "image")
    try:
        container.start()

        def live() -> bool:
            if not container.state().get("Running"):
                raise GiveUp(f"operator container exited: {container.state()}\n{container.logs()}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                return answer.status == 200

        wait_for(live, timeout=90, what="operator container liveness")
        assert container.exec("id", "-u").stdout.strip() == "10001"
        refused = container.exec("sh", "-c", "touch /opt/venv/written")
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr

        trackers.create(manifest("imaged", dataset_group))
        status = trackers.wait_phase("imaged", "Active", timeout=90)
        tracker = emulator.admin.tracker(arn=status["eventTrackerArn"])
        assert tracker is not None and tracker["datasetGroupArn"] == dataset_group
        secret = wait_for(lambda: trackers.secret("imaged-tracking"), timeout=30, what="Secret imaged-tracking")
        assert digest(base64.b64decode(secret.data["trackingId"]).decode()) == digest(tracker["trackingId"])

        trackers.delete("imaged")
        trackers.wait_gone("imaged", timeout=90)
        wait_for(lambda: not emulator.admin.trackers(), timeout=30, what="no tracker left in the emulator")
        assert container.state().get("Running"), container.logs()
    finally:
        if container.started:
            print(f"--- operator container log ---\n{container.logs()}")
        container.remove()
