"""Least privilege, proven: the chart's identity is enough, is needed rule by rule, and is refused the rest.

The chart is really installed (`helm install`, admin identity) in each mode;
the operator then runs as `personalize-operator run` with a token of the
chart's ServiceAccount (TokenRequest, no impersonation) and the flags and
PERSONALIZE_OPERATOR_* variables of the rendered Deployment. Protects three
promises of docs/install.md: the operator works with exactly these rules in
both modes without a single 403 (so no kopf fallback hides a missing grant);
dropping any one rule breaks something visible (without a Lease verb it never
leads, or exits at the renew deadline); and the identity cannot read Secrets
or touch EventTrackers outside its namespaces, delete CRDs, touch pods, or
read or change any Lease but its own.
"""

from __future__ import annotations

import base64
import copy
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from local_cluster.identity import service_account_kubeconfig
from personalize_emulator.testing import Emulator
from support import chart
from support.chart import GUARD_FINALIZER, ChartEnv, Helm
from support.kube import CRD_NAME
from support.operator_process import OperatorProcess
from support.solo import new_dataset_group
from support.trackers import GROUP, PLURAL, VERSION, Trackers, manifest
from support.wait import stays, wait_for

FORBIDDEN_IN_LOG = re.compile(r"APIForbiddenError|answered 403|Not enough permissions|forbidden", re.IGNORECASE)
TAMPERED = base64.b64encode(b"tampered").decode()


@dataclass
class Installation:
    """One `helm install` of the chart and a client that is its ServiceAccount."""

    mode: str
    release: str
    release_namespace: str
    tracker_namespace: str  # watched in both modes; the lifecycle runs here
    outside_namespace: str  # not watched in namespaces mode
    objects: list[dict[str, Any]]
    identity: Path  # kubeconfig with the ServiceAccount's token
    api: client.ApiClient

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def coordination(self) -> client.CoordinationV1Api:
        return client.CoordinationV1Api(self.api)

    @property
    def lease_name(self) -> str:
        return chart.operator_settings_env(self.objects)["PERSONALIZE_OPERATOR_LEASE_NAME"]

    def operator(self, emulator: Emulator, log: Path, extra_env: dict[str, str] | None = None) -> OperatorProcess:
        """The operator as the Deployment runs it: its --namespace flags and settings, this identity."""
        return OperatorProcess(
            kubeconfig=self.identity,
            endpoint=emulator.endpoint,
            log=log,
            namespaces=chart.watched_namespaces(self.objects),
            extra_env={**chart.operator_settings_env(self.objects), **(extra_env or {})},
        )


@pytest.fixture(scope="module", params=["cluster", "namespaces"])
def installation(
    request: pytest.FixtureRequest,
    helm: Helm,
    chart_crd: str,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Installation]:
    mode: str = request.param
    release_namespace = chart.new_namespace(core, f"{mode}-release")
    tracker_namespace = chart.new_namespace(core, f"{mode}-shop")
    also_watched = chart.new_namespace(core, f"{mode}-search")
    outside = chart.new_namespace(core, f"{mode}-outside")
    watched = [tracker_namespace, also_watched] if mode == "namespaces" else []
    values = {"watch": {"mode": mode, "namespaces": watched}}
    release = f"chart-{mode}-{uuid.uuid4().hex[:6]}"
    helm.install(release, release_namespace, values)
    objects = helm.objects(release, release_namespace, values)
    account = chart.one(objects, "ServiceAccount")["metadata"]["name"]
    identity = service_account_kubeconfig(
        helm.kubeconfig, release_namespace, account, tmp_path_factory.mktemp(f"identity-{mode}") / "kubeconfig"
    )
    try:
        yield Installation(
            mode=mode,
            release=release,
            release_namespace=release_namespace,
            tracker_namespace=tracker_namespace,
            outside_namespace=outside,
            objects=objects,
            identity=identity,
            api=config.new_client_from_config(config_file=str(identity)),
        )
    finally:
        helm.uninstall(release, release_namespace)
        chart.delete_namespaces(core, custom, release_namespace, tracker_namespace, also_watched, outside)


