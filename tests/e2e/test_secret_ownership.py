"""A Secret is the operator's only by its controller ownerReference, and a repair keeps everyone else's metadata.

Protects issue 9's Secret promises against the real API server: labels can be
copied by anyone with edit rights in a namespace, so a Secret that carries our
labels without our ownerReference is never written or deleted; a repair
changes our data, labels and annotations and nothing else; the data-hash
annotation follows the data.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from personalize_operator.api import names
from personalize_operator.kube import secrets
from support.kube import create_namespace, delete_namespace
from support.trackers import Trackers, manifest
from support.wait import wait_for

FOREIGN_LABEL = ("team.example.com/owner", "growth")
FOREIGN_ANNOTATION = ("reloader.stakater.com/match", "true")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


@pytest.fixture
def quiet(core: client.CoreV1Api, custom: client.CustomObjectsApi, crd: str) -> Iterator[tuple[str, secrets.Owner]]:
    """A namespace no operator watches (solo-* is excluded) and a real EventTracker there to own Secrets.

    The owner must really exist: the garbage collector deletes a Secret whose controller ownerReference
    names no live EventTracker with that uid.
    """
    namespace = create_namespace(core, f"solo-quiet-{uuid.uuid4().hex[:6]}")
    made = Trackers(custom=custom, core=core, namespace=namespace).create(
        manifest("storefront", "arn:aws:personalize:us-east-1:123456789012:dataset-group/nobody-reconciles-this")
    )
    yield namespace, secrets.Owner(namespace=namespace, name="storefront", uid=made["metadata"]["uid"])
    delete_namespace(core, namespace)


class TestApplyAgainstTheApiServer:
    """secrets.apply and delete_if_ours, called directly: no operator, the API server's own semantics."""

    def test_a_secret_with_our_labels_but_no_reference_of_ours_is_a_conflict_and_untouched(
        self, core: client.CoreV1Api, quiet: tuple[str, secrets.Owner]
    ) -> None:
        namespace, owner = quiet
        planted = secrets.render(owner, "storefront-tracking", "planted-id", "arn:planted")
        del planted["metadata"]["ownerReferences"]
        before = core.create_namespaced_secret(namespace, planted)

        with pytest.raises(secrets.SecretConflict):
            secrets.apply(core, secrets.render(owner, "storefront-tracking", "real-id", "arn:real"), owner)
        assert secrets.delete_if_ours(core, namespace, "storefront-tracking", owner) is False

        after = core.read_namespaced_secret("storefront-tracking", namespace)
        assert after.metadata.resource_version == before.metadata.resource_version
        assert base64.b64decode(after.data["trackingId"]) == b"planted-id"

    def test_a_repair_keeps_foreign_labels_annotations_and_owner_references(
        self, core: client.CoreV1Api, quiet: tuple[str, secrets.Owner]
    ) -> None:
        namespace, owner = quiet
        first = secrets.apply(core, secrets.render(owner, "storefront-tracking", "old-id", "arn:x"), owner)
        assert first == secrets.SecretWrite(written=True)
        other = core.create_namespaced_config_map(namespace, {"metadata": {"name": "other-owner"}})
        foreign_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "other-owner", "uid": other.metadata.uid}
        core.patch_namespaced_secret(
            "storefront-tracking",
            namespace,
            {
                "metadata": {
                    "labels": dict([FOREIGN_LABEL]),
                    "annotations": dict([FOREIGN_ANNOTATION]),
                    "ownerReferences": [foreign_ref],
                }
            },
        )
        # A strategic merge patch merges ownerReferences by uid: ours stays, the foreign one is added.
        wanted = secrets.render(owner, "storefront-tracking", "new-id", "arn:x")

        # The data-hash annotation still matches "old-id": an intact trackingId of ours is replaced (issue 27).
        replacing = secrets.apply(core, wanted, owner, tracking_id="new-id")
        assert replacing == secrets.SecretWrite(written=True, tracking_id_replaced=True)
        again = secrets.apply(core, wanted, owner, tracking_id="new-id")
        assert again == secrets.SecretWrite(written=False), "a second pass finds nothing to change"

        repaired = core.read_namespaced_secret("storefront-tracking", namespace)
        assert base64.b64decode(repaired.data["trackingId"]) == b"new-id"
        assert repaired.metadata.labels[FOREIGN_LABEL[0]] == FOREIGN_LABEL[1]
        assert repaired.metadata.annotations[FOREIGN_ANNOTATION[0]] == FOREIGN_ANNOTATION[1]
        assert repaired.metadata.annotations[names.DATA_HASH_ANNOTATION] == secrets.data_hash(repaired.data)
        assert {ref.uid for ref in repaired.metadata.owner_references} == {owner.uid, other.metadata.uid}
        assert secrets.owner_uid(repaired.metadata) == owner.uid

    def test_the_selector_finds_our_secrets_on_the_server_side(
        self, core: client.CoreV1Api, quiet: tuple[str, secrets.Owner]
    ) -> None:
        namespace, owner = quiet
        secrets.apply(core, secrets.render(owner, "ours", "id", "arn:x"), owner)
        core.create_namespaced_secret(namespace, {"metadata": {"name": "unrelated"}, "stringData": {"k": "v"}})

        listed = core.list_namespaced_secret(namespace, label_selector=names.SECRET_SELECTOR).items

        assert [secret.metadata.name for secret in listed] == ["ours"]

    def test_delete_removes_only_a_secret_this_owner_controls(
        self, core: client.CoreV1Api, quiet: tuple[str, secrets.Owner]
    ) -> None:
        namespace, owner = quiet
        secrets.apply(core, secrets.render(owner, "ours", "id", "arn:x"), owner)
        stranger = secrets.Owner(namespace=namespace, name="storefront", uid=str(uuid.uuid4()))

        assert secrets.delete_if_ours(core, namespace, "ours", stranger) is False
        assert secrets.delete_if_ours(core, namespace, "ours", owner) is True
        assert secrets.delete_if_ours(core, namespace, "ours", owner) is False

    def test_an_api_failure_is_a_secret_error_with_its_status(
        self, core: client.CoreV1Api, quiet: tuple[str, secrets.Owner]
    ) -> None:
        _, owner = quiet
        bad = secrets.render(owner, "Not_A_Valid_Name", "id", "arn:x")

        with pytest.raises(secrets.SecretError) as failed:
            secrets.apply(core, bad, owner)

        assert failed.value.status == 422
        assert "id" not in str(failed.value).split("Secret", 1)[0]


