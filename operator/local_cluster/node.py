"""A real node for the local control plane: containerd + runc, the kubelet, kube-proxy and kube-scheduler.

Why: the chart's operator Deployment and the application pods that mount the
trackingId Secret only run somewhere real when a kubelet starts them. The
kubelet, kube-proxy and kube-scheduler come from the control plane's own Go
module; containerd, runc and the CNI plugins are Debian's packages. The node
needs root (it manages cgroups, mounts and network namespaces) and one node
per machine (it owns a bridge and iptables chains): a lock file makes a
second one wait for the first to stop.

Public registries cannot be reached here, so a sandbox (pause) image built
from tests/pause/ and the images named in `images` (OCI or docker archives)
are imported into containerd before the kubelet starts; images from the
plain-HTTP registries on loopback named in `registries` are pulled.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from local_cluster import build, certs, kubeconfig, node_config, oci, processes
from local_cluster.node_config import NODE_NAME, NodeLayout

LOCK = Path("/run/personalize-operator-node.lock")
APT_PACKAGES = ("containerd", "runc", "containernetworking-plugins", "iptables")
CRI_NAMESPACE = "k8s.io"
# The chains the kubelet itself creates (pkg/kubelet/kubelet_network_linux.go), undone in order.
KUBELET_CHAIN_CLEANUP = (
    ("-t", "filter", "-D", "INPUT", "-j", "KUBE-FIREWALL"),
    ("-t", "filter", "-D", "OUTPUT", "-j", "KUBE-FIREWALL"),
    ("-t", "filter", "-F", "KUBE-FIREWALL"),
    ("-t", "filter", "-X", "KUBE-FIREWALL"),
    ("-t", "filter", "-X", "KUBE-KUBELET-CANARY"),
    ("-t", "nat", "-X", "KUBE-KUBELET-CANARY"),
    ("-t", "mangle", "-X", "KUBE-KUBELET-CANARY"),
    ("-t", "mangle", "-X", "KUBE-IPTABLES-HINT"),
)


class NodeError(RuntimeError):
    """The node could not start; the message names the log folder."""


def save_podman_image(reference: str, archive: Path) -> Path:
    """Export an image from podman's store as a docker archive (its tag goes along) for `ctr images import`."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.unlink(missing_ok=True)
    result = subprocess.run(
        ["podman", "save", "--format", "docker-archive", "--output", str(archive), reference],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise NodeError(f"podman save {reference} failed (make image builds it): {result.stderr.strip()[-2000:]}")
    return archive


def host_address() -> str:
    """The address of the interface holding the default route: pods and kube-proxy reach the host through it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("203.0.113.1", 9))  # no packet is sent; this only picks a route
        except OSError as error:
            raise NodeError(f"no IPv4 default route: the node needs a non-loopback address ({error})") from error
        address = str(probe.getsockname()[0])
    if address.startswith("127."):
        raise NodeError("the host has no non-loopback IPv4 address: the node needs one for pods to reach it")
    return address


def another_node_running() -> bool:
    """True while some process holds the node lock (a node runs on this machine now)."""
    try:
        with LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def missing_prerequisites() -> list[str]:
    """What this machine lacks for a node; empty when it can run one."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the node needs root (cgroups, mounts, network namespaces)")
    for tool in ("containerd", "containerd-shim-runc-v2", "ctr", "iptables"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} not found (apt-get install {' '.join(APT_PACKAGES)})")
    for path in (Path(node_config.RUNC), Path(node_config.CNI_BIN) / "bridge"):
        if not path.exists():
            problems.append(f"{path} not found (apt-get install {' '.join(APT_PACKAGES)})")
    return problems


