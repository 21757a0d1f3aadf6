"""Build (or reuse) the control-plane binaries from the Go module proxy.

Why: no Docker, kind or envtest downloads are possible here, but the Go module
proxy is. The binaries are keyed by the pinned versions and the Go toolchain
and cached outside the clone, so a clean clone in CI reuses a warm cache and a
fresh machine builds them once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
PACKAGES = {
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
}
# Only the node (ControlPlane(node=True), `make cluster NODE=1`) needs these; built on first use.
NODE_PACKAGES = {
    "kubelet": "k8s.io/kubernetes/cmd/kubelet",
    "kube-proxy": "k8s.io/kubernetes/cmd/kube-proxy",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
}


def module_dir() -> Path:
    """The Go module under tests/controlplane/ (overridable for installed copies)."""
    env = os.environ.get("PERSONALIZE_CONTROLPLANE_MODULE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "tests" / "controlplane"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalize-operator" / "controlplane"


@dataclass(frozen=True)
class Versions:
    kubernetes: str
    etcd: str

    @classmethod
    def load(cls, module: Path) -> Versions:
        data = json.loads((module / "versions.json").read_text())
        return cls(kubernetes=data["kubernetes"], etcd=data["etcd"])


def go_version() -> str:
    return subprocess.run(["go", "env", "GOVERSION"], check=True, capture_output=True, text=True).stdout.strip()


def cache_key(versions: Versions, module: Path, go: str) -> str:
    """Versions in clear for humans, plus a hash of go.sum and the toolchain."""
    digest = hashlib.sha256((module / "go.sum").read_bytes() + go.encode()).hexdigest()[:12]
    return f"k8s-{versions.kubernetes}_etcd-{versions.etcd}_{digest}"


def version_ldflags(versions: Versions) -> str:
    """Stamp the real release into the binaries so `--version` tells the truth."""
    major, minor, _ = versions.kubernetes.lstrip("v").split(".")
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={versions.kubernetes}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={date}",
        ]
    return "-s -w " + " ".join(flags)


def _build(module: Path, target: Path, packages: dict[str, str], ldflags: str, verbose: bool) -> Path:
    """Build the missing binaries of one Go tool module into `target`."""
    missing = [b for b in packages if not (target / b).exists()]
    if not missing:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in missing:
        started = time.monotonic()
        if verbose:
            print(f"building {name} from {module} into {target} ...", file=sys.stderr, flush=True)
        partial = target / f".{name}.partial"
        subprocess.run(
            ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(partial), packages[name]],
            check=True,
            cwd=module,
            env={**os.environ, "CGO_ENABLED": "0"},
        )
        partial.rename(target / name)
        if verbose:
            print(f"built {name} in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    return target


def ensure_binaries(verbose: bool = True) -> Path:
    """Return the folder holding etcd, kube-apiserver and kube-controller-manager, building what is missing."""
    module = module_dir()
    versions = Versions.load(module)
    target = cache_root() / cache_key(versions, module, go_version())
    return _build(module, target, PACKAGES, version_ldflags(versions), verbose)


def ensure_node_binaries(verbose: bool = True) -> Path:
    """Return the folder holding the node's binaries (and the control plane's), building what is missing.

    Why on demand: only the node needs the kubelet, kube-proxy and kube-scheduler,
    so the rest of the suite never waits for them.
    """
    module = module_dir()
    versions = Versions.load(module)
    target = cache_root() / cache_key(versions, module, go_version())
    return _build(module, target, NODE_PACKAGES, version_ldflags(versions), verbose)


def ensure_pause(verbose: bool = True) -> Path:
    """Return the path of the node's sandbox binary, built from its module under tests/pause/."""
    module = module_dir().parent / "pause"
    digest = hashlib.sha256((module / "main.go").read_bytes() + go_version().encode()).hexdigest()[:12]
    target = cache_root().parent / "node" / f"pause-{digest}"
    return _build(module, target, {"pause": "."}, "-s -w", verbose) / "pause"


def ensure_helm(verbose: bool = True) -> Path:
    """Return the path of helm (helm.sh/helm/v3), built from its own module under tests/helm/."""
    module = module_dir().parent / "helm"
    version = json.loads((module / "versions.json").read_text())["helm"]
    digest = hashlib.sha256((module / "go.sum").read_bytes() + go_version().encode()).hexdigest()[:12]
    target = cache_root().parent / "helm" / f"helm-{version}_{digest}"
    ldflags = f"-s -w -X helm.sh/helm/v3/internal/version.version={version}"
    return _build(module, target, {"helm": "helm.sh/helm/v3/cmd/helm"}, ldflags, verbose) / "helm"


if __name__ == "__main__":
    print(ensure_binaries())
    if "--helm" in sys.argv:
        print(ensure_helm())
