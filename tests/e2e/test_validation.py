"""Bad input is refused by the API server at apply time, with a message that says why.

Protects the earliest-error promise: nothing invalid ever reaches the
operator or AWS, and the user reads the reason in kubectl's output.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from personalize_operator.api import names
from support.trackers import Trackers, kubectl, manifest

DG = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"


def apply(kubeconfig: Path, namespace: str, body: dict[str, Any]) -> tuple[int, str]:
    body = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
    done = kubectl(kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(body), check=False)
    return done.returncode, done.stdout + done.stderr


def tags(count: int) -> list[dict[str, str]]:
    return [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(count)]


INVALID = [
    pytest.param(manifest("a", DG, name="bad name!"), "spec.name", id="bad-name-characters"),
    pytest.param(manifest("a", DG, name="n" * 64), "spec.name", id="name-over-63"),
    pytest.param(manifest("a", "not-an-arn"), "spec.datasetGroupArn", id="bad-arn"),
    pytest.param(manifest("a", DG + "x" * 256), "spec.datasetGroupArn", id="arn-over-256"),
    pytest.param(
        manifest("a", DG, tags=[{"tagKey": "team", "tagValue": "a"}, {"tagKey": "team", "tagValue": "b"}]),
        "Duplicate value",
        id="duplicate-tag-keys",
    ),
    pytest.param(manifest("a", DG, tags=tags(47)), "must have at most 46 items", id="47-tags-over-50-with-ownership"),
    *[
        pytest.param(
            manifest("a", f"arn:aws:personalize:{region}:123456789012:dataset-group/shop"),
            "REGION an AWS region of that partition",
            id=f"region-{region}",
        )
        for region in ("us-east-", "-", "-us-east-1", "123")
    ],
    pytest.param(
        manifest("a", DG, tags=[{"tagKey": "personalize.operators.dev/uid", "tagValue": "x"}]),
        "reserved for the operator",
        id="reserved-tag-prefix",
    ),
    pytest.param(manifest("my.tracker", DG), "metadata.name", id="metadata-name-not-an-aws-name"),
    pytest.param(manifest("a", DG, tags=[{"tagKey": "bad*key", "tagValue": "x"}]), "tagKey", id="bad-tag-key"),
    pytest.param(manifest("a", DG, deletionPolicy="Forget"), "deletionPolicy", id="unknown-deletion-policy"),
]


@pytest.mark.parametrize(("body", "message"), INVALID)
def test_invalid_manifest_is_refused_at_apply_time(
    kubeconfig: Path, crd: str, namespace: str, body: dict[str, Any], message: str
) -> None:
    code, output = apply(kubeconfig, namespace, body)
    assert code != 0, output
    assert message in output, output


def test_47_tags_and_every_partitions_region_shape_are_accepted(kubeconfig: Path, crd: str, namespace: str) -> None:
    for name, arn in [
        ("gov", "arn:aws-us-gov:personalize:us-gov-west-1:123456789012:dataset-group/shop"),
        ("china", "arn:aws-cn:personalize:cn-northwest-1:123456789012:dataset-group/shop"),
        ("tagged", DG),
    ]:
        code, output = apply(kubeconfig, namespace, manifest(name, arn, tags=tags(46), deletionPolicy="Retain"))
        assert code == 0, output


def test_metadata_name_with_a_dot_is_fine_with_an_explicit_spec_name(
    kubeconfig: Path, crd: str, namespace: str
) -> None:
    code, output = apply(kubeconfig, namespace, manifest("my.tracker", DG, name="my-tracker"))
    assert code == 0, output


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("name", "renamed", "spec.name is immutable", id="spec-name"),
        pytest.param("datasetGroupArn", DG + "2", "spec.datasetGroupArn is immutable", id="dataset-group-arn"),
    ],
)
def test_immutable_fields_cannot_be_edited(
    kubeconfig: Path, crd: str, namespace: str, field: str, value: str, message: str
) -> None:
    original = manifest("frozen", DG, name="frozen")
    assert apply(kubeconfig, namespace, original)[0] == 0
    edited = {**original, "spec": {**original["spec"], field: value}}
    code, output = apply(kubeconfig, namespace, edited)
    assert code != 0 and message in output, output


def test_kubectl_explain_documents_every_spec_field(kubeconfig: Path, crd: str) -> None:
    explained = kubectl(kubeconfig, "explain", "eventtracker.spec", "--recursive").stdout
    for field in ("name", "datasetGroupArn", "tags", "tagKey", "tagValue", "secretName", "deletionPolicy"):
        assert field in explained
    described = kubectl(kubeconfig, "explain", "eventtracker.spec.datasetGroupArn").stdout
    assert "DESCRIPTION" in described and "dataset group" in described.lower()


def test_a_200_character_metadata_name_becomes_active_with_its_secret(trackers: Trackers, dataset_group: str) -> None:
    """Every metadata.name the API server accepts works: no label value derived from it exceeds 63 characters."""
    long_name = ("a" * 99) + "." + ("b" * 100)
    assert len(long_name) == 200

    trackers.create(manifest(long_name, dataset_group, name=f"long-{uuid.uuid4().hex[:8]}"))
    trackers.wait_phase(long_name, "Active", timeout=60)

    secret = trackers.secret(f"{long_name}-tracking")
    assert secret is not None and set(secret.data) == {"trackingId", "eventTrackerArn"}
    assert secret.metadata.labels[names.OWNER_UID_LABEL] == trackers.get(long_name)["metadata"]["uid"]
    assert all(len(value) <= 63 for value in secret.metadata.labels.values())
    trackers.delete(long_name)
    trackers.wait_gone(long_name, timeout=60)
