"""A one-binary OCI image archive, written without a registry or a builder.

Why: containerd needs a sandbox ("pause") image for every pod, and the node
cannot pull registry.k8s.io/pause. The archive (OCI image layout in a tar) is
what `ctr images import` reads; it holds one uncompressed layer with the
binary at the root.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

LAYER = "application/vnd.oci.image.layer.v1.tar"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _descriptor(media_type: str, blob: bytes, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
    }
    if annotations:
        descriptor["annotations"] = annotations
    return descriptor


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    archive.addfile(info, io.BytesIO(data))


def _layer(binary: Path, name: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        _add(layer, name, binary.read_bytes(), mode=0o755)
    return buffer.getvalue()


def write_single_binary_image(binary: Path, reference: str, archive: Path, user: str = "65535:65535") -> Path:
    """Write an OCI archive of `reference` whose entrypoint is `binary`, run as `user`."""
    name = binary.name
    layer = _layer(binary, name)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": [f"/{name}"], "User": user},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": _descriptor(CONFIG, config),
            "layers": [_descriptor(LAYER, layer)],
        }
    ).encode()
    tag = reference.rsplit(":", 1)[1]
    index = {
        "schemaVersion": 2,
        "manifests": [
            _descriptor(
                MANIFEST,
                manifest,
                {"io.containerd.image.name": reference, "org.opencontainers.image.ref.name": tag},
            )
        ],
    }
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="w") as out:
        _add(out, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add(out, "index.json", json.dumps(index).encode())
        for blob in (layer, config, manifest):
            _add(out, "blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob)
    return archive