def unique_aws_name() -> str:
    """AWS names are unique per account and region, and the chart tests share one emulator."""
    return f"storefront-{uuid.uuid4().hex[:8]}"


def forbidden_lines(output: str) -> list[str]:
    return [line[:300] for line in output.splitlines() if FORBIDDEN_IN_LOG.search(line)]


def decoded(secret: client.V1Secret | None) -> dict[str, str]:
    assert secret is not None
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


class TestLifecycleWithTheChartIdentity:
    """The chart's rules are enough: create, Active, Secret, repair, rename, delete, in both modes, without a 403."""

    def test_a_tracker_lives_and_dies_with_only_the_chart_permissions(
        self,
        installation: Installation,
        chart_emulator: Emulator,
        core: client.CoreV1Api,
        custom: client.CustomObjectsApi,
        tmp_path: Path,
    ) -> None:
        trackers = Trackers(custom=custom, core=core, namespace=installation.tracker_namespace)
        dataset_group = new_dataset_group(chart_emulator, stem=installation.mode)
        operator = installation.operator(chart_emulator, tmp_path / "operator.log").start()
        try:
            trackers.create(manifest("storefront", dataset_group, name=unique_aws_name()))
            arn = trackers.wait_phase("storefront", "Active", timeout=60)["eventTrackerArn"]
            remote = chart_emulator.admin.tracker(arn=arn)
            assert remote is not None
            assert decoded(trackers.secret("storefront-tracking"))["trackingId"] == remote["trackingId"]
            wait_for(
                lambda: {"Creating", "Active"} <= {reason for _, reason, _ in trackers.events("storefront")},
                timeout=30,
                what="Creating and Active Events posted",
            )

            core.patch_namespaced_secret(
                "storefront-tracking", installation.tracker_namespace, {"data": {"trackingId": TAMPERED}}
            )
            trackers.patch("storefront", {"spec": {"tags": [{"tagKey": "team", "tagValue": "growth"}]}})
            wait_for(
                lambda: decoded(trackers.secret("storefront-tracking"))["trackingId"] == remote["trackingId"],
                timeout=30,
                what="tampered Secret repaired (update)",
            )

            trackers.patch("storefront", {"spec": {"secretName": "storefront-moved"}})
            wait_for(
                lambda: (
                    trackers.secret("storefront-moved") is not None and trackers.secret("storefront-tracking") is None
                ),
                timeout=30,
                what="Secret renamed, old one deleted",
            )

            trackers.delete("storefront")
            trackers.wait_gone("storefront", timeout=60)
            assert chart_emulator.admin.tracker(arn=arn) is None, "the remote tracker outlived its resource"
            wait_for(lambda: trackers.secret("storefront-moved") is None, timeout=30, what="Secret deleted")
        finally:
            operator.stop()
        assert forbidden_lines(operator.output()) == []


def _lease(name: str) -> client.V1Lease:
    return client.V1Lease(metadata=client.V1ObjectMeta(name=name), spec=client.V1LeaseSpec(holder_identity="x"))


def _pod() -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name="intruder"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )


Attempt = Callable[[Installation], object]

