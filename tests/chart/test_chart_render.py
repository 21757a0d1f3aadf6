"""The chart renders what a platform team expects, and the real API server accepts it.

Protects `helm install`: lint passes, the values schema refuses mistakes
before anything reaches the cluster, the operator pod is locked down (the
restricted Pod Security Standard admits it), every setting the chart passes is
one the operator reads, the operator's RBAC (with the Lease Role in the release
namespace) is exactly the proven minimum, two replicas roll, spread and keep
one pod through drains (PDB), and
both install modes are valid objects for kube-apiserver (server-side dry run).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

import personalize_operator
from personalize_operator.runtime.settings import OperatorSettings
from support import chart
from support.chart import Helm
from support.trackers import kubectl

RELEASE, NAMESPACE = "personalize-operator", "personalize-operator"
CLUSTER: dict[str, Any] = {"watch": {"mode": "cluster", "namespaces": []}}
NAMESPACES: dict[str, Any] = {"watch": {"mode": "namespaces", "namespaces": ["shop", "search"]}}

# The operator's permissions, each proven needed by test_chart_least_privilege.py::TestEveryRuleIsNeeded.
EXPECTED_RULES = [
    {
        "apiGroups": ["personalize.operators.dev"],
        "resources": ["eventtrackers"],
        "verbs": ["get", "list", "watch", "patch"],
    },
    {"apiGroups": ["personalize.operators.dev"], "resources": ["eventtrackers/status"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update", "delete", "list", "watch"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "update", "delete", "list", "watch"]},
]
# secretWatch.enabled=false: Secrets heal at the next resync, and the identity cannot list or watch any Secret.
RULES_WITHOUT_SECRET_WATCH = [
    *EXPECTED_RULES[:3],
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update", "delete"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "update", "delete"]},
]
# Namespaces mode only: the RBAC guard (rbac_guard.py) reads and patches the finalizers of its RoleBinding.
GUARD_RULES = [
    {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["rolebindings"],
        "resourceNames": ["personalize-operator"],
        "verbs": ["get", "patch"],
    }
]
# The Lease, in the release namespace only: get/update name it; create cannot (RBAC has no name for a create).
EXPECTED_LEASE_RULES = [
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["personalize-operator"],
        "verbs": ["get", "update"],
    },
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
]


def bad_monitoring(part: str, key: str, value: Any, message: str = "") -> Any:
    """A refused metrics.<part>.<key>: helm names its path (plus a `/...` suffix), or says `message`."""
    path = f"/metrics/{part}/{key}"
    expected = path + message if message.startswith("/") else (message or path)
    return pytest.param({"metrics": {part: {key: value}}}, expected, id=f"{part}-{key}")


def render(helm: Helm, values: dict[str, Any]) -> list[dict[str, Any]]:
    return helm.objects(RELEASE, NAMESPACE, values)


def deployment_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = chart.one(objects, "Deployment")["spec"]["template"]["spec"]
    return pod


def pod_selector(objects: list[dict[str, Any]]) -> dict[str, str]:
    selector: dict[str, str] = chart.one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
    return selector


class TestLint:
    """`helm lint` passes for both install modes and with every optional part switched on."""

    @pytest.mark.parametrize(
        "values",
        [
            pytest.param(CLUSTER, id="cluster"),
            pytest.param(NAMESPACES, id="namespaces"),
            pytest.param(
                {
                    **NAMESPACES,
                    "metrics": {
                        "enabled": True,
                        "serviceMonitor": {"enabled": True},
                        "prometheusRule": {"enabled": True},
                        "dashboard": {"enabled": True},
                    },
                    "aws": {"region": "eu-west-1"},
                    "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
                },
                id="everything-on",
            ),
        ],
    )
    def test_helm_lint_passes(self, helm: Helm, values: dict[str, Any]) -> None:
        done = helm.run(
            "lint",
            str(chart.CHART),
            "--strict",
            "--kube-version",
            helm.kube_version,
            "--values",
            str(helm.values_file(values)),
        )
        assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout, done.stdout


class TestValuesSchema:
    """Mistakes in values stop `helm install` with a message naming the key, before the cluster sees anything."""

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            pytest.param(
                {"watch": {"mode": "namespaces", "namespaces": []}}, "minItems", id="namespaces-mode-without-namespaces"
            ),
            pytest.param(
                {"watch": {"mode": "cluster", "namespaces": ["shop"]}}, "maxItems", id="cluster-mode-with-namespaces"
            ),
            pytest.param({"watch": {"mode": "everywhere", "namespaces": []}}, "/watch/mode", id="unknown-mode"),
            pytest.param(
                {"watch": {"mode": "namespaces", "namespaces": ["team-*"]}},
                "does not match pattern",
                id="namespace-pattern",
            ),
            pytest.param({"replicas": 2}, "additional properties 'replicas' not allowed", id="replicas-is-not-a-value"),
            pytest.param({"operator": {"logLevel": "TRACE"}}, "/operator/logLevel", id="bad-log-level"),
            pytest.param({"operator": {"maxWorkers": 0}}, "/operator/maxWorkers", id="no-workers"),
            pytest.param({"serviceAccount": {"create": False}}, "/serviceAccount/name", id="existing-account-unnamed"),
            pytest.param({"image": {"digest": "latest"}}, "/image/digest", id="digest-not-a-digest"),
            pytest.param({"metrics": {"port": 70000}}, "/metrics/port", id="port-out-of-range"),
            bad_monitoring("serviceMonitor", "interval", "30 seconds"),
            bad_monitoring("serviceMonitor", "relabelings", [{"source_labels": ["a"]}], "/0"),
            bad_monitoring("prometheusRule", "runbookBaseURL", "wiki/runbook"),
            bad_monitoring("dashboard", "labelValue", "yes please"),
            bad_monitoring("dashboard", "folder", "Operators", "additional properties 'folder' not allowed"),
            pytest.param({"resources": {"limits": {"memory": "lots"}}}, "/resources/limits/memory", id="bad-quantity"),
            pytest.param({"aws": {"region": "Europe"}}, "/aws/region", id="bad-region"),
            pytest.param({"replicaCount": 0}, "/replicaCount", id="no-replicas"),
            pytest.param({"leaderElection": {"leaseName": "Ops_Lease"}}, "/leaderElection/leaseName", id="bad-lease"),
            pytest.param({"podAntiAffinity": "required"}, "/podAntiAffinity", id="unknown-anti-affinity"),
            pytest.param(
                {"tenancy": {"enabled": True, "tenants": [{"namespaces": ["a"], "datasetGroups": ["dg-a"]}]}},
                "/tenancy/tenants/0/datasetGroups/0",
                id="tenant-dataset-group-not-an-arn",
            ),
            pytest.param(
                {"tenancy": {"tenants": [{"namespaces": ["a"], "roleArn": "team-a", "datasetGroups": []}]}},
                "/tenancy/tenants/0",
                id="tenant-bad-role-no-dataset-groups",
            ),
        ],
    )
    def test_bad_values_are_refused_naming_the_key(self, helm: Helm, values: dict[str, Any], message: str) -> None:
        done = helm.template(RELEASE, NAMESPACE, values, check=False)
        assert done.returncode != 0
        assert "values don't meet the specifications of the schema" in done.stderr
        assert message in done.stderr, done.stderr


class TestDeployment:
    """The operator pods: two replicas (one leads), spread and kept through drains, locked down, configured."""

    def test_two_replicas_rolled_one_at_a_time_with_a_surge(self, helm: Helm) -> None:
        spec = chart.one(render(helm, CLUSTER), "Deployment")["spec"]
        assert spec["replicas"] == 2
        assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}

    def test_a_pdb_keeps_one_pod_through_drains_and_is_left_out_for_one_replica(self, helm: Helm) -> None:
        objects = render(helm, CLUSTER)
        pdb = chart.one(objects, "PodDisruptionBudget")
        assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["minAvailable"] == 1
        assert pdb["spec"]["selector"]["matchLabels"] == pod_selector(objects)
        single = render(helm, {**CLUSTER, "replicaCount": 1})
        assert chart.one(single, "Deployment")["spec"]["replicas"] == 1
        assert chart.of_kind(single, "PodDisruptionBudget") == [], "minAvailable 1 of 1 would block every drain"
        assert chart.leader_election_rbac(single), "one replica still elects itself"

    def test_replicas_prefer_different_nodes_unless_affinity_is_given(self, helm: Helm) -> None:
        objects = render(helm, CLUSTER)
        pod = chart.one(objects, "Deployment")["spec"]["template"]["spec"]
        (term,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == pod_selector(objects)
        custom = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}
        assert deployment_pod(render(helm, {"affinity": custom}))["affinity"] == custom
        assert "affinity" not in deployment_pod(render(helm, {"podAntiAffinity": "none"}))

    def test_leader_election_settings_reach_the_operator(self, helm: Helm, monkeypatch: pytest.MonkeyPatch) -> None:
        values = {**NAMESPACES, "leaderElection": {"leaseName": "ops", "leaseDuration": 30, "renewDeadline": 20}}
        env = chart.operator_settings_env(helm.objects(RELEASE, "ops-ns", values))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = OperatorSettings()
        assert settings.leader_election is True
        assert (settings.lease_name, settings.lease_namespace) == ("ops", "ops-ns")
        assert (settings.lease_duration, settings.renew_deadline, settings.retry_period) == (30, 20, 2)

    @pytest.mark.parametrize(
        ("timings", "message"),
        [
            pytest.param({"renewDeadline": 15}, "renewDeadline must be less than", id="deadline-not-below-duration"),
            pytest.param({"retryPeriod": 6}, "retryPeriod must be at most half", id="too-few-tries"),
        ],
    )
    def test_timings_that_would_let_two_leaders_overlap_are_refused(
        self, helm: Helm, timings: dict[str, Any], message: str
    ) -> None:
        done = helm.template(RELEASE, NAMESPACE, {"leaderElection": timings}, check=False)
        assert done.returncode != 0 and message in done.stderr, done.stderr

    def test_runs_the_operator_with_liveness_on_a_named_port(self, helm: Helm) -> None:
        container = chart.container(render(helm, CLUSTER))
        assert container["command"] == ["personalize-operator"]
        assert container["args"][:2] == ["run", "--liveness=http://0.0.0.0:8080/healthz"]
        assert {"name": "healthz", "containerPort": 8080, "protocol": "TCP"} in container["ports"]
        probe = container["livenessProbe"]
        assert probe["httpGet"] == {"path": "/healthz", "port": "healthz"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "healthz"}

    def test_pod_and_container_are_locked_down(self, helm: Helm) -> None:
        objects = render(helm, CLUSTER)
        pod = chart.one(objects, "Deployment")["spec"]["template"]["spec"]
        container = chart.container(objects)
        security = container["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert (security["runAsUser"], security["runAsGroup"]) == (10001, 10001)
        assert security["runAsNonRoot"] is True and security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False and security["privileged"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}} in pod["volumes"]
        assert pod["automountServiceAccountToken"] is True and pod["enableServiceLinks"] is False

    def test_resources_have_requests_and_limits(self, helm: Helm) -> None:
        resources = chart.container(render(helm, CLUSTER))["resources"]
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}

    def test_namespaces_mode_passes_each_namespace_and_cluster_mode_none(self, helm: Helm) -> None:
        assert chart.watched_namespaces(render(helm, NAMESPACES)) == ["shop", "search"]
        assert chart.watched_namespaces(render(helm, CLUSTER)) == []

    def test_every_operator_variable_is_a_setting_the_operator_reads_with_a_valid_value(
        self, helm: Helm, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        env = chart.operator_settings_env(render(helm, NAMESPACES))
        fields = {name.removeprefix(chart.SETTINGS_PREFIX).lower() for name in env}
        assert fields <= set(OperatorSettings.model_fields), fields - set(OperatorSettings.model_fields)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = OperatorSettings()
        assert settings.scanning is False, "the chart grants no list/watch on CRDs or namespaces"
        assert (settings.log_level, settings.log_format, settings.max_workers) == ("INFO", "json", 20)
        assert settings.rbac_guard == "personalize-operator", "namespaces mode guards its Role and RoleBinding"
        assert "PERSONALIZE_OPERATOR_RBAC_GUARD" not in chart.operator_settings_env(render(helm, CLUSTER))

    def test_metrics_off_disables_the_server_and_on_adds_port_and_service(self, helm: Helm) -> None:
        off = render(helm, CLUSTER)
        assert "--metrics-port=0" in chart.container(off)["args"]
        assert chart.of_kind(off, "Service") == []
        on = render(helm, {**CLUSTER, "metrics": {"enabled": True}})
        assert "--metrics-port=9090" in chart.container(on)["args"]
        assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in chart.container(on)["ports"]
        service = chart.one(on, "Service")
        assert service["spec"]["ports"] == [
            {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
        ]
        assert service["spec"]["selector"] == chart.one(on, "Deployment")["spec"]["selector"]["matchLabels"]

    def test_aws_region_is_optional(self, helm: Helm) -> None:
        names = {e["name"] for e in chart.container(render(helm, CLUSTER))["env"]}
        assert not names & {"AWS_REGION", "AWS_DEFAULT_REGION"}
        env = {e["name"]: e["value"] for e in chart.container(render(helm, {"aws": {"region": "eu-west-1"}}))["env"]}
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"

    def test_service_account_annotations_carry_the_irsa_role(self, helm: Helm) -> None:
        role = "arn:aws:iam::111122223333:role/personalize-operator"
        objects = render(helm, {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": role}}})
        account = chart.one(objects, "ServiceAccount")
        assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role}
        assert (
            chart.one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "personalize-operator"
        )

    def test_image_defaults_to_the_app_version_and_a_digest_wins(self, helm: Helm) -> None:
        image = chart.container(render(helm, CLUSTER))["image"]
        assert image == f"personalize-operator:{personalize_operator.__version__}"
        digest = "sha256:" + "a" * 64
        pinned = render(helm, {"image": {"repository": "registry.example/po", "tag": "1.2.3", "digest": digest}})
        assert chart.container(pinned)["image"] == f"registry.example/po@{digest}"


class TestRbacRendering:
    """The operator's rules are exactly the proven minimum; namespaces mode grants it nothing cluster-scoped."""

    def test_cluster_mode_is_one_cluster_role_bound_to_the_service_account(self, helm: Helm) -> None:
        rbac = chart.operator_rbac(render(helm, CLUSTER))
        assert sorted(obj["kind"] for obj in rbac) == ["ClusterRole", "ClusterRoleBinding"]
        role, binding = chart.one(rbac, "ClusterRole"), chart.one(rbac, "ClusterRoleBinding")
        assert role["rules"] == EXPECTED_RULES
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "personalize-operator",
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "personalize-operator", "namespace": NAMESPACE}
        ]

    def test_namespaces_mode_binds_one_cluster_role_only_in_each_namespace(self, helm: Helm) -> None:
        """A ClusterRole bound by RoleBindings grants only in those namespaces, and survives their deletion."""
        objects = render(helm, NAMESPACES)
        rbac = chart.operator_rbac(objects)
        assert sorted(obj["kind"] for obj in rbac) == ["ClusterRole", "RoleBinding", "RoleBinding"]
        assert chart.one(rbac, "ClusterRole")["rules"] == EXPECTED_RULES + GUARD_RULES
        bindings = chart.of_kind(rbac, "RoleBinding")
        assert [b["metadata"]["namespace"] for b in bindings] == ["shop", "search"]
        assert all(
            b["roleRef"]
            == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "personalize-operator"}
            for b in bindings
        )
        assert all(
            b["subjects"] == [{"kind": "ServiceAccount", "name": "personalize-operator", "namespace": NAMESPACE}]
            for b in bindings
        )
        assert [b for b in chart.of_kind(objects, "ClusterRoleBinding") if not chart.is_cluster_identity(b)] == []

    def test_the_cluster_identity_is_read_by_name_only_unless_clusterid_is_set(self, helm: Helm) -> None:
        identity = [obj for obj in render(helm, NAMESPACES) if chart.is_cluster_identity(obj)]
        assert sorted(obj["kind"] for obj in identity) == ["ClusterRole", "ClusterRoleBinding"]
        assert chart.one(identity, "ClusterRole")["rules"] == [
            {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]},
            {
                "apiGroups": ["about.k8s.io"],
                "resources": ["clusterproperties"],
                "resourceNames": ["cluster.clusterset.k8s.io"],
                "verbs": ["get"],
            },
        ]
        pinned = render(helm, {**NAMESPACES, "clusterId": "prod-eu-1", "rbac": {"namespaceDeletionGuard": False}})
        assert [obj for obj in pinned if chart.is_cluster_identity(obj)] == []
        assert chart.of_kind(pinned, "ClusterRole", "ClusterRoleBinding") == [
            obj for obj in chart.of_kind(pinned, "ClusterRole") if chart.is_aggregate(obj)
        ]
        assert chart.operator_settings_env(pinned)["PERSONALIZE_OPERATOR_CLUSTER_ID"] == "prod-eu-1"

    def test_without_the_namespace_deletion_guard_namespaces_mode_is_roles_only(self, helm: Helm) -> None:
        objects = render(helm, {**NAMESPACES, "rbac": {"namespaceDeletionGuard": False}})
        rbac = chart.operator_rbac(objects)
        assert sorted(obj["kind"] for obj in rbac) == ["Role", "Role", "RoleBinding", "RoleBinding"]
        assert all(role["rules"] == EXPECTED_RULES for role in chart.of_kind(rbac, "Role"))
        assert all(b["roleRef"]["kind"] == "Role" for b in chart.of_kind(rbac, "RoleBinding"))
        assert "PERSONALIZE_OPERATOR_RBAC_GUARD" not in chart.operator_settings_env(objects)

    def test_aggregated_roles_are_for_people_and_can_be_turned_off(self, helm: Helm) -> None:
        people = [obj for obj in chart.of_kind(render(helm, NAMESPACES), "ClusterRole") if chart.is_aggregate(obj)]
        assert sorted(obj["metadata"]["name"] for obj in people) == [
            "personalize-operator-edit",
            "personalize-operator-view",
        ]
        off = render(helm, {**NAMESPACES, "rbac": {"aggregateToDefaultRoles": False}})
        assert [obj for obj in chart.of_kind(off, "ClusterRole") if chart.is_aggregate(obj)] == []

    def test_secret_watch_off_drops_list_and_watch_on_secrets_and_tells_the_operator(self, helm: Helm) -> None:
        objects = render(helm, {**NAMESPACES, "secretWatch": {"enabled": False}})
        role = chart.one(chart.operator_rbac(objects), "ClusterRole")  # bound in each namespace (RBAC guard)
        assert role["rules"] == RULES_WITHOUT_SECRET_WATCH + GUARD_RULES
        assert chart.operator_settings_env(objects)["PERSONALIZE_OPERATOR_SECRET_WATCH"] == "false"
        assert chart.operator_settings_env(render(helm, NAMESPACES))["PERSONALIZE_OPERATOR_SECRET_WATCH"] == "true"

    @pytest.mark.parametrize("values", [pytest.param(CLUSTER, id="cluster"), pytest.param(NAMESPACES, id="namespaces")])
    def test_the_lease_rules_are_a_role_in_the_release_namespace_only(self, helm: Helm, values: dict[str, Any]) -> None:
        objects = render(helm, values)
        rbac = chart.leader_election_rbac(objects)
        assert sorted(obj["kind"] for obj in rbac) == ["Role", "RoleBinding"]
        role, binding = chart.one(rbac, "Role"), chart.one(rbac, "RoleBinding")
        assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == NAMESPACE
        assert role["rules"] == EXPECTED_LEASE_RULES
        assert binding["roleRef"]["name"] == role["metadata"]["name"] == "personalize-operator-leader-election"
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "personalize-operator", "namespace": NAMESPACE}
        ]
        env = chart.operator_settings_env(objects)
        assert env["PERSONALIZE_OPERATOR_LEASE_NAME"] == "personalize-operator"
        assert env["PERSONALIZE_OPERATOR_LEASE_NAMESPACE"] == NAMESPACE

    def test_tenancy_renders_a_configmap_mounted_as_the_file_the_operator_reads(self, helm: Helm) -> None:
        from personalize_operator.aws.tenancy import parse

        tenants = [
            {
                "namespaces": ["team-a", "team-a-*"],
                "roleArn": "arn:aws:iam::111111111111:role/personalize-team-a",
                "externalId": "team-a-7f3c",
                "datasetGroups": ["arn:aws:personalize:*:111111111111:dataset-group/a-*"],
            }
        ]
        objects = render(helm, {**CLUSTER, "tenancy": {"enabled": True, "tenants": tenants}})
        config_map = chart.one(objects, "ConfigMap")
        assert parse(config_map["data"]["tenancy.yaml"]).model_dump(by_alias=True, exclude_none=True) == {
            "tenants": tenants
        }
        env = chart.operator_settings_env(objects)
        path = env["PERSONALIZE_OPERATOR_TENANCY_FILE"]
        mount = next(m for m in chart.container(objects)["volumeMounts"] if m["name"] == "tenancy")
        assert path == f"{mount['mountPath']}/tenancy.yaml" and mount["readOnly"] is True
        volumes = chart.one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
        assert {"name": "tenancy", "configMap": {"name": config_map["metadata"]["name"]}} in volumes
        assert env["PERSONALIZE_OPERATOR_TENANCY_POLL_SECONDS"] == "5"

    def test_without_tenancy_there_is_no_map_and_the_operator_uses_its_own_identity(self, helm: Helm) -> None:
        objects = render(helm, CLUSTER)
        assert chart.of_kind(objects, "ConfigMap") == []
        assert "PERSONALIZE_OPERATOR_TENANCY_FILE" not in chart.operator_settings_env(objects)

    def test_rbac_create_false_renders_no_rbac(self, helm: Helm) -> None:
        objects = render(helm, {**NAMESPACES, "rbac": {"create": False}})
        assert chart.of_kind(objects, *chart.RBAC_KINDS) == []


