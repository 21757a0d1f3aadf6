"""Flux itself against the test cluster: source-controller and kustomize-controller.

Why: kstatus is proven on live objects elsewhere; only Flux's own controllers show what a
Kustomization with `wait: true` reports while EventTrackers it applies are reconciled, and
whether its prune ends. Both binaries come from support.gitops_build; their CRDs come
from their own modules' config/crd/bases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_cluster.processes import free_port
from support.engine_processes import EngineProcesses
from support.gitops_build import build, module_dir
from support.wait import wait_for

SOURCE = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
KUSTOMIZE = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def git_repository(name: str, namespace: str, url: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{SOURCE[0]}/{SOURCE[1]}",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "ref": {"branch": "main"}, "interval": "1m"},
    }


def kustomization(name: str, namespace: str, source: str, path: str) -> dict[str, Any]:
    """Like the `event-trackers` Kustomization docs/flux.md shows: prune, wait: true, a timeout."""
    return {
        "apiVersion": f"{KUSTOMIZE[0]}/{KUSTOMIZE[1]}",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "1m",
            "retryInterval": "5s",
            "sourceRef": {"kind": "GitRepository", "name": source},
            "path": path,
            "prune": True,
            "wait": True,
            "timeout": "2m",
        },
    }


def ready_condition(obj: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"), {})


@dataclass
class Flux(EngineProcesses):
    """Flux's source-controller and kustomize-controller for one test module, in namespace `namespace`."""

    namespace: str = field(default_factory=lambda: f"flux-{uuid.uuid4().hex[:6]}")

    def __enter__(self) -> Flux:
        source, kustomize = build("source-controller"), build("kustomize-controller")
        self.install_crds()
        self.create_namespace()
        env = {"KUBECONFIG": str(self.kubeconfig), "RUNTIME_NAMESPACE": self.namespace}

        def common() -> list[str]:
            """Each controller its own loopback ports."""
            return [
                f"--metrics-addr=127.0.0.1:{free_port()}",
                f"--health-addr=127.0.0.1:{free_port()}",
                "--enable-leader-election=false",
                "--log-level=info",
            ]

        storage = f"127.0.0.1:{free_port()}"
        self.start(
            "source-controller",
            [
                str(source),
                *common(),
                f"--storage-path={self.folder('artifacts')}",
                f"--storage-addr={storage}",
                f"--storage-adv-addr={storage}",
            ],
            env,
        )
        self.start("kustomize-controller", [str(kustomize), *common(), "--no-remote-bases=true"], env)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def install_crds(self) -> None:
        self.apply_crds(
            [module_dir(name) / "config" / "crd" / "bases" for name in ("source-controller", "kustomize-controller")],
            ["gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"],
        )

    # --- objects ----------------------------------------------------------------------------

    def create(self, kind: tuple[str, str, str], body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(*kind[:2], self.namespace, kind[2], body)

    def get(self, kind: tuple[str, str, str], name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(*kind[:2], self.namespace, kind[2], name)

    def patch(self, kind: tuple[str, str, str], name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.patch_namespaced_custom_object(*kind[:2], self.namespace, kind[2], name, body)

    def delete(self, kind: tuple[str, str, str], name: str) -> None:
        self.custom.delete_namespaced_custom_object(*kind[:2], self.namespace, kind[2], name)

    def request_reconcile(self, kind: tuple[str, str, str], name: str) -> str:
        """What `flux reconcile` does: the requestedAt annotation; returns its value."""
        token = datetime.now(UTC).isoformat()
        self.patch(kind, name, {"metadata": {"annotations": {REQUESTED_AT: token}}})
        return token

    def wait(
        self, kind: tuple[str, str, str], name: str, predicate: Any, what: str, timeout: float = 180
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            self.alive()
            obj = self.get(kind, name)
            return obj if predicate(obj) else None

        return wait_for(check, timeout=timeout, interval=0.5, what=f"{kind[2]} {name}: {what}")

    def wait_revision(self, source: str, revision: str) -> dict[str, Any]:
        """The GitRepository once its artifact is `revision` (asks for a reconcile first)."""
        self.request_reconcile(SOURCE, source)
        return self.wait(
            SOURCE,
            source,
            lambda o: ((o.get("status") or {}).get("artifact") or {}).get("revision", "").endswith(revision),
            f"artifact at {revision}",
        )