REFUSED_IN_EVERY_MODE: dict[str, Attempt] = {
    "read-another-rolebinding": lambda i: client.RbacAuthorizationV1Api(i.api).read_namespaced_role_binding(
        "someone-else", i.tracker_namespace
    ),
    "patch-another-rolebinding": lambda i: client.RbacAuthorizationV1Api(i.api).patch_namespaced_role_binding(
        "someone-else", i.tracker_namespace, {"metadata": {"finalizers": None}}
    ),
    "get-a-pod": lambda i: i.core.read_namespaced_pod("intruder", i.tracker_namespace),
    "list-pods": lambda i: i.core.list_namespaced_pod(i.tracker_namespace),
    "list-pods-in-all-namespaces": lambda i: i.core.list_pod_for_all_namespaces(),
    "create-a-pod": lambda i: i.core.create_namespaced_pod(i.tracker_namespace, _pod()),
    "create-a-pod-in-its-own-namespace": lambda i: i.core.create_namespaced_pod(i.release_namespace, _pod()),
    "delete-the-crd": lambda i: client.ApiextensionsV1Api(i.api).delete_custom_resource_definition(CRD_NAME),
    "list-crds": lambda i: client.ApiextensionsV1Api(i.api).list_custom_resource_definition(),
    "list-namespaces": lambda i: i.core.list_namespace(),
    "read-another-lease": lambda i: i.coordination.read_namespaced_lease("someone-else", i.release_namespace),
    "update-another-lease": lambda i: i.coordination.replace_namespaced_lease(
        "someone-else", i.release_namespace, _lease("someone-else")
    ),
    "delete-its-own-lease": lambda i: i.coordination.delete_namespaced_lease(i.lease_name, i.release_namespace),
    "list-leases": lambda i: i.coordination.list_namespaced_lease(i.release_namespace),
    "create-a-lease-in-a-watched-namespace": lambda i: i.coordination.create_namespaced_lease(
        i.tracker_namespace, _lease("planted")
    ),
    "bind-itself-a-role": lambda i: client.RbacAuthorizationV1Api(i.api).create_namespaced_role_binding(
        i.tracker_namespace,
        {
            "metadata": {"name": "escalate"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": i.tracker_namespace}],
        },
    ),
}

REFUSED_IN_NAMESPACES_MODE: dict[str, Attempt] = {
    "list-secrets-outside": lambda i: i.core.list_namespaced_secret(i.outside_namespace),
    "list-secrets-in-all-namespaces": lambda i: i.core.list_secret_for_all_namespaces(),
    "read-a-secret-outside": lambda i: i.core.read_namespaced_secret("anything", i.outside_namespace),
    "create-a-secret-outside": lambda i: i.core.create_namespaced_secret(
        i.outside_namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="planted"))
    ),
    "delete-a-secret-outside": lambda i: i.core.delete_namespaced_secret("anything", i.outside_namespace),
    "list-eventtrackers-outside": lambda i: i.custom.list_namespaced_custom_object(
        GROUP, VERSION, i.outside_namespace, PLURAL
    ),
    "patch-an-eventtracker-outside": lambda i: i.custom.patch_namespaced_custom_object(
        GROUP, VERSION, i.outside_namespace, PLURAL, "storefront", {"metadata": {"labels": {"x": "y"}}}
    ),
    "patch-eventtracker-status-outside": lambda i: i.custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, i.outside_namespace, PLURAL, "storefront", {"status": {"phase": "Active"}}
    ),
    "list-eventtrackers-in-all-namespaces": lambda i: i.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL),
    "post-an-event-outside": lambda i: i.core.create_namespaced_event(
        i.outside_namespace,
        client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="forged"), involved_object=client.V1ObjectReference(name="x")
        ),
    ),
}


def assert_refused(installation: Installation, attempt: Attempt) -> None:
    with pytest.raises(ApiException) as refused:
        attempt(installation)
    assert refused.value.status == 403, refused.value


class TestRefusals:
    """The chart's identity is refused (403) everything it must not do."""

    @pytest.mark.parametrize("attempt", [pytest.param(a, id=name) for name, a in REFUSED_IN_EVERY_MODE.items()])
    def test_refused_in_every_mode(self, installation: Installation, attempt: Attempt) -> None:
        assert_refused(installation, attempt)

    @pytest.mark.parametrize("attempt", [pytest.param(a, id=name) for name, a in REFUSED_IN_NAMESPACES_MODE.items()])
    def test_refused_outside_the_watched_namespaces_unless_cluster_wide(
        self, installation: Installation, attempt: Attempt
    ) -> None:
        if installation.mode == "namespaces":
            assert_refused(installation, attempt)
        else:  # the same identity cluster-wide reaches every namespace: the mode is what confines it
            try:
                attempt(installation)
            except ApiException as error:
                assert error.status != 403, error

    def test_the_refusals_come_from_rbac_not_from_a_broken_token(self, installation: Installation) -> None:
        account = chart.one(installation.objects, "ServiceAccount")["metadata"]["name"]
        review = client.AuthenticationV1Api(installation.api).create_self_subject_review({})
        assert review.status.user_info.username == f"system:serviceaccount:{installation.release_namespace}:{account}"
        listed = installation.custom.list_namespaced_custom_object(
            GROUP, VERSION, installation.tracker_namespace, PLURAL
        )
        assert listed["items"] == []