@pytest.fixture
def dry_run_namespaces(core: client.CoreV1Api, custom: client.CustomObjectsApi) -> Iterator[dict[str, str]]:
    """A release namespace enforcing the restricted Pod Security Standard, and two namespaces to watch."""
    restricted = {f"pod-security.kubernetes.io/{m}": "restricted" for m in ("enforce", "warn")}
    names = {
        "release": chart.new_namespace(core, "release", labels=restricted),
        "shop": chart.new_namespace(core, "shop"),
        "search": chart.new_namespace(core, "search"),
    }
    yield names
    chart.delete_namespaces(core, custom, *names.values())


def server_dry_run(helm: Helm, namespace: str, values: dict[str, Any]) -> tuple[int, str, str]:
    rendered = helm.template(RELEASE, namespace, values, include_crds=True).stdout
    done = kubectl(helm.kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=rendered, check=False)
    return done.returncode, done.stdout, done.stderr


class TestServerSideDryRun:
    """kube-apiserver accepts every rendered object of both modes, and admits the pod as restricted."""

    @pytest.mark.parametrize("mode", ["cluster", "namespaces"])
    def test_api_server_accepts_the_rendered_chart(
        self, helm: Helm, dry_run_namespaces: dict[str, str], chart_crd: str, mode: str
    ) -> None:
        watched = [dry_run_namespaces["shop"], dry_run_namespaces["search"]] if mode == "namespaces" else []
        tenancy = {
            "enabled": True,
            "tenants": [
                {"namespaces": ["shop"], "datasetGroups": ["arn:aws:personalize:*:111111111111:dataset-group/*"]}
            ],
        }
        values = {"watch": {"mode": mode, "namespaces": watched}, "metrics": {"enabled": True}, "tenancy": tenancy}
        values["crds"] = {"install": True, "keep": True}  # the CRD template too (a dry run: nothing is adopted)
        code, out, err = server_dry_run(helm, dry_run_namespaces["release"], values)
        assert code == 0, err
        expected = len(helm.objects(RELEASE, dry_run_namespaces["release"], values))  # the CRD among them
        assert out.count("(server dry run)") == expected, out
        assert "PodSecurity" not in err, err
        assert "deployment.apps/personalize-operator created (server dry run)" in out
        assert "poddisruptionbudget.policy/personalize-operator created (server dry run)" in out
        assert "role.rbac.authorization.k8s.io/personalize-operator-leader-election created (server dry run)" in out

    def test_a_weakened_pod_is_flagged_by_pod_security_so_the_check_above_is_live(
        self, helm: Helm, dry_run_namespaces: dict[str, str]
    ) -> None:
        weakened = {"securityContext": {"allowPrivilegeEscalation": True, "runAsNonRoot": True}}
        code, _, err = server_dry_run(helm, dry_run_namespaces["release"], weakened)
        assert code == 0
        assert 'would violate PodSecurity "restricted' in err and "allowPrivilegeEscalation" in err


class TestValuesFromThePreviousRelease:
    """A values file written for 0.1.0 (its whole values.yaml, copied from commit 6be3e0b) works with this chart."""

    def test_the_previous_releases_values_file_renders_with_the_same_settings(self, helm: Helm) -> None:
        previous = Path(__file__).parent / "previous" / "values-0.1.0.yaml"
        done = helm.run(
            "template", RELEASE, str(chart.CHART), "--namespace", "ops", "--kube-version", helm.kube_version,
            "--values", str(previous),
        )  # fmt: skip
        objects = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
        old = yaml.safe_load(previous.read_text())
        assert chart.one(objects, "Deployment")["spec"]["replicas"] == old["replicaCount"]
        env = chart.operator_settings_env(objects)
        assert env["PERSONALIZE_OPERATOR_RESYNC_SECONDS"] == str(old["operator"]["resyncSeconds"])
        # The CRD comes with the release now (crds.install defaults to true), kept by Helm.
        (rendered_crd,) = chart.of_kind(objects, "CustomResourceDefinition")
        assert rendered_crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
