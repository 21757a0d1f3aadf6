"""Configuration files of the local node: containerd, CNI, kubelet, kube-proxy, kube-scheduler.

Why pure functions: every choice that makes a kubelet run on these machines
(cgroup v1 allowed, the cgroupfs driver, runc, our own pause image, state kept
under one folder) is written down here once, and unit-testable without root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NODE_NAME = "personalize-node"
POD_CIDR = "10.244.0.0/24"
BRIDGE = "personalize0"
PAUSE_IMAGE = "localhost/personalize-pause:1"
RUNC = "/usr/sbin/runc"  # Debian's runc; crun fails on this hybrid cgroup layout
CNI_BIN = "/usr/lib/cni"  # Debian's containernetworking-plugins
# The kubelet re-reads mounted Secrets on each pod sync; the default is 1m.
SYNC_FREQUENCY = "10s"


@dataclass(frozen=True)
class NodeLayout:
    """Where the node keeps its state: everything under one folder, so stopping it removes all of it."""

    root: Path

    @property
    def containerd_config(self) -> Path:
        return self.root / "containerd.toml"

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni"

    @property
    def registry_hosts_dir(self) -> Path:
        """containerd's config_path: one folder per registry host, each with a hosts.toml."""
        return self.root / "certs.d"

    @property
    def kubelet_config(self) -> Path:
        return self.root / "kubelet.yaml"

    @property
    def kubelet_dir(self) -> Path:
        return self.root / "kubelet"

    @property
    def kube_proxy_config(self) -> Path:
        return self.root / "kube-proxy.yaml"

    @property
    def scheduler_config(self) -> Path:
        return self.root / "kube-scheduler.yaml"


def containerd_toml(layout: NodeLayout) -> str:
    """containerd 1.6/1.7 config (version 2): private root, state and socket; runc with cgroupfs."""
    root = layout.root
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{root / "containerd" / "root"}"
state = "{root / "containerd" / "state"}"

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{layout.containerd_socket}.ttrpc"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  netns_mounts_under_state_dir = true
  # No CAP_SYS_RESOURCE on these machines: runc cannot lower oom_score_adj below containerd's own.
  restrict_oom_score_adj = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = "{RUNC}"
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{CNI_BIN}"
  conf_dir = "{layout.cni_conf_dir}"

[{cri}.registry]
  # Per-registry settings (hosts.toml), e.g. a plain-HTTP registry on loopback: registry_hosts_toml.
  config_path = "{layout.registry_hosts_dir}"
"""


def registry_hosts_toml(address: str) -> str:
    """hosts.toml for a plain-HTTP registry at `address` (host:port, loopback): pull and resolve over http://."""
    return f"""server = "http://{address}"

[host."http://{address}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
"""


def cni_conflist(layout: NodeLayout) -> dict[str, Any]:
    """A bridge network for pods; the bridge is the pods' gateway to the host (and the host's addresses)."""
    return {
        "cniVersion": "1.0.0",
        "name": "personalize",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_CIDR}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.root / "cni-ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(layout: NodeLayout, ca_cert: Path, port: int, healthz_port: int) -> dict[str, Any]:
    """KubeletConfiguration for a cgroup v1 host without systemd, talking to our containerd."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # These machines only have cgroup v1 (hybrid); 1.35+ refuses it unless told otherwise.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "address": "0.0.0.0",
        "port": port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "podCIDR": POD_CIDR,
        "podLogsDir": str(layout.root / "pod-logs"),
        "clusterDomain": "cluster.local",
        "resolvConf": "/etc/resolv.conf",
        "syncFrequency": SYNC_FREQUENCY,
        "failSwapOn": False,
        # A shared development disk must not make the node evict pods or delete the imported images.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
    }


def kube_proxy_config(kubeconfig: Path, healthz_port: int, metrics_port: int) -> dict[str, Any]:
    """kube-proxy in iptables mode: Service ClusterIPs (kubernetes.default first) reach their endpoints."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "mode": "iptables",
        "hostnameOverride": NODE_NAME,
        "clusterCIDR": POD_CIDR,
        "healthzBindAddress": f"127.0.0.1:{healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{metrics_port}",
        # Leave the host's conntrack sysctls alone.
        "conntrack": {"maxPerCore": 0},
        "iptables": {"localhostNodePorts": False},
    }


def scheduler_config(kubeconfig: Path) -> dict[str, Any]:
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "leaderElection": {"leaderElect": False},
    }


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """JSON is YAML: one writer for every config file the components read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