class TestTheLeaseRules:
    """The Lease rules reach exactly as far as RBAC allows, and the operator uses them as the leader."""

    def test_create_cannot_name_the_lease_so_it_is_confined_to_the_release_namespace(
        self, installation: Installation
    ) -> None:
        """RBAC matches resourceNames against the URL and a create has no name there: any Lease, here only."""
        made = installation.coordination.create_namespaced_lease(installation.release_namespace, _lease("another"))
        assert made.metadata.name == "another"
        assert_refused(installation, lambda i: i.coordination.read_namespaced_lease("another", i.release_namespace))
        assert_refused(installation, lambda i: i.coordination.create_namespaced_lease(i.outside_namespace, _lease("x")))

    def test_the_lifecycle_operator_held_the_chart_lease(
        self, installation: Installation, chart_emulator: Emulator, tmp_path: Path
    ) -> None:
        operator = installation.operator(chart_emulator, tmp_path / "operator.log").start()
        try:
            coordination, namespace = installation.coordination, installation.release_namespace
            held = coordination.read_namespaced_lease(installation.lease_name, namespace)
            assert held.spec.holder_identity == operator.identity
        finally:
            operator.stop()


class TestAggregatedRoles:
    """Namespace users with the built-in edit/view roles can manage/read EventTrackers once the chart is in."""

    def test_edit_may_create_and_view_may_only_read(
        self,
        installation: Installation,
        helm: Helm,
        core: client.CoreV1Api,
        api_client: client.ApiClient,
        tmp_path: Path,
    ) -> None:
        namespace, rbac = installation.tracker_namespace, client.RbacAuthorizationV1Api(api_client)
        people: dict[str, client.CustomObjectsApi] = {}
        for role in ("edit", "view"):
            rbac.create_namespaced_role_binding(
                namespace,
                {
                    "metadata": {"name": f"people-{role}"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": f"person-{role}", "namespace": namespace}],
                },
            )
            identity = service_account_kubeconfig(helm.kubeconfig, namespace, f"person-{role}", tmp_path / role)
            people[role] = client.CustomObjectsApi(config.new_client_from_config(config_file=str(identity)))
        body = manifest("dry", "arn:aws:personalize:us-east-1:111122223333:dataset-group/people")

        wait_for(
            lambda: people["edit"].create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, body, dry_run="All"
            ),
            timeout=30,
            what="edit aggregated to EventTrackers",
        )
        wait_for(
            lambda: people["view"].list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL) is not None,
            timeout=30,
            what="view aggregated to EventTrackers",
        )
        with pytest.raises(ApiException) as refused:
            people["view"].create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body, dry_run="All")
        assert refused.value.status == 403


