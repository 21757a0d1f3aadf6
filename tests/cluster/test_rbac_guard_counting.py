"""The RBAC guard counts a namespace's EventTrackers page by page against the real API server."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from personalize_operator.api import names
from personalize_operator.kube import rbac_guard
from support.kube import install_crd
from support.trackers import manifest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def crd(kubeconfig: Path) -> str:
    return install_crd(kubeconfig, REPO / "crds")


def _tracker(name: str) -> dict:
    """An EventTracker held by a finalizer of the test's own, so a deleted one stays to be counted."""
    body = manifest(name, "arn:aws:personalize:us-east-1:123456789012:dataset-group/dg", name=name)
    body["metadata"]["finalizers"] = ["test.example/hold"]
    return body


def test_counts_every_page_and_the_live_ones(
    crd: str, custom: client.CustomObjectsApi, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = (names.GROUP, names.VERSION, namespace, names.PLURAL)
    for index in range(5):
        custom.create_namespaced_custom_object(*kind, _tracker(f"t-{index}"))
    custom.delete_namespaced_custom_object(*kind, "t-0")  # held by its finalizer: counted, not live
    monkeypatch.setattr(rbac_guard, "LIST_PAGE", 2)  # pages of 2, 2 and 1
    guard = rbac_guard.Guard("operator", client.RbacAuthorizationV1Api(custom.api_client), custom)
    try:
        assert guard._trackers(namespace) == rbac_guard.Trackers(total=5, live=4)
    finally:
        for index in range(5):
            custom.patch_namespaced_custom_object(*kind, f"t-{index}", {"metadata": {"finalizers": None}})
