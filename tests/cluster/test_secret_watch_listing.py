"""The Secret watch's list, page by page, against the real API server: every Secret of ours is looked at."""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from personalize_operator import secretwatch
from personalize_operator.secrets import MANAGED_BY, OWNER_UID_LABEL, SECRET_SELECTOR


def _secret(name: str, owner: str, *, ours: bool = True) -> client.V1Secret:
    labels = {**MANAGED_BY, OWNER_UID_LABEL: owner} if ours else {"app": "other"}
    reference = client.V1OwnerReference(
        api_version="personalize.operators.dev/v1alpha1", kind="EventTracker", name=name, uid=owner, controller=True
    )
    return client.V1Secret(
        metadata=client.V1ObjectMeta(name=name, labels=labels, owner_references=[reference]),
        string_data={"trackingId": "not-a-real-one"},  # no data-hash annotation: every one needs repair
    )


def test_every_page_of_our_secrets_is_considered(
    core: client.CoreV1Api, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owners = [str(uuid.uuid4()) for _ in range(7)]
    for index, owner in enumerate(owners):
        core.create_namespaced_secret(namespace, _secret(f"s-{index}", owner))
    core.create_namespaced_secret(namespace, _secret("theirs", str(uuid.uuid4()), ours=False))
    monkeypatch.setattr(secretwatch, "LIST_PAGE", 3)  # 7 Secrets: pages of 3, 3 and 1
    woken: list[str] = []
    watch = secretwatch.SecretWatch(core, [namespace], lambda uid: woken.append(uid) or True)

    version = watch._list(namespace)

    assert sorted(woken) == sorted(owners)  # each once, the other Secret never
    assert version.isdigit()
    listed = core.list_namespaced_secret(namespace, label_selector=SECRET_SELECTOR)
    assert int(version) >= int(max(s.metadata.resource_version for s in listed.items))