# Each granted verb, the scenario that needs it, and what breaks without it.
NEEDS = [
    pytest.param(
        # kopf lists in pages (handlers.LIST_CHUNK): the URL carries ?limit=
        "eventtrackers",
        "list",
        "create",
        r"GET \S+/eventtrackers(\?\S*)? -> APIForbiddenError",
        id="eventtrackers-list",
    ),
    pytest.param(
        "eventtrackers",
        "watch",
        "create",
        r"GET \S+/eventtrackers\?watch=true\S* -> APIForbiddenError",
        id="eventtrackers-watch",
    ),
    pytest.param(
        "eventtrackers",
        "patch",
        "create",
        r"PATCH \S+/eventtrackers/storefront -> APIForbiddenError",
        id="eventtrackers-patch",
    ),
    pytest.param(
        "eventtrackers/status",
        "patch",
        "create",
        # kopf writes nothing in status (handlers.UnwrittenDiffBase): the pass's first status write is refused,
        # before createRequested is recorded, so no CreateEventTracker is sent
        r"storefront: pass failed: Kubernetes API answered 403",
        id="eventtrackers-status-patch",
    ),
    pytest.param("events", "create", "events", r"POST \S+/events -> APIForbiddenError", id="events-create"),
    pytest.param(
        "eventtrackers",
        "get",
        "create",
        r"pass failed: Kubernetes API answered 403",
        id="eventtrackers-get",
    ),
    pytest.param("configmaps", "list", "cm-heal", r"ConfigMap watch \(\S+\) failed: 403", id="configmaps-list"),
    pytest.param("configmaps", "watch", "cm-heal", r"ConfigMap watch \(\S+\) failed: 403", id="configmaps-watch"),
    pytest.param("configmaps", "get", "cm-write", "", id="configmaps-get"),
    pytest.param("configmaps", "create", "cm-write", "", id="configmaps-create"),
    pytest.param("configmaps", "update", "cm-repair", "", id="configmaps-update"),
    pytest.param("configmaps", "delete", "cm-rename", "", id="configmaps-delete"),
    pytest.param("secrets", "list", "heal", r"Secret watch \(\S+\) failed: 403", id="secrets-list"),
    pytest.param("secrets", "watch", "heal", r"Secret watch \(\S+\) failed: 403", id="secrets-watch"),
    # A first Secret is created without a read (decide.expects_new_secret): get is needed from the second write on.
    pytest.param("secrets", "get", "repair", "", id="secrets-get"),
    pytest.param("secrets", "create", "secret", "", id="secrets-create"),
    pytest.param("secrets", "update", "repair", "", id="secrets-update"),
    pytest.param("secrets", "delete", "rename", "", id="secrets-delete"),
    # The RBAC guard (namespaces mode): without these a namespace deletion can hang (test_chart_namespace_deletion).
    *[
        pytest.param(
            "rolebindings", verb, "guard", r"RBAC guard: Kubernetes API answered 403", id=f"rolebindings-{verb}"
        )
        for verb in ("get", "patch")
    ],
    pytest.param("leases", "get", "never-leads", r"Lease \S+: HTTP 403 Forbidden", id="leases-get"),
    pytest.param("leases", "create", "never-leads", r"Lease \S+: HTTP 403 Forbidden", id="leases-create"),
    pytest.param("leases", "update", "cannot-renew", "leader election lost", id="leases-update"),
]


def without(rules: list[dict[str, Any]], resource: str, verb: str) -> list[dict[str, Any]]:
    """The chart's rules minus one verb on one resource (the verb must be granted to begin with)."""
    trimmed = copy.deepcopy(rules)
    (rule,) = [r for r in trimmed if resource in r["resources"] and verb in r["verbs"]]
    rule["verbs"].remove(verb)
    return [r for r in trimmed if r["verbs"]]


@dataclass
class Trimmed:
    namespace: str
    trackers: Trackers
    operator: OperatorProcess
    objects: list[dict[str, Any]]


def config_map(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, str] | None:
    try:
        return dict(core.read_namespaced_config_map(name, namespace).data or {})
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def leases_named(coordination: client.CoordinationV1Api, namespace: str, name: str) -> list[str]:
    items = coordination.list_namespaced_lease(namespace).items
    return [lease.spec.holder_identity for lease in items if lease.metadata.name == name]


