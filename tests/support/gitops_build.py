"""Build (or reuse) Argo CD and Flux's controllers from their Go modules.

Why: the tests run the GitOps engines users run, built from the Go module proxy
at pinned releases (tests/gitops_engines/versions.json), and cache them outside
the clone like the control plane. Their module zips lack the sub-modules their
go.mod replaces with local directories (argo-cd's ./gitops-engine, Flux's ./api),
so a writable copy of the module gets each one filled in from its own module.
Run before pytest (`make gitops-binaries`): the cold build outlasts a test's timeout.

Versions: Argo CD v3.6.1. Flux's kustomize-controller v1.9.6 and source-controller v1.9.0
(the source API kustomize-controller v1.9.6 requires): the module proxy serves the v1.10.x
modules but not some of their dependencies (github.com/fluxcd/pkg/spiffe v0.2.0,
.../apis/crypto v0.5.0, .../artifact v0.27.1: 403 "not available"), nor the
github.com/fluxcd/pkg/artifact v0.18.3 of source-controller v1.9.5 and v1.9.6 (of the v0.18
line it lists only v0.18.0, which source-controller v1.9.0 requires).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

VERSIONS_FILE = Path(__file__).resolve().parents[1] / "gitops_engines" / "versions.json"
ENGINES = ("argocd", "source-controller", "kustomize-controller")


@dataclass(frozen=True)
class Engine:
    """One binary: the Go module it is the main package of, at a pinned version."""

    name: str
    module: str
    version: str
    package: str
    ldflags: str


def load(name: str) -> tuple[Engine, str]:
    """The engine `name` and the Go toolchain it is built with."""
    data = json.loads(VERSIONS_FILE.read_text())
    entry = data[name]
    version = entry["version"]
    ldflags = entry["ldflags"].format(version_bare=version.lstrip("v"))
    return Engine(name, entry["module"], version, entry["package"], ldflags), data["go"]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalize-operator" / "gitops"


def binary_path(name: str) -> Path:
    """Where the built binary lives: keyed by its version and the toolchain."""
    engine, toolchain = load(name)
    return cache_root() / f"{name}-{engine.version}_{toolchain}" / name


def go_env(toolchain: str) -> dict[str, str]:
    """The go command fetches `toolchain` from the module proxy; for these builds only."""
    return {**os.environ, "GOTOOLCHAIN": toolchain, "CGO_ENABLED": "0"}


def download(module: str, version: str, env: dict[str, str]) -> Path:
    """The module's directory in the module cache (read-only)."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    info = json.loads(out.stdout or "{}")
    if out.returncode != 0 or "Dir" not in info:
        raise RuntimeError(f"go mod download {module}@{version}: {info.get('Error') or out.stderr.strip()}")
    return Path(info["Dir"])


def local_replacements(gomod: dict) -> list[tuple[str, str, str]]:
    """(module, version, ./dir) for each replace pointing into the module itself."""
    required = {r["Path"]: r["Version"] for r in gomod.get("Require") or []}
    found = []
    for rep in gomod.get("Replace") or []:
        target = rep["New"]["Path"]
        if target.startswith("./"):
            old = rep["Old"]["Path"]
            found.append((old, rep["Old"].get("Version") or required[old], target))
    return found


def copy_writable(src: Path, dst: Path) -> None:
    """The module cache is read-only; the build copy must not be."""
    shutil.copytree(src, dst)
    for root, dirs, files in os.walk(dst):
        for name in dirs + files:
            path = Path(root) / name
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def build(name: str, verbose: bool = True) -> Path:
    """Return the path of the binary `name`, building it if it is not cached."""
    target = binary_path(name)
    if target.exists():
        return target
    engine, toolchain = load(name)
    env = go_env(toolchain)
    started = time.monotonic()
    if verbose:
        print(
            f"building {name} {engine.version} with {toolchain} into {target.parent} ...", file=sys.stderr, flush=True
        )
    with tempfile.TemporaryDirectory(prefix=f"{name}-src-") as tmp:
        src = Path(tmp) / "module"
        copy_writable(download(engine.module, engine.version, env), src)
        gomod = json.loads(
            subprocess.run(
                ["go", "mod", "edit", "-json"], cwd=src, check=True, capture_output=True, text=True, env=env
            ).stdout
        )
        for module, version, directory in local_replacements(gomod):
            copy_writable(download(module, version, env), src / directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.parent / f".{name}.partial"
        subprocess.run(
            ["go", "build", "-trimpath", "-ldflags", f"-s -w {engine.ldflags}", "-o", str(partial), engine.package],
            cwd=src,
            check=True,
            env=env,
        )
        partial.rename(target)
    if verbose:
        print(f"built {name} in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    return target


def module_dir(name: str) -> Path:
    """The engine's module in the module cache: its CRD manifests come from there."""
    engine, toolchain = load(name)
    return download(engine.module, engine.version, go_env(toolchain))


if __name__ == "__main__":
    for engine_name in sys.argv[1:] or ENGINES:
        print(build(engine_name))
