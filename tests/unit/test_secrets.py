"""The Secret's pure rules: ownership by controller reference only, labels that always fit, a stable data hash."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from personalize_operator.api import names
from personalize_operator.kube import secrets

OWNER = secrets.Owner(namespace="shop", name="storefront", uid="0b0c6f1e-1111-2222-3333-444455556666")


def controller_ref(uid: str, *, controller: bool = True, kind: str = "EventTracker") -> client.V1OwnerReference:
    return client.V1OwnerReference(
        api_version="personalize.operators.dev/v1beta1", kind=kind, name="x", uid=uid, controller=controller
    )


def existing_secret(**metadata: object) -> client.V1Secret:
    wanted = secrets.render(OWNER, "storefront-tracking", "old", "arn:old")
    meta = {
        "name": "storefront-tracking",
        "namespace": "shop",
        "resource_version": "7",
        "labels": dict(wanted["metadata"]["labels"]),
        "annotations": dict(wanted["metadata"]["annotations"]),
        "owner_references": [controller_ref(OWNER.uid)],
        **metadata,
    }
    return client.V1Secret(metadata=client.V1ObjectMeta(**meta), data=dict(wanted["data"]), type="Opaque")


class TestOwnerUid:
    """A Secret belongs to the EventTracker named by its controller ownerReference, and to nobody else."""

    def test_the_controller_reference_of_an_event_tracker_names_the_owner(self) -> None:
        meta = client.V1ObjectMeta(owner_references=[controller_ref("a"), controller_ref("b", controller=False)])
        assert secrets.owner_uid(meta) == "a"

    def test_a_plain_dict_from_a_watch_event_is_read_the_same_way(self) -> None:
        body = secrets.render(OWNER, "s", "t", "arn")
        assert secrets.owner_uid(body["metadata"]) == OWNER.uid

    @pytest.mark.parametrize(
        "refs",
        [
            pytest.param(None, id="no-references"),
            pytest.param([controller_ref(OWNER.uid, controller=False)], id="not-the-controller"),
            pytest.param([controller_ref(OWNER.uid, kind="Deployment")], id="another-kind"),
        ],
    )
    def test_without_our_controller_reference_nobody_owns_it(self, refs: list[client.V1OwnerReference] | None) -> None:
        assert secrets.owner_uid(client.V1ObjectMeta(owner_references=refs)) is None

    def test_our_labels_alone_do_not_make_a_secret_ours(self) -> None:
        labels = secrets.labels_for(OWNER)
        assert secrets.owner_uid({"labels": labels}) is None


class TestLabels:
    """Label values never exceed 63 characters, whatever metadata.name the API server accepted."""

    def test_a_short_name_is_kept_as_a_label_with_the_uid(self) -> None:
        assert secrets.labels_for(OWNER) == {
            "app.kubernetes.io/managed-by": "personalize-operator",
            "personalize.operators.dev/owner-uid": OWNER.uid,
            "personalize.operators.dev/event-tracker": "storefront",
        }

    @pytest.mark.parametrize("length", [63, 64, 200, 253])
    def test_no_label_value_is_longer_than_63_characters(self, length: int) -> None:
        owner = secrets.Owner(namespace="shop", name="n" * length, uid=OWNER.uid)
        labels = secrets.labels_for(owner)
        assert all(len(value) <= 63 for value in labels.values())
        assert labels[names.OWNER_UID_LABEL] == OWNER.uid
        assert (names.OWNER_LABEL in labels) == (length <= 63)

    def test_the_selector_matches_every_secret_we_render(self) -> None:
        labels = secrets.render(OWNER, "s", "t", "arn")["metadata"]["labels"]
        for term in names.SECRET_SELECTOR.split(","):
            key, _, value = term.partition("=")
            assert key in labels and (not value or labels[key] == value)


class TestDataHash:
    """The data-hash annotation is sha256 over the data as `jq -cjS .data` prints it."""

    def test_the_hash_is_sha256_hex_of_compact_sorted_json(self) -> None:
        data = {"trackingId": "dA==", "eventTrackerArn": "YQ=="}
        expected = hashlib.sha256(b'{"eventTrackerArn":"YQ==","trackingId":"dA=="}').hexdigest()
        assert secrets.data_hash(data) == expected

    def test_the_hash_is_stable_and_follows_the_data(self) -> None:
        one = secrets.render(OWNER, "s", "tid-1", "arn")
        again = secrets.render(OWNER, "s", "tid-1", "arn")
        other = secrets.render(OWNER, "s", "tid-2", "arn")
        annotation = names.DATA_HASH_ANNOTATION
        assert one["metadata"]["annotations"][annotation] == again["metadata"]["annotations"][annotation]
        assert one["metadata"]["annotations"][annotation] != other["metadata"]["annotations"][annotation]
        assert json.dumps(one).count("tid-1") == 0, "the trackingId is only in the data, base64-encoded"
        assert base64.b64decode(one["data"]["trackingId"]) == b"tid-1"


class TestMerged:
    """A repair changes our data, labels and annotations and keeps everyone else's."""

    wanted = secrets.render(OWNER, "storefront-tracking", "new", "arn:new")

    def test_an_up_to_date_secret_needs_no_write(self) -> None:
        current = secrets.render(OWNER, "storefront-tracking", "old", "arn:old")
        secret = existing_secret()
        assert secrets.merged(secret, current) is None

    def test_foreign_labels_annotations_and_references_survive_a_repair(self) -> None:
        reloader = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="c", uid="other")
        secret = existing_secret(
            labels={"team": "growth", "app.kubernetes.io/managed-by": "someone"},
            annotations={"reloader.stakater.com/match": "true"},
            owner_references=[controller_ref(OWNER.uid), reloader],
            finalizers=["example.com/keep"],
        )
        updated = secrets.merged(secret, self.wanted)
        assert updated is not None
        assert updated.data == self.wanted["data"]
        assert updated.metadata.labels == {"team": "growth", **self.wanted["metadata"]["labels"]}
        assert updated.metadata.annotations == {
            "reloader.stakater.com/match": "true",
            names.DATA_HASH_ANNOTATION: secrets.data_hash(self.wanted["data"]),
        }
        assert updated.metadata.owner_references == [controller_ref(OWNER.uid), reloader]
        assert updated.metadata.finalizers == ["example.com/keep"]
        assert updated.metadata.resource_version == "7", "the write is conditional on what was read"
        assert secret.data != self.wanted["data"], "the object read is not modified in place"

    def test_an_extra_key_in_the_data_is_removed(self) -> None:
        secret = existing_secret()
        secret.data = {**self.wanted["data"], "planted": "eA=="}
        updated = secrets.merged(secret, self.wanted)
        assert updated is not None and updated.data == self.wanted["data"]


