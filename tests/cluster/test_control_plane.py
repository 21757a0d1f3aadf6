"""The local control plane is a real Kubernetes: CRDs, CEL, GC, namespaces, RBAC, watches.

These protect the foundation every end-to-end test stands on: if one fails,
the operator's tests would be testing a mock in disguise.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from local_cluster.identity import service_account_kubeconfig
from support.wait import wait_for

GROUP, VERSION, PLURAL = "probes.test.dev", "v1", "widgets"


def widget_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "size": {"type": "integer"},
                                        "colour": {"type": "string", "maxLength": 20},
                                    },
                                    "x-kubernetes-validations": [
                                        {"rule": "self.size <= 10", "message": "size must be at most 10"},
                                        {"rule": "self.colour == oldSelf.colour", "message": "colour is immutable"},
                                    ],
                                },
                                "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def widgets(api_client: client.ApiClient) -> str:
    ext = client.ApiextensionsV1Api(api_client)
    try:
        ext.create_custom_resource_definition(widget_crd())
    except ApiException as error:
        if error.status != 409:
            raise

    def established() -> bool:
        crd = ext.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    wait_for(established, timeout=30, what="CRD established")
    custom = client.CustomObjectsApi(api_client)
    wait_for(lambda: custom.list_cluster_custom_object(GROUP, VERSION, PLURAL) is not None, what="CRD served")
    return PLURAL


def widget(name: str, size: int = 1, colour: str = "red") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size, "colour": colour},
    }


class TestCustomResources:
    """CRD validation, CEL rules and the status subresource behave as on a real cluster."""

    def test_object_breaking_a_cel_rule_is_refused_with_its_message(
        self, custom: client.CustomObjectsApi, widgets: str, namespace: str
    ) -> None:
        with pytest.raises(ApiException) as refused:
            custom.create_namespaced_custom_object(GROUP, VERSION, namespace, widgets, widget("big", size=11))
        assert refused.value.status == 422
        assert "size must be at most 10" in refused.value.body

    def test_transition_rule_refuses_an_edit_of_an_immutable_field(
        self, custom: client.CustomObjectsApi, widgets: str, namespace: str
    ) -> None:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, widgets, widget("w"))
        with pytest.raises(ApiException) as refused:
            custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, widgets, "w", {"spec": {"colour": "blue"}})
        assert "colour is immutable" in refused.value.body

    def test_status_subresource_is_written_separately_from_spec(
        self, custom: client.CustomObjectsApi, widgets: str, namespace: str
    ) -> None:
        created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, widgets, widget("s"))
        # status in a main-resource write is ignored ...
        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, widgets, "s", {"status": {"phase": "Ignored"}})
        assert "status" not in custom.get_namespaced_custom_object(GROUP, VERSION, namespace, widgets, "s")
        # ... and the status subresource writes status without touching spec or generation.
        after = custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, widgets, "s", {"status": {"phase": "Ready"}}
        )
        assert after["status"] == {"phase": "Ready"}
        assert after["spec"] == created["spec"]
        assert after["metadata"]["generation"] == created["metadata"]["generation"]

    def test_watch_sees_added_modified_deleted(
        self, custom: client.CustomObjectsApi, widgets: str, namespace: str
    ) -> None:
        seen: list[str] = []
        # Watch from the current resourceVersion so no event can slip in before the watch starts.
        since = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, widgets)["metadata"]["resourceVersion"]

        def consume() -> None:
            stream = watch.Watch()
            for event in stream.stream(
                custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                widgets,
                resource_version=since,
                timeout_seconds=30,
            ):
                seen.append(event["type"])
                if event["type"] == "DELETED":
                    stream.stop()

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, widgets, widget("watched"))
        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, widgets, "watched", {"spec": {"size": 2}})
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, widgets, "watched")
        thread.join(timeout=30)
        assert seen[:1] == ["ADDED"] and "MODIFIED" in seen and seen[-1] == "DELETED", seen


class TestControllers:
    """kube-controller-manager really runs: garbage collection and namespace deletion."""

    def test_owned_object_is_garbage_collected_after_its_custom_owner_goes(
        self, core: client.CoreV1Api, custom: client.CustomObjectsApi, widgets: str, namespace: str
    ) -> None:
        owner = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, widgets, widget("owner"))
        reference = client.V1OwnerReference(
            api_version=f"{GROUP}/{VERSION}",
            kind="Widget",
            name="owner",
            uid=owner["metadata"]["uid"],
            controller=True,
            block_owner_deletion=True,
        )
        core.create_namespaced_config_map(
            namespace,
            client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="owned", owner_references=[reference]), data={"a": "b"}
            ),
        )
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, widgets, "owner")

        def collected() -> bool:
            try:
                core.read_namespaced_config_map("owned", namespace)
            except ApiException as error:
                return error.status == 404
            return False

        wait_for(collected, timeout=60, what="owned ConfigMap garbage-collected")

    def test_namespace_with_objects_is_deleted(
        self, core: client.CoreV1Api, widgets: str, custom: client.CustomObjectsApi
    ) -> None:
        name = f"doomed-{uuid.uuid4().hex[:6]}"
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        core.create_namespaced_config_map(name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
        core.create_namespaced_secret(name, client.V1Secret(metadata=client.V1ObjectMeta(name="s")))
        custom.create_namespaced_custom_object(GROUP, VERSION, name, widgets, widget("w"))
        core.delete_namespace(name)

        def gone() -> bool:
            try:
                core.read_namespace(name)
            except ApiException as error:
                return error.status == 404
            return False

        wait_for(gone, timeout=90, what=f"namespace {name} gone")


class TestRbac:
    """Authorization is real RBAC: a ServiceAccount has exactly what it is granted."""

    def test_service_account_is_refused_secrets_until_a_role_grants_them(
        self, kubeconfig: Path, api_client: client.ApiClient, namespace: str, tmp_path: Path
    ) -> None:
        identity = service_account_kubeconfig(kubeconfig, namespace, "reader", tmp_path / "reader.kubeconfig")
        as_reader = client.CoreV1Api(config.new_client_from_config(config_file=str(identity)))
        with pytest.raises(ApiException) as refused:
            as_reader.list_namespaced_secret(namespace)
        assert refused.value.status == 403

        rbac = client.RbacAuthorizationV1Api(api_client)
        rbac.create_namespaced_role(
            namespace,
            client.V1Role(
                metadata=client.V1ObjectMeta(name="secret-reader"),
                rules=[client.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["get", "list"])],
            ),
        )
        rbac.create_namespaced_role_binding(
            namespace,
            client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name="secret-reader"),
                role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="secret-reader"),
                subjects=[client.RbacV1Subject(kind="ServiceAccount", name="reader", namespace=namespace)],
            ),
        )
        wait_for(
            lambda: as_reader.list_namespaced_secret(namespace) is not None, timeout=10, what="granted list of secrets"
        )
