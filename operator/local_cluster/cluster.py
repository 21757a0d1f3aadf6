"""A real kube-apiserver, kube-controller-manager and etcd on loopback.

Why: everything the operator relies on (CRD validation and CEL, the status
subresource, finalizers, garbage collection, RBAC, watches) is implemented by
the API server and controller-manager, so tests run against the real ones,
started the way controller-runtime's envtest starts them.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from local_cluster import build, certs, kubeconfig, node, processes

CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "clusterrole-aggregation-controller",
    "root-ca-certificate-publisher-controller",
)
# With a node, workloads need these too (there is no scheduler in the control plane proper: the node brings one).
NODE_CONTROLLERS = (
    "node-lifecycle-controller",  # lifts the not-ready taint the kubelet registers with
    "deployment-controller",
    "replicaset-controller",
    "endpointslice-controller",
    "job-controller",  # Helm hooks (the chart's pre-delete Job)
)


class ControlPlaneError(RuntimeError):
    """The control plane could not start; the message names the log folder."""


@dataclass
class ControlPlane:
    """Start with `with ControlPlane(workdir) as cp:`; `cp.kubeconfig` is the admin kubeconfig.

    `node=True` also starts a real node (local_cluster.node; root, containerd and
    runc needed) and imports `node_images` (image archives) into its runtime.
    """

    workdir: Path
    binaries: Path | None = None
    kubeconfig_path: Path | None = None
    start_timeout: float = 90.0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    server: str = ""
    node: bool = False
    node_images: tuple[Path, ...] = ()
    node_registries: tuple[str, ...] = ()  # host:port of plain-HTTP registries on loopback the node pulls from
    running_node: node.Node | None = None
    host: str = ""

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    @property
    def kubeconfig(self) -> Path:
        return self.kubeconfig_path or self.workdir / "kubeconfig"

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        binaries = self.binaries or build.ensure_binaries()
        self.workdir.mkdir(parents=True, exist_ok=True)
        pki = certs.generate(self.workdir / "pki")
        etcd_port, peer_port, api_port, kcm_port = (processes.free_port() for _ in range(4))
        self.host = node.host_address() if self.node else ""
        self.server = f"https://127.0.0.1:{api_port}"
        try:
            self._start_etcd(binaries, etcd_port, peer_port)
            self._start_apiserver(binaries, pki, etcd_port, api_port)
            kubeconfig.write(
                self.kubeconfig,
                kubeconfig.render(self.server, pki.ca.cert, kubeconfig.admin_user(pki.admin.cert, pki.admin.key)),
            )
            self._wait_ready(pki)
            self._start_controller_manager(binaries, pki, kcm_port)
            if self.node:
                self.running_node = node.Node(
                    workdir=self.workdir / "node",
                    server=self.server,
                    ca=pki.ca,
                    admin_kubeconfig=self.kubeconfig,
                    images=self.node_images,
                    registries=self.node_registries,
                )
                self.running_node.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse start order; safe to call twice."""
        if self.running_node is not None:
            self.running_node.stop()
            self.running_node = None
        for name in reversed(list(self.processes)):
            processes.stop(self.processes.pop(name))

    def _spawn(self, name: str, args: list[str]) -> None:
        self.processes[name] = processes.spawn(args, self.log_dir / f"{name}.log")

    def _start_etcd(self, binaries: Path, port: int, peer_port: int) -> None:
        data = self.workdir / "etcd-data"
        shutil.rmtree(data, ignore_errors=True)
        client, peer = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
        self._spawn(
            "etcd",
            [
                str(binaries / "etcd"),
                f"--data-dir={data}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=default={peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )

    def _node_apiserver_flags(self, pki: certs.ClusterCerts) -> list[str]:
        """Pods reach the API server through the `kubernetes` Service (10.0.0.1:443), which kube-proxy sends to
        the host's address: so the server listens there too and publishes it as its endpoint."""
        if not self.node:
            return ["--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none"]
        return [
            "--bind-address=0.0.0.0",
            f"--advertise-address={self.host}",
            "--endpoint-reconciler-type=lease",
            f"--kubelet-client-certificate={pki.admin.cert}",
            f"--kubelet-client-key={pki.admin.key}",
            "--kubelet-preferred-address-types=InternalIP",
        ]

    def _start_apiserver(self, binaries: Path, pki: certs.ClusterCerts, etcd_port: int, port: int) -> None:
        self._spawn(
            "kube-apiserver",
            [
                str(binaries / "kube-apiserver"),
                *self._node_apiserver_flags(pki),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                f"--secure-port={port}",
                f"--cert-dir={self.workdir / 'apiserver-certs'}",
                f"--tls-cert-file={pki.serving.cert}",
                f"--tls-private-key-file={pki.serving.key}",
                f"--client-ca-file={pki.ca.cert}",
                f"--authorization-mode={'Node,RBAC' if self.node else 'RBAC'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                "--v=1",
            ],
        )

    def _start_controller_manager(self, binaries: Path, pki: certs.ClusterCerts, port: int) -> None:
        config = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                str(binaries / "kube-controller-manager"),
                f"--kubeconfig={config}",
                f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.workdir / 'kcm-certs'}",
                "--leader-elect=false",
                f"--controllers={','.join(CONTROLLERS + (NODE_CONTROLLERS if self.node else ()))}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca.cert}",
                "--concurrent-gc-syncs=5",
                "--v=1",
            ],
        )
        self._poll(f"https://127.0.0.1:{port}/healthz", ssl._create_unverified_context(), "kube-controller-manager")

    def _wait_ready(self, pki: certs.ClusterCerts) -> None:
        context = ssl.create_default_context(cafile=str(pki.ca.cert))
        context.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
        self._poll(f"{self.server}/readyz", context, "kube-apiserver")

    def _poll(self, url: str, context: ssl.SSLContext, component: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise ControlPlaneError(f"{name} exited with {proc.returncode}; logs in {self.log_dir}")
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(0.2)
        raise ControlPlaneError(f"{component} not ready after {self.start_timeout}s ({last}); logs in {self.log_dir}")


def temporary(prefix: str = "personalize-cp-") -> ControlPlane:
    return ControlPlane(workdir=Path(tempfile.mkdtemp(prefix=prefix)))
