"""`make release REGISTRY=host:port`: the image tagged with the version and the packaged chart, pushed to a registry.

One version for everything: personalize_operator.__version__ (read from the
tree's source, so another tree, e.g. an older release checked out elsewhere,
is published with its own version). The image is built by support.image
(podman), tagged `REGISTRY/personalize-operator:VERSION` and pushed with
podman; the chart is packaged with `helm package` (version and appVersion =
VERSION) and pushed with `helm push` to `oci://REGISTRY/charts`, from where
users install it:

    helm install personalize-operator oci://REGISTRY/charts/personalize-operator --version VERSION

A loopback registry (127.0.0.1, localhost) is spoken to in plain HTTP
(`podman push --tls-verify=false`, `helm push --plain-http`); any other with TLS
and the credentials of `podman login` / `helm registry login`.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from support import image

REPO = image.REPO
IMAGE_NAME = "personalize-operator"
CHART_NAME = "personalize-operator"
CHART_REPOSITORY = "charts"
_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)

Helm = Callable[[Sequence[str]], str]  # runs helm with these arguments, returns its stdout, raises on failure


class ReleaseError(RuntimeError):
    """A step of the release failed; the message names the command."""


def version_of(tree: Path) -> str:
    """The tree's operator version: __version__, or pyproject's static version in trees before 0.2.0."""
    found = _VERSION.search((tree / "operator" / "personalize_operator" / "__init__.py").read_text())
    if found:
        return found[1]
    return str(tomllib.loads((tree / "pyproject.toml").read_text())["project"]["version"])


def is_loopback(registry: str) -> bool:
    """Plain HTTP only for a registry on this machine (pure)."""
    if registry.startswith("["):
        host = registry[1:].split("]", 1)[0]
    else:
        host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Published:
    version: str
    image: str  # REGISTRY/personalize-operator:VERSION
    chart: str  # oci://REGISTRY/charts/personalize-operator (install with --version VERSION)


def local_image(version: str) -> str:
    return f"localhost/{IMAGE_NAME}:{version}"


def _run(args: Sequence[str], what: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"{what} failed (exit {done.returncode}): {' '.join(args)}\n{done.stderr[-2000:]}")
    return done.stdout


def publish(
    registry: str,
    helm: Helm,
    *,
    tree: Path = REPO,
    log: IO[str] | None = None,
    rebuild: bool = True,
    local: str | None = None,
) -> Published:
    """Build (or, with rebuild=False, reuse) the tree's image, then push it and its packaged chart to `registry`.

    `local` names the image in podman's store (default localhost/personalize-operator:VERSION).
    """
    version = version_of(tree)
    local = local or local_image(version)
    if rebuild or not image.image_exists(local):
        image.build(local, context=tree, log=log)
    remote = f"{registry}/{IMAGE_NAME}:{version}"
    plain = is_loopback(registry)
    image.podman("tag", local, remote, log=log, what="podman tag")
    image.podman("push", *(["--tls-verify=false"] if plain else []), remote, log=log, what="podman push")
    with tempfile.TemporaryDirectory(prefix="personalize-chart-") as folder:
        chart_dir = tree / "charts" / CHART_NAME
        helm(["package", str(chart_dir), "--version", version, "--app-version", version, "--destination", folder])
        package = Path(folder) / f"{CHART_NAME}-{version}.tgz"
        if not package.exists():
            raise ReleaseError(f"helm package wrote no {package.name}")
        helm(["push", str(package), f"oci://{registry}/{CHART_REPOSITORY}", *(["--plain-http"] if plain else [])])
    return Published(version=version, image=remote, chart=f"oci://{registry}/{CHART_REPOSITORY}/{CHART_NAME}")


def system_helm(binary: Path) -> Helm:
    """helm with the user's own configuration (registry logins)."""
    return lambda args: _run([str(binary), *args], f"helm {args[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make release", description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True, help="host[:port] of the OCI registry (REGISTRY=...)")
    parser.add_argument("--helm", type=Path, help="helm binary (default: the one the tests build, tests/helm)")
    args = parser.parse_args(argv)
    if not args.registry or "/" in args.registry:
        parser.error(f"--registry takes host[:port] (the image goes to REGISTRY/{IMAGE_NAME}), not {args.registry!r}")
    if args.helm is None:
        from local_cluster import build

        args.helm = build.ensure_helm()
    try:
        published = publish(args.registry, system_helm(args.helm))
    except (ReleaseError, image.ImageError) as error:
        print(f"release failed: {error}", file=sys.stderr)
        return 1
    print(f"pushed {published.image}")
    print(f"pushed {published.chart} version {published.version}")
    print(f"install: helm install personalize-operator {published.chart} --version {published.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
