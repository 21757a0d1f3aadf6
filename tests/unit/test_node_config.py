"""The local node's configuration files and its sandbox image archive (no root, no node needed)."""

from __future__ import annotations

import hashlib
import json
import tarfile
import tomllib
from pathlib import Path

from local_cluster import node_config, oci, workloads
from local_cluster.node_config import NodeLayout


def test_containerd_keeps_all_state_under_the_node_folder_and_uses_runc_with_cgroupfs(tmp_path: Path) -> None:
    config = tomllib.loads(node_config.containerd_toml(NodeLayout(tmp_path)))
    assert config["root"].startswith(str(tmp_path)) and config["state"].startswith(str(tmp_path))
    assert config["grpc"]["address"] == str(tmp_path / "containerd.sock")
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == node_config.PAUSE_IMAGE
    assert cri["restrict_oom_score_adj"] is True  # no CAP_SYS_RESOURCE on these machines
    runc = cri["containerd"]["runtimes"]["runc"]["options"]
    assert runc == {"BinaryName": "/usr/sbin/runc", "SystemdCgroup": False}
    assert cri["cni"]["conf_dir"] == str(tmp_path / "cni")


def test_containerd_reads_registry_hosts_from_the_node_folder_and_pulls_plain_http_from_loopback(
    tmp_path: Path,
) -> None:
    cri = tomllib.loads(node_config.containerd_toml(NodeLayout(tmp_path)))["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["registry"]["config_path"] == str(tmp_path / "certs.d")
    hosts = tomllib.loads(node_config.registry_hosts_toml("127.0.0.1:5000"))
    assert hosts["server"] == "http://127.0.0.1:5000"
    assert hosts["host"]["http://127.0.0.1:5000"]["capabilities"] == ["pull", "resolve"]


def test_kubelet_accepts_cgroup_v1_and_talks_to_the_nodes_containerd(tmp_path: Path) -> None:
    config = node_config.kubelet_config(NodeLayout(tmp_path), tmp_path / "ca.crt", port=10250, healthz_port=10248)
    assert config["failCgroupV1"] is False
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["containerRuntimeEndpoint"] == f"unix://{tmp_path / 'containerd.sock'}"
    assert config["authentication"]["anonymous"] == {"enabled": False}
    assert config["authorization"] == {"mode": "Webhook"}
    assert config["readOnlyPort"] == 0


def test_pod_network_is_a_bridge_in_the_pod_cidr(tmp_path: Path) -> None:
    bridge = node_config.cni_conflist(NodeLayout(tmp_path))["plugins"][0]
    assert bridge["type"] == "bridge" and bridge["isGateway"] is True
    assert bridge["ipam"]["ranges"] == [[{"subnet": node_config.POD_CIDR}]]
    assert bridge["ipam"]["dataDir"].startswith(str(tmp_path))


def test_sandbox_archive_is_an_oci_layout_whose_entrypoint_is_the_binary(tmp_path: Path) -> None:
    binary = tmp_path / "pause"
    binary.write_bytes(b"\x7fELF not really")
    archive = oci.write_single_binary_image(binary, "localhost/personalize-pause:1", tmp_path / "pause.tar")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        (descriptor,) = index["manifests"]
        assert descriptor["annotations"]["io.containerd.image.name"] == "localhost/personalize-pause:1"
        manifest = json.load(tar.extractfile("blobs/sha256/" + descriptor["digest"].split(":")[1]))  # type: ignore[arg-type]
        config = json.load(tar.extractfile("blobs/sha256/" + manifest["config"]["digest"].split(":")[1]))  # type: ignore[arg-type]
        layer = tar.extractfile("blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]).read()  # type: ignore[union-attr]
    assert "oci-layout" in names
    assert config["config"]["Entrypoint"] == ["/pause"]
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]


def test_application_mounts_the_secret_and_reads_the_tracking_id_into_its_environment() -> None:
    deployment = workloads.application("app", "image:tag", "shop-tracking", {"AWS_REGION": "us-east-1"})
    pod = deployment["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "tracking", "secret": {"secretName": "shop-tracking"}}]
    container = pod["containers"][0]
    assert container["volumeMounts"][0]["mountPath"] == workloads.SECRET_MOUNT
    tracking = next(e for e in container["env"] if e["name"] == "TRACKING_ID")
    assert tracking["valueFrom"] == {"secretKeyRef": {"name": "shop-tracking", "key": "trackingId"}}


def test_emulator_service_has_no_selector_and_its_endpoint_is_the_host() -> None:
    service, endpoints = workloads.emulator_service("192.0.2.2", 4566)
    assert "selector" not in service["spec"]
    assert endpoints["metadata"]["labels"] == {"kubernetes.io/service-name": workloads.EMULATOR_SERVICE}
    assert endpoints["endpoints"] == [{"addresses": ["192.0.2.2"]}]
    assert endpoints["ports"] == [{"port": 4566, "protocol": "TCP"}]
