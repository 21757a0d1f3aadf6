"""v1beta1 is the API; v1alpha1 is still served, deprecated, and the same object under another apiVersion.

Protects docs/install.md's upgrade promise: manifests written for 0.1.x
(`personalize.operators.dev/v1alpha1`) keep working, with a warning on every
request, and the operator (which watches v1beta1) reconciles them.
"""

from __future__ import annotations

import json
from pathlib import Path

from personalize_operator.api import names
from support.trackers import Trackers, kubectl, manifest

V1ALPHA1 = f"{names.GROUP}/v1alpha1"


def test_a_v1alpha1_manifest_is_accepted_with_a_warning_and_reconciled_as_v1beta1(
    kubeconfig: Path, trackers: Trackers, namespace: str, dataset_group: str
) -> None:
    old = {**manifest("legacy", dataset_group), "apiVersion": V1ALPHA1}
    applied = kubectl(kubeconfig, "apply", "--namespace", namespace, "-f", "-", stdin=json.dumps(old))
    assert f"{V1ALPHA1} EventTracker is deprecated; use {names.GROUP}/v1beta1" in applied.stderr

    status = trackers.wait_phase("legacy", "Active", timeout=60)
    assert status["eventTrackerArn"]

    as_beta = trackers.get("legacy")  # the operator's own API version
    assert as_beta["apiVersion"] == f"{names.GROUP}/{names.VERSION}" == f"{names.GROUP}/v1beta1"
    listed = kubectl(
        kubeconfig, "get", f"eventtrackers.v1alpha1.{names.GROUP}", "legacy", "--namespace", namespace, "-o", "json"
    )
    as_alpha = json.loads(listed.stdout)
    assert "deprecated" in listed.stderr
    assert as_alpha["apiVersion"] == V1ALPHA1
    assert as_alpha["spec"] == as_beta["spec"]
    assert as_alpha["status"]["eventTrackerArn"] == as_beta["status"]["eventTrackerArn"] == status["eventTrackerArn"]