class TestErrors:
    """Kubernetes failures come out as SecretError with a status and a reason, never a response body."""

    def test_an_api_answer_gives_its_status_and_reason(self) -> None:
        error = secrets._failure("writing", "shop", "storefront-tracking", ApiException(status=403, reason="Forbidden"))
        assert str(error) == "writing Secret storefront-tracking failed: Kubernetes API answered 403 Forbidden"
        assert error.status == 403

    def test_no_answer_has_no_status(self) -> None:
        error = secrets._failure("reading", "shop", "s", urllib3.exceptions.ReadTimeoutError(None, "/", "timed out"))
        assert error.status is None and "ReadTimeoutError" in str(error)


class RecordedCalls:
    """Our Calls edge in memory: one optional existing object, every request recorded."""

    def __init__(self, existing: client.V1Secret | None = None) -> None:
        self.existing = existing
        self.requests: list[str] = []

    def calls(self) -> secrets.Calls:
        return secrets.Calls("Secret", self.read, self.create, self.replace, lambda *a, **k: None)

    def read(self, *_: object, **__: object) -> client.V1Secret:
        self.requests.append("read")
        if self.existing is None:
            raise ApiException(status=404)
        return self.existing

    def create(self, *_: object, **__: object) -> None:
        self.requests.append("create")
        if self.existing is not None:
            raise ApiException(status=409)

    def replace(self, *_: object, **__: object) -> None:
        self.requests.append("replace")


@pytest.mark.parametrize(
    ("existing", "new", "requests"),
    [
        pytest.param(None, True, ["create"], id="new-resource-one-request"),
        pytest.param(None, False, ["read", "create"], id="expected-to-exist-reads-first"),
        pytest.param(existing_secret(), True, ["create", "read", "replace"], id="wrong-guess-reads-and-repairs"),
        pytest.param(existing_secret(), False, ["read", "replace"], id="repair"),
    ],
)
def test_a_secret_expected_new_is_created_without_reading_first(
    existing: client.V1Secret | None, new: bool, requests: list[str]
) -> None:
    api = RecordedCalls(existing)
    wanted = secrets.render(OWNER, "storefront-tracking", "new", "arn:new")
    assert secrets.apply(api.calls(), wanted, OWNER, tracking_id="new", new=new)
    assert api.requests == requests


def test_a_wrong_guess_still_refuses_a_secret_that_is_not_ours() -> None:
    api = RecordedCalls(existing_secret(owner_references=[controller_ref("someone-else")]))
    with pytest.raises(secrets.SecretConflict):
        secrets.apply(api.calls(), secrets.render(OWNER, "storefront-tracking", "new", "arn:new"), OWNER, new=True)
    assert api.requests == ["create", "read"]