@pytest.fixture
def trimmed_identity(
    request: pytest.FixtureRequest, chart_env: ChartEnv, api_client: client.ApiClient, tmp_path: Path
) -> Iterator[Callable[[str, str], Trimmed]]:
    """Start the operator, as in namespaces mode, with the chart's rules (one Role for all) minus one verb."""
    helm, chart_emulator, core, custom = chart_env.helm, chart_env.emulator, chart_env.core, chart_env.custom
    made: list[Trimmed] = []

    def start(resource: str, verb: str) -> Trimmed:
        namespace = chart.new_namespace(core, "needs")
        objects = helm.objects("needs", namespace, {"watch": {"mode": "namespaces", "namespaces": [namespace]}})
        role = chart.one(chart.operator_rbac(objects), "ClusterRole")
        granted = [*role["rules"], *(rule for lease in chart.of_kind(objects, "Role") for rule in lease["rules"])]
        rules = without(granted, resource, verb)
        name = role["metadata"]["name"]  # the chart's name: the RBAC guard protects exactly that RoleBinding
        rbac = client.RbacAuthorizationV1Api(api_client)
        rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": rules})
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": namespace}],
            },
        )
        identity = service_account_kubeconfig(helm.kubeconfig, namespace, "operator", tmp_path / "kubeconfig")
        operator = OperatorProcess(
            kubeconfig=identity,
            endpoint=chart_emulator.endpoint,
            log=tmp_path / "operator.log",
            namespaces=[namespace],
            # The identity as `clusterId` gives it: nothing cluster-scoped is granted here (the chart's identity
            # ClusterRole is tested on its own, tests/chart/test_chart_render.py).
            extra_env={
                **chart.operator_settings_env(objects),
                "PERSONALIZE_OPERATOR_LOG_FORMAT": "text",
                "PERSONALIZE_OPERATOR_CLUSTER_ID": "least-privilege",
            },
        ).start(ready=(resource, verb) != ("eventtrackers", "list"))  # ready = listed: trackers come after the list
        made.append(Trimmed(namespace, Trackers(custom=custom, core=core, namespace=namespace), operator, objects))
        return made[-1]

    yield start
    for box in made:
        box.operator.stop()
        chart.delete_namespaces(core, custom, box.namespace)


