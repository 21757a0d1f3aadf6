"""Kubeconfig files for the local control plane: admin and per-identity.

Why: tests, the demo and the operator all reach the API server through a
kubeconfig file, exactly as they would reach kind or EKS. RBAC tests need a
kubeconfig that *is* a ServiceAccount, not the admin pretending to be one, so
identities get a real token from the TokenRequest API.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def render(server: str, ca_cert: Path, user: dict[str, Any], name: str = "local") -> dict[str, Any]:
    """A self-contained kubeconfig (certificates embedded) with one context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": _b64(ca_cert)}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
        "current-context": name,
    }


def admin_user(cert: Path, key: Path) -> dict[str, str]:
    return {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}


def token_user(token: str) -> dict[str, str]:
    return {"token": token}


def write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def server_and_ca(kubeconfig: Path) -> tuple[str, str]:
    """The current context's server URL and CA data, to derive identity kubeconfigs."""
    config = yaml.safe_load(kubeconfig.read_text())
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    ca = cluster.get("certificate-authority-data")
    if ca is None and cluster.get("certificate-authority"):
        ca = _b64(Path(cluster["certificate-authority"]))
    return cluster["server"], ca or ""


def for_token(kubeconfig: Path, token: str, path: Path, name: str = "identity") -> Path:
    """A kubeconfig for the same cluster as `kubeconfig` that authenticates with `token`."""
    server, ca = server_and_ca(kubeconfig)
    cluster: dict[str, Any] = {"server": server}
    if ca:
        cluster["certificate-authority-data"] = ca
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": token_user(token)}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    return write(path, config)