class TestWithTheOperator:
    """The operator as a process: a planted Secret is a SecretConflict; a repair keeps foreign metadata."""

    def test_a_planted_secret_with_our_labels_is_untouched_and_reported(
        self, trackers: Trackers, core: client.CoreV1Api, dataset_group: str
    ) -> None:
        planted = secrets.render(
            secrets.Owner(namespace=trackers.namespace, name="storefront", uid=str(uuid.uuid4())),
            "storefront-tracking",
            "planted-id",
            "arn:planted",
        )
        del planted["metadata"]["ownerReferences"]
        before = core.create_namespaced_secret(trackers.namespace, planted)

        trackers.create(manifest("storefront", dataset_group, name=f"planted-{uuid.uuid4().hex[:8]}"))
        trackers.wait_phase("storefront", "Failed", timeout=60, reason="SecretConflict")

        after = trackers.secret("storefront-tracking")
        assert after is not None and after.metadata.resource_version == before.metadata.resource_version
        trackers.delete("storefront")
        trackers.wait_gone("storefront", timeout=60)
        assert trackers.secret("storefront-tracking") is not None, "deleting the resource kept the planted Secret"

    def test_a_repaired_secret_keeps_someone_elses_label_and_annotation(
        self, trackers: Trackers, core: client.CoreV1Api, dataset_group: str
    ) -> None:
        trackers.create(manifest("storefront", dataset_group, name=f"repair-{uuid.uuid4().hex[:8]}"))
        trackers.wait_phase("storefront", "Active", timeout=60)
        good = trackers.secret("storefront-tracking")
        assert good is not None
        good_id = base64.b64decode(good.data["trackingId"]).decode()
        core.patch_namespaced_secret(
            "storefront-tracking",
            trackers.namespace,
            {
                "metadata": {"labels": dict([FOREIGN_LABEL]), "annotations": dict([FOREIGN_ANNOTATION])},
                "data": {"trackingId": base64.b64encode(b"tampered").decode()},
            },
        )
        # A spec change makes the operator look again (the lead's Secret watch makes it immediate).
        trackers.patch("storefront", {"spec": {"tags": [{"tagKey": "team", "tagValue": "growth"}]}})

        def repaired() -> client.V1Secret | None:
            secret = trackers.secret("storefront-tracking")
            held = base64.b64decode(secret.data["trackingId"]).decode() if secret else ""
            return secret if digest(held) == digest(good_id) else None

        secret = wait_for(repaired, timeout=30, what="tampered trackingId repaired")
        assert secret.metadata.labels[FOREIGN_LABEL[0]] == FOREIGN_LABEL[1]
        assert secret.metadata.annotations[FOREIGN_ANNOTATION[0]] == FOREIGN_ANNOTATION[1]
        assert secret.metadata.annotations[names.DATA_HASH_ANNOTATION] == secrets.data_hash(secret.data)