@dataclass
class Node:
    """One node registered with the API server at `server`; start() returns once it is Ready."""

    workdir: Path
    server: str
    ca: certs.KeyPair
    admin_kubeconfig: Path
    images: tuple[Path, ...] = ()
    registries: tuple[str, ...] = ()  # host:port of plain-HTTP registries on loopback the node pulls from
    start_timeout: float = 120.0
    lock_timeout: float = 900.0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _lock: IO[str] | None = None
    _binaries: Path | None = None
    _started: set[str] = field(default_factory=set)

    @property
    def layout(self) -> NodeLayout:
        return NodeLayout(self.workdir)

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    def start(self) -> None:
        problems = missing_prerequisites()
        if problems:
            raise NodeError("cannot start the node: " + "; ".join(problems))
        binaries = self._binaries = build.ensure_node_binaries()
        pause = build.ensure_pause()
        self._take_lock()
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            identities = self._identities()
            self._start_containerd()
            self._import_images(pause)
            self._start_kubelet(binaries, identities["kubelet"])
            self._wait_node_ready()
            self._start_kube_proxy(binaries, identities["kube-proxy"])
            self._start_scheduler(binaries, identities["kube-scheduler"])
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the kubelet first, then every pod's containers, then containerd; undo mounts and network."""
        for name in ("kube-scheduler", "kube-proxy", "kubelet"):
            if name in self.processes:
                processes.stop(self.processes.pop(name))
        if "containerd" in self.processes:
            self._kill_all_tasks()
            processes.stop(self.processes.pop("containerd"))
        self._unmount_under_workdir()
        subprocess.run(["ip", "link", "delete", node_config.BRIDGE], capture_output=True, check=False)
        self._cleanup_iptables()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- steps -----------------------------------------------------------------

    def _take_lock(self) -> None:
        """One node per machine: wait (up to lock_timeout) for another one to stop."""
        lock = LOCK.open("w")
        deadline, said = time.monotonic() + self.lock_timeout, False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as error:
                if time.monotonic() > deadline:
                    lock.close()
                    raise NodeError(
                        f"another local node still runs on this machine after {self.lock_timeout:.0f}s "
                        f"({LOCK} is locked); stop it first"
                    ) from error
                if not said:
                    print(f"waiting for another local node to stop ({LOCK})", file=sys.stderr, flush=True)
                    said = True
                time.sleep(1)
        self._lock = lock

    def _identities(self) -> dict[str, Path]:
        """Kubeconfigs for the kubelet (Node authorizer), kube-proxy and kube-scheduler (bootstrap RBAC)."""
        pki = self.workdir / "pki"
        subjects = {
            "kubelet": (f"system:node:{NODE_NAME}", "system:nodes"),
            "kube-proxy": ("system:kube-proxy", None),
            "kube-scheduler": ("system:kube-scheduler", None),
        }
        result = {}
        for name, (common_name, organization) in subjects.items():
            pair = certs.issue_client(pki, self.ca, name, common_name, organization)
            result[name] = kubeconfig.write(
                self.workdir / f"{name}.kubeconfig",
                kubeconfig.render(self.server, self.ca.cert, kubeconfig.admin_user(pair.cert, pair.key)),
            )
        return result

    def _spawn(self, name: str, args: list[str]) -> None:
        self.processes[name] = processes.spawn(args, self.log_dir / f"{name}.log")
        self._started.add(name)

    def _start_containerd(self) -> None:
        layout = self.layout
        layout.containerd_config.write_text(node_config.containerd_toml(layout))
        for address in self.registries:
            hosts = layout.registry_hosts_dir / address / "hosts.toml"
            hosts.parent.mkdir(parents=True, exist_ok=True)
            hosts.write_text(node_config.registry_hosts_toml(address))
        node_config.write_json(layout.cni_conf_dir / "10-personalize.conflist", node_config.cni_conflist(layout))
        self._spawn("containerd", ["containerd", "--config", str(layout.containerd_config)])
        self._until(lambda: self._ctr("version").returncode == 0, "containerd")

    def _ctr(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["ctr", "--address", str(self.layout.containerd_socket), "--namespace", CRI_NAMESPACE, *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def image_references(self) -> list[str]:
        """References of the images in the node's containerd (the CRI namespace), pulled or imported."""
        return self._ctr("images", "list", "--quiet").stdout.split()

    def _import_images(self, pause: Path) -> None:
        archive = oci.write_single_binary_image(pause, node_config.PAUSE_IMAGE, self.workdir / "pause.tar")
        for image in (archive, *self.images):
            result = self._ctr("images", "import", "--no-unpack", str(image))
            if result.returncode != 0:
                raise NodeError(f"ctr images import {image} failed: {result.stderr.strip()}")

    def _start_kubelet(self, binaries: Path, identity: Path) -> None:
        layout = self.layout
        port, healthz = processes.free_port(), processes.free_port()
        node_config.write_json(layout.kubelet_config, node_config.kubelet_config(layout, self.ca.cert, port, healthz))
        self._spawn(
            "kubelet",
            [
                str(binaries / "kubelet"),
                f"--config={layout.kubelet_config}",
                f"--kubeconfig={identity}",
                f"--root-dir={layout.kubelet_dir}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={host_address()}",
                "--v=1",
            ],
        )

    def _start_kube_proxy(self, binaries: Path, identity: Path) -> None:
        config = node_config.kube_proxy_config(identity, processes.free_port(), processes.free_port())
        node_config.write_json(self.layout.kube_proxy_config, config)
        self._spawn("kube-proxy", [str(binaries / "kube-proxy"), f"--config={self.layout.kube_proxy_config}", "--v=1"])

    def _start_scheduler(self, binaries: Path, identity: Path) -> None:
        node_config.write_json(self.layout.scheduler_config, node_config.scheduler_config(identity))
        self._spawn(
            "kube-scheduler",
            [
                str(binaries / "kube-scheduler"),
                f"--config={self.layout.scheduler_config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={processes.free_port()}",
                "--v=1",
            ],
        )

    def _wait_node_ready(self) -> None:
        self._until(self._node_ready, f"node {NODE_NAME} Ready")

    def _node_ready(self) -> bool:
        result = subprocess.run(
            ["kubectl", f"--kubeconfig={self.admin_kubeconfig}", "get", "node", NODE_NAME, "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return False
        conditions = json.loads(result.stdout).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def _until(self, check: object, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise NodeError(f"{name} exited with {proc.returncode}; logs in {self.log_dir}")
            if check():  # type: ignore[operator]
                return
            time.sleep(0.5)
        raise NodeError(f"{what} not reached after {self.start_timeout}s; logs in {self.log_dir}")

    # -- clean-up --------------------------------------------------------------

    def _kill_all_tasks(self) -> None:
        """SIGKILL every container (pods and sandboxes) so no runc shim outlives the node."""
        listing = self._ctr("tasks", "list", "--quiet")
        for task in listing.stdout.split():
            self._ctr("tasks", "kill", "--all", "--signal", "SIGKILL", task)
        deadline = time.monotonic() + 10
        for task in listing.stdout.split():
            while self._ctr("tasks", "delete", task).returncode != 0 and time.monotonic() < deadline:
                time.sleep(0.2)

    def _unmount_under_workdir(self) -> None:
        """Secret tmpfs, overlay rootfs and netns mounts live under the workdir; lazily unmount them, deepest first."""
        root = str(self.workdir.resolve())
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for mountpoint in sorted((m for m in mounts if m.startswith(root + "/")), key=len, reverse=True):
            subprocess.run(["umount", "--lazy", mountpoint], capture_output=True, check=False)

    def _cleanup_iptables(self) -> None:
        """kube-proxy's own clean-up removes the chains it made; the kubelet has none, so its few go by hand."""
        if self._binaries is not None and "kube-proxy" in self._started:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(
                    [str(self._binaries / "kube-proxy"), "--cleanup"], capture_output=True, check=False, timeout=60
                )
        if "kubelet" in self._started:
            for command in KUBELET_CHAIN_CLEANUP:
                for tool in ("iptables", "ip6tables"):
                    subprocess.run([tool, "-w", *command], capture_output=True, check=False)