class TestEveryRuleIsNeeded:
    """Without any one of the chart's rules the operator visibly fails: none of them is spare."""

    def test_every_granted_verb_has_a_scenario_here(self, helm: Helm) -> None:
        objects = helm.objects("needs", "ops", {"watch": {"mode": "namespaces", "namespaces": ["shop"]}})
        rules = [
            *chart.one(chart.operator_rbac(objects), "ClusterRole")["rules"],
            *(rule for role in chart.leader_election_rbac(objects) if role["kind"] == "Role" for rule in role["rules"]),
        ]
        granted = {(r, v) for rule in rules for r in rule["resources"] for v in rule["verbs"]}
        covered = {(param.values[0], param.values[1]) for param in NEEDS}
        assert granted == covered

    @pytest.mark.parametrize(("resource", "verb", "scenario", "symptom"), NEEDS)
    def test_dropping_one_rule_breaks_the_lifecycle(
        self,
        trimmed_identity: Callable[[str, str], Trimmed],
        chart_emulator: Emulator,
        core: client.CoreV1Api,
        resource: str,
        verb: str,
        scenario: str,
        symptom: str,
    ) -> None:
        box = trimmed_identity(resource, verb)
        trackers = box.trackers
        coordination = client.CoordinationV1Api(core.api_client)
        lease = chart.operator_settings_env(box.objects)["PERSONALIZE_OPERATOR_LEASE_NAME"]
        dataset_group = new_dataset_group(chart_emulator, stem="needs")
        facts = {"configMapName": "storefront-facts"} if resource == "configmaps" else {}
        trackers.create(manifest("storefront", dataset_group, name=unique_aws_name(), **facts))

        if scenario == "create":  # kopf's own calls: the resource is never handled
            wait_for(lambda: re.search(symptom, box.operator.output()), timeout=30, what=f"403 on {verb} {resource}")
            stays(lambda: not trackers.status("storefront").get("phase"), seconds=3, what="no phase written")
            if verb == "list":  # it never lists, so it never reports ready
                assert box.operator.probe("/readyz")[0] == 503
        elif scenario == "events":  # reconciles, but nobody hears about it
            trackers.wait_phase("storefront", "Active")
            wait_for(lambda: re.search(symptom, box.operator.output()), timeout=30, what="403 on posting an Event")
            assert trackers.events("storefront") == []
        elif scenario == "secret":  # the tracker is ACTIVE in AWS, but pods never get its trackingId
            trackers.wait_phase("storefront", "Pending", reason="SecretNotWritten")
            assert trackers.secret("storefront-tracking") is None
        elif scenario == "repair":  # a tampered Secret stays tampered
            trackers.wait_phase("storefront", "Active")
            core.patch_namespaced_secret("storefront-tracking", box.namespace, {"data": {"trackingId": TAMPERED}})
            trackers.patch("storefront", {"spec": {"tags": [{"tagKey": "team", "tagValue": "growth"}]}})
            trackers.wait_phase("storefront", "Pending", reason="SecretNotWritten")
            assert decoded(trackers.secret("storefront-tracking"))["trackingId"] == "tampered"
        elif scenario == "heal":  # a deleted Secret stays deleted until the next resync (10 min by default)
            trackers.wait_phase("storefront", "Active")
            wait_for(lambda: re.search(symptom, box.operator.output()), timeout=30, what=f"403 on {verb} secrets")
            core.delete_namespaced_secret("storefront-tracking", box.namespace)
            stays(lambda: trackers.secret("storefront-tracking") is None, seconds=10, what="Secret not healed")
        elif scenario == "rename":  # the old Secret, a live credential, is left behind
            trackers.wait_phase("storefront", "Active")
            trackers.patch("storefront", {"spec": {"secretName": "storefront-moved"}})
            trackers.wait_phase("storefront", "Pending", reason="SecretNotWritten")
            assert trackers.secret("storefront-tracking") is not None
        elif scenario == "cm-write":  # the tracker is ACTIVE, but its ConfigMap never appears
            trackers.wait_phase("storefront", "Pending", reason="SecretNotWritten")
            assert config_map(core, box.namespace, "storefront-facts") is None
        elif scenario == "cm-repair":  # an edited ConfigMap stays edited
            trackers.wait_phase("storefront", "Active")
            core.patch_namespaced_config_map("storefront-facts", box.namespace, {"data": {"region": "elsewhere"}})
            trackers.patch("storefront", {"spec": {"tags": [{"tagKey": "team", "tagValue": "growth"}]}})
            trackers.wait_phase("storefront", "Pending", reason="SecretNotWritten")
            assert (config_map(core, box.namespace, "storefront-facts") or {}).get("region") == "elsewhere"
        elif scenario == "cm-heal":  # a deleted ConfigMap stays deleted until the next resync
            trackers.wait_phase("storefront", "Active")
            wait_for(lambda: re.search(symptom, box.operator.output()), timeout=30, what=f"403 on {verb} configmaps")
            core.delete_namespaced_config_map("storefront-facts", box.namespace)
            stays(lambda: config_map(core, box.namespace, "storefront-facts") is None, seconds=10, what="not healed")
        elif scenario == "cm-rename":  # the old ConfigMap is left behind
            trackers.wait_phase("storefront", "Active")
            trackers.patch("storefront", {"spec": {"configMapName": "storefront-moved"}})
            trackers.wait_phase("storefront", "Pending", reason="SecretNotWritten")
            assert config_map(core, box.namespace, "storefront-facts") is not None
        elif scenario == "guard":  # the tracker works, but its namespace's RBAC is left unprotected
            trackers.wait_phase("storefront", "Active")
            wait_for(lambda: re.search(symptom, box.operator.output()), timeout=30, what=f"403 on {verb} {resource}")
            name = chart.one(chart.operator_rbac(box.objects), "ClusterRole")["metadata"]["name"]
            binding = client.RbacAuthorizationV1Api(core.api_client).read_namespaced_role_binding(name, box.namespace)
            assert GUARD_FINALIZER not in (binding.metadata.finalizers or [])
        elif scenario == "never-leads":  # a standby for ever: nobody reconciles
            wait_for(lambda: re.search(symptom, box.operator.output()), timeout=30, what=f"403 on {verb} the Lease")
            stays(lambda: not trackers.status("storefront").get("phase"), seconds=5, what="no phase written")
            assert box.operator.exit_code() is None
            assert leases_named(coordination, box.namespace, lease) == []
        elif scenario == "cannot-renew":  # leads once, then exits at the renew deadline (and restarts, in a pod)
            wait_for(lambda: box.operator.exit_code() is not None, timeout=60, what="the leader exits")
            assert box.operator.exit_code() == 1
            assert re.search(symptom, box.operator.output())
            return
        else:
            raise AssertionError(f"unknown scenario {scenario}")
        message = trackers.condition("storefront", "Ready").get("message", "")
        if scenario in {"secret", "repair", "rename", "cm-write", "cm-repair", "cm-rename"}:
            assert "403" in message, message
