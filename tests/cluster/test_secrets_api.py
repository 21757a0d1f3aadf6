"""SecretsApi against the real API server: the same answers, models and errors as CoreV1Api's calls."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from personalize_operator.kube.secretsapi import SecretsApi


@pytest.fixture
def secrets(core: client.CoreV1Api) -> SecretsApi:
    return SecretsApi(core.api_client)


def _body(name: str, value: str = "v", **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "stringData": {"k": value}}


def test_create_read_replace_delete(secrets: SecretsApi, core: client.CoreV1Api, namespace: str) -> None:
    created = secrets.create_namespaced_secret(namespace, _body("one"), _request_timeout=(5, 30))
    assert isinstance(created, client.V1Secret) and created.metadata.uid

    read = secrets.read_namespaced_secret("one", namespace, _request_timeout=(5, 30))
    assert read.metadata.uid == created.metadata.uid and read.data == {"k": "dg=="}  # base64 of "v"

    read.data = {"k": "dw=="}
    replaced = secrets.replace_namespaced_secret("one", namespace, read)
    assert core.read_namespaced_secret("one", namespace).data == {"k": "dw=="}

    read.data = {"k": "eA=="}  # the resourceVersion read before the replace: somebody wrote since
    with pytest.raises(ApiException) as stale:
        secrets.replace_namespaced_secret("one", namespace, read)
    assert stale.value.status == 409

    wrong_uid = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="00000000-0000-0000-0000-000000000000"))
    with pytest.raises(ApiException) as refused:
        secrets.delete_namespaced_secret("one", namespace, body=wrong_uid)
    assert refused.value.status == 409

    right_uid = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=replaced.metadata.uid))
    secrets.delete_namespaced_secret("one", namespace, body=right_uid)
    with pytest.raises(ApiException) as gone:
        secrets.read_namespaced_secret("one", namespace)
    assert gone.value.status == 404


def test_list_pages_and_selects(secrets: SecretsApi, namespace: str) -> None:
    for index in range(5):
        secrets.create_namespaced_secret(namespace, _body(f"s-{index}", team="a"))
    secrets.create_namespaced_secret(namespace, _body("other", team="b"))

    names, token, pages = [], None, 0
    while True:
        page = secrets.list_namespaced_secret(namespace, label_selector="team=a", limit=2, _continue=token)
        assert isinstance(page, client.V1SecretList)
        pages += 1
        names += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert sorted(names) == [f"s-{index}" for index in range(5)] and pages == 3

    everywhere = secrets.list_secret_for_all_namespaces(label_selector="team=b")
    assert [item.metadata.name for item in everywhere.items if item.metadata.namespace == namespace] == ["other"]


def test_kubernetes_watch_decodes_models(secrets: SecretsApi, namespace: str) -> None:
    version = secrets.list_namespaced_secret(namespace).metadata.resource_version
    stream = watch.Watch()
    seen: list[tuple[str, object]] = []

    def follow() -> None:
        for event in stream.stream(
            secrets.list_namespaced_secret, namespace, resource_version=version, timeout_seconds=20
        ):
            seen.append((event["type"], event["object"]))
            if len(seen) == 2:
                stream.stop()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    secrets.create_namespaced_secret(namespace, _body("watched"))
    secrets.delete_namespaced_secret("watched", namespace)
    thread.join(30)
    assert [kind for kind, _ in seen] == ["ADDED", "DELETED"]
    assert all(isinstance(obj, client.V1Secret) and obj.metadata.name == "watched" for _, obj in seen)


def test_refuses_what_it_does_not_send(secrets: SecretsApi, namespace: str) -> None:
    with pytest.raises(TypeError, match="field_selector"):
        secrets.list_namespaced_secret(namespace, field_selector="metadata.name=x")
    with pytest.raises(ValueError, match="not a valid name"):
        secrets.read_namespaced_secret("../x", namespace)


def test_the_operator_does_not_load_core_v1_api() -> None:
    """The point of SecretsApi (and ConfigMapsApi, Workloads): the operator's modules never touch CoreV1Api or
    AppsV1Api (22 MB resident each)."""
    import subprocess
    import sys

    probe = (
        "import sys, kubernetes.client as c\n"
        "import personalize_operator.handlers, personalize_operator.kube.rbac_guard, personalize_operator.cli\n"
        "heavy = ('kubernetes.client.api.core_v1_api', 'kubernetes.client.api.apps_v1_api')\n"
        "print(any(m in sys.modules for m in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"
