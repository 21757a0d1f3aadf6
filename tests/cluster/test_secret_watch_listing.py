"""The Secret watch's list, page by page, against the real API server: every Secret of ours is looked at."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from personalize_operator.api.names import OWNER_UID_LABEL, SECRET_SELECTOR
from personalize_operator.kube import secretwatch
from personalize_operator.kube.secrets import MANAGED_BY
from personalize_operator.kube.secretsapi import SecretsApi


def _secret(name: str, *, ours: bool = True) -> client.V1Secret:
    # No ownerReferences: a running garbage collector would delete Secrets whose owner does not exist.
    labels = {**MANAGED_BY, OWNER_UID_LABEL: name} if ours else {"app": "other"}
    return client.V1Secret(metadata=client.V1ObjectMeta(name=name, labels=labels), string_data={"k": "v"})


def test_every_page_of_our_secrets_is_considered(
    core: client.CoreV1Api, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = [f"s-{index}" for index in range(7)]
    for name in ours:
        core.create_namespaced_secret(namespace, _secret(name))
    core.create_namespaced_secret(namespace, _secret("theirs", ours=False))
    monkeypatch.setattr(secretwatch, "LIST_PAGE", 3)  # 7 Secrets: pages of 3, 3 and 1
    watch = secretwatch.SecretWatch(SecretsApi(core.api_client), [namespace], lambda uid: True)
    considered: list[tuple[str, str]] = []

    def consider(event_type: str, secret: Any) -> None:
        considered.append((event_type, secret.metadata.name))

    monkeypatch.setattr(watch, "_consider", consider)

    version = watch._list(namespace)

    assert sorted(considered) == [("ADDED", name) for name in sorted(ours)]  # each once, the other Secret never
    assert version.isdigit()
    listed = core.list_namespaced_secret(namespace, label_selector=SECRET_SELECTOR)
    assert int(version) >= max(int(s.metadata.resource_version) for s in listed.items)
