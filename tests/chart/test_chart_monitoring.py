"""The chart's monitoring objects: ServiceMonitor, PrometheusRule and the Grafana dashboard (issue 25).

Protects the person on call's setup: each object renders only when its value
is on, the ServiceMonitor and PrometheusRule only where the cluster serves
prometheus-operator's API (helm's .Capabilities; elsewhere NOTES say nothing was
created), the PrometheusRule carries exactly the alerts of the rule file
promtool tests, the dashboard queries only metrics the operator exports, and
prometheus-operator's own CRDs (from its Go module) accept what is rendered,
checked by the API server in a server-side dry run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from prometheus_client import REGISTRY

import personalize_operator.handlers  # noqa: F401  (registers every metric the operator exports)
from personalize_operator.aws.errors import CODE_KINDS, AccessDenied, Throttled
from support import chart, dashboard
from support.chart import Helm
from support.prometheus_tools import prometheus_operator_crds, promtool_path
from support.trackers import kubectl

RELEASE, NAMESPACE = "personalize-operator", "personalize-operator"
SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"
PROMETHEUS_RULE_API = "monitoring.coreos.com/v1/PrometheusRule"
MONITORING_APIS = (SERVICE_MONITOR_API, PROMETHEUS_RULE_API)
MONITORING_CRDS = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")
RULE_FILE = chart.CHART / "files" / "prometheus-rules.yaml"
DASHBOARD_KEY = "personalize-operator.json"
ALL_ON: dict[str, Any] = {
    "metrics": {
        "enabled": True,
        "serviceMonitor": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "dashboard": {"enabled": True},
    }
}


def monitoring(**parts: dict[str, Any]) -> dict[str, Any]:
    """Values with metrics on and the given metrics.* parts (e.g. serviceMonitor={...})."""
    return {"metrics": {"enabled": True, **parts}}


def dashboards(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [obj for obj in chart.of_kind(objects, "ConfigMap") if DASHBOARD_KEY in obj.get("data", {})]


def monitoring_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return chart.of_kind(objects, "ServiceMonitor", "PrometheusRule") + dashboards(objects)


def rule_file_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULE_FILE.read_text())["groups"]
    return groups


def runbook_urls(groups: list[dict[str, Any]]) -> dict[str, str]:
    return {
        rule["alert"]: rule["annotations"]["runbook_url"]
        for group in groups
        for rule in group["rules"]
        if "alert" in rule and "runbook_url" in rule.get("annotations", {})
    }


def codes_of(kind: type[Exception]) -> str:
    """The operator's error codes of one kind as a PromQL alternation (aws/errors.py is the one table)."""
    return "|".join(sorted(code for code, of_kind in CODE_KINDS.items() if of_kind is kind))


class TestRendering:
    """Each renders with its value on, none with the values off; ServiceMonitor/PrometheusRule only with their API."""

    def test_with_the_values_on_and_the_apis_served_all_three_render(self, helm: Helm) -> None:
        objects = helm.objects(RELEASE, NAMESPACE, ALL_ON, MONITORING_APIS)
        assert sorted(obj["kind"] for obj in monitoring_objects(objects)) == [
            "ConfigMap",
            "PrometheusRule",
            "ServiceMonitor",
        ]
        for obj in monitoring_objects(objects):
            assert obj["metadata"]["namespace"] == NAMESPACE
            assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE

    def test_with_the_values_off_none_renders_even_where_the_apis_are_served(self, helm: Helm) -> None:
        assert monitoring_objects(helm.objects(RELEASE, NAMESPACE, monitoring(), MONITORING_APIS)) == []
        assert monitoring_objects(helm.objects(RELEASE, NAMESPACE, {}, MONITORING_APIS)) == []

    def test_without_the_apis_no_servicemonitor_or_prometheusrule_renders(self, helm: Helm) -> None:
        objects = helm.objects(RELEASE, NAMESPACE, ALL_ON)
        assert chart.of_kind(objects, "ServiceMonitor", "PrometheusRule") == []
        assert len(dashboards(objects)) == 1, "a ConfigMap needs no extra API"
        only_rules = helm.objects(RELEASE, NAMESPACE, ALL_ON, (PROMETHEUS_RULE_API,))
        assert [obj["kind"] for obj in chart.of_kind(only_rules, "ServiceMonitor", "PrometheusRule")] == [
            "PrometheusRule"
        ]

    @pytest.mark.parametrize("part", ["serviceMonitor", "prometheusRule", "dashboard"])
    def test_each_needs_metrics_enabled_and_says_so(self, helm: Helm, part: str) -> None:
        values = {"metrics": {"enabled": False, part: {"enabled": True}}}
        done = helm.template(RELEASE, NAMESPACE, values, check=False, api_versions=MONITORING_APIS)
        assert done.returncode != 0
        assert "need metrics.enabled=true" in done.stderr, done.stderr


class TestServiceMonitor:
    def test_it_scrapes_the_metrics_service_by_its_port_name(self, helm: Helm) -> None:
        objects = helm.objects(RELEASE, NAMESPACE, ALL_ON, MONITORING_APIS)
        spec = chart.one(objects, "ServiceMonitor")["spec"]
        service = chart.one(objects, "Service")
        assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        (endpoint,) = spec["endpoints"]
        assert endpoint["port"] in [port["name"] for port in service["spec"]["ports"]]
        assert (endpoint["interval"], endpoint["scrapeTimeout"], endpoint["honorLabels"]) == ("30s", "10s", True)

    def test_interval_timeout_labels_and_relabelings_come_from_the_values(self, helm: Helm) -> None:
        relabel = [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"}]
        drop = [{"sourceLabels": ["__name__"], "regex": "python_gc_.*", "action": "drop"}]
        values = monitoring(
            serviceMonitor={
                "enabled": True,
                "interval": "15s",
                "scrapeTimeout": "5s",
                "honorLabels": False,
                "labels": {"release": "kube-prometheus-stack"},
                "relabelings": relabel,
                "metricRelabelings": drop,
            }
        )
        monitor = chart.one(helm.objects(RELEASE, NAMESPACE, values, MONITORING_APIS), "ServiceMonitor")
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["interval"], endpoint["scrapeTimeout"], endpoint["honorLabels"]) == ("15s", "5s", False)
        assert (endpoint["relabelings"], endpoint["metricRelabelings"]) == (relabel, drop)


class TestPrometheusRule:
    def test_its_groups_are_the_rule_files_groups(self, helm: Helm) -> None:
        values = monitoring(prometheusRule={"enabled": True, "labels": {"release": "kube-prometheus-stack"}})
        rule = chart.one(helm.objects(RELEASE, NAMESPACE, values, MONITORING_APIS), "PrometheusRule")
        assert rule["spec"]["groups"] == rule_file_groups()
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"

    def test_runbook_base_url_replaces_only_the_base_of_every_runbook_url(self, helm: Helm) -> None:
        values = monitoring(prometheusRule={"enabled": True, "runbookBaseURL": "https://wiki.example.com/ops/runbook/"})
        rule = chart.one(helm.objects(RELEASE, NAMESPACE, values, MONITORING_APIS), "PrometheusRule")
        original = runbook_urls(rule_file_groups())
        assert original, "the rule file's alerts carry runbook_url"
        rewritten = runbook_urls(rule["spec"]["groups"])
        assert rewritten == {
            alert: "https://wiki.example.com/ops/runbook#" + url.split("#")[1] for alert, url in original.items()
        }


class TestDashboardConfigMap:
    def test_the_sidecar_label_by_default_and_label_namespace_and_annotations_from_the_values(self, helm: Helm) -> None:
        (default,) = dashboards(helm.objects(RELEASE, NAMESPACE, monitoring(dashboard={"enabled": True})))
        assert default["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert default["metadata"]["namespace"] == NAMESPACE and "annotations" not in default["metadata"]
        values = monitoring(
            dashboard={
                "enabled": True,
                "namespace": "grafana",
                "labelKey": "grafana.example.com/dashboard",
                "labelValue": "operators",
                "annotations": {"grafana_folder": "Operators"},
            }
        )
        (custom,) = dashboards(helm.objects(RELEASE, NAMESPACE, values))
        assert custom["metadata"]["namespace"] == "grafana"
        assert custom["metadata"]["labels"]["grafana.example.com/dashboard"] == "operators"
        assert "grafana_dashboard" not in custom["metadata"]["labels"]
        assert custom["metadata"]["annotations"] == {"grafana_folder": "Operators"}

    def test_it_holds_the_dashboard_file_as_valid_json(self, helm: Helm) -> None:
        (config_map,) = dashboards(helm.objects(RELEASE, NAMESPACE, monitoring(dashboard={"enabled": True})))
        assert json.loads(config_map["data"][DASHBOARD_KEY]) == dashboard.load()


class TestDashboard:
    """The dashboard file: stable identity, a Prometheus data source variable, queries on the metric contract."""

    def test_stable_uid_and_title_and_a_prometheus_datasource_variable(self) -> None:
        board = dashboard.load()
        assert (board["uid"], board["title"]) == ("personalize-operator", "personalize-operator")
        variables = {variable["name"]: variable for variable in board["templating"]["list"]}
        assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
        assert (variables["job"]["includeAll"], variables["job"]["allValue"]) == (True, dashboard.ALL_JOBS)
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]

    def test_panels_have_unique_ids_and_every_panel_queries(self) -> None:
        board = dashboard.load()
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids))
        graphs = [panel for panel in board["panels"] if panel["type"] != "row"]
        assert graphs and all(panel.get("targets") for panel in graphs)

    def test_every_query_parses_and_uses_only_the_job_variable(self) -> None:
        for title, expr in dashboard.queries(dashboard.load()):
            assert dashboard.variables_in(expr) <= {dashboard.JOB_VARIABLE}, title
            assert dashboard.selected_metrics(expr), title  # parses, and selects something

    def test_prometheus_own_parser_accepts_every_query(self, tmp_path: Path) -> None:
        """promtool checks each query, job variable set to All, as the expression of a recording rule."""
        rules = [
            {"record": f"dashboard:query_{number}", "expr": dashboard.for_prometheus(expr)}
            for number, (_, expr) in enumerate(dashboard.queries(dashboard.load()))
        ]
        rule_file = tmp_path / "dashboard-queries.yaml"
        rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
        done = subprocess.run(
            [str(promtool_path()), "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"SUCCESS: {len(rules)} rules found" in done.stdout, done.stdout

    def test_every_query_selects_only_metrics_the_operator_exports(self) -> None:
        exported = dashboard.exported_names(REGISTRY) | dashboard.PROMETHEUS_OWN
        unknown = {
            title: sorted(dashboard.selected_metrics(expr) - exported)
            for title, expr in dashboard.queries(dashboard.load())
            if dashboard.selected_metrics(expr) - exported
        }
        assert unknown == {}

    def test_denied_and_throttled_calls_are_the_operators_error_kinds(self) -> None:
        exprs = [
            expr for title, expr in dashboard.queries(dashboard.load()) if title == "Access denied and throttled calls"
        ]
        assert f'outcome=~"{codes_of(AccessDenied)}"' in exprs[0]
        assert f'outcome=~"{codes_of(Throttled)}"' in exprs[1]


@pytest.fixture
def release_namespace(core: client.CoreV1Api, custom: client.CustomObjectsApi) -> Iterator[str]:
    name = chart.new_namespace(core, "monitoring")
    yield name
    chart.delete_namespaces(core, custom, name)


@pytest.fixture(scope="module")
def monitoring_crds(kubeconfig: Path) -> Iterator[tuple[str, ...]]:
    """prometheus-operator's ServiceMonitor and PrometheusRule CRDs from its Go module, Established; removed after."""
    files = [path for path in prometheus_operator_crds() if path.name.removeprefix("monitoring.coreos.com_")[:-5]
             in {name.split(".")[0] for name in MONITORING_CRDS}]  # fmt: skip
    assert len(files) == len(MONITORING_CRDS), files
    for path in files:
        kubectl(kubeconfig, "apply", "--server-side", "-f", str(path))
    kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in MONITORING_CRDS))
    yield MONITORING_CRDS
    kubectl(kubeconfig, "delete", "crd", "--ignore-not-found", "--wait=true", *MONITORING_CRDS)


def manifest_objects(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(release["manifest"]) if doc]


class TestServerSideDryRun:
    """helm's server dry run takes .Capabilities from discovery; the API server checks objects against the CRDs."""

    def test_without_the_crds_helm_renders_neither_and_the_notes_say_so(
        self, helm: Helm, release_namespace: str
    ) -> None:
        served = kubectl(helm.kubeconfig, "get", "crd", *MONITORING_CRDS, "--ignore-not-found", "-o", "name").stdout
        assert served == "", f"this test needs a cluster without prometheus-operator's CRDs: {served}"
        release = helm.dry_run_install(RELEASE, release_namespace, ALL_ON)
        objects = manifest_objects(release)
        assert chart.of_kind(objects, "ServiceMonitor", "PrometheusRule") == []
        assert len(dashboards(objects)) == 1
        notes = release["info"]["notes"]
        assert "NO ServiceMonitor was created" in notes and "NO PrometheusRule was created" in notes, notes

    def test_with_prometheus_operators_crds_all_three_render_and_the_api_server_accepts_them(
        self, helm: Helm, release_namespace: str, monitoring_crds: tuple[str, ...]
    ) -> None:
        values = {
            "metrics": {
                "enabled": True,
                "serviceMonitor": {
                    "enabled": True,
                    "labels": {"release": "kube-prometheus-stack"},
                    "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"}],
                    "metricRelabelings": [{"sourceLabels": ["__name__"], "regex": "python_gc_.*", "action": "drop"}],
                },
                "prometheusRule": {"enabled": True, "runbookBaseURL": "https://wiki.example.com/runbook"},
                "dashboard": {"enabled": True, "annotations": {"grafana_folder": "Operators"}},
            }
        }
        release = helm.dry_run_install(RELEASE, release_namespace, values)
        objects = manifest_objects(release)
        assert sorted(obj["kind"] for obj in monitoring_objects(objects)) == [
            "ConfigMap",
            "PrometheusRule",
            "ServiceMonitor",
        ]
        assert (
            "NO ServiceMonitor" not in release["info"]["notes"] and "NO PrometheusRule" not in release["info"]["notes"]
        )
        done = kubectl(helm.kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=release["manifest"], check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("(server dry run)") == len(objects), done.stdout
        assert "servicemonitor.monitoring.coreos.com/personalize-operator created (server dry run)" in done.stdout
        assert "prometheusrule.monitoring.coreos.com/personalize-operator created (server dry run)" in done.stdout
        assert "configmap/personalize-operator-dashboard created (server dry run)" in done.stdout

    def test_a_relabeling_their_schema_refuses_is_refused_so_the_check_above_is_live(
        self, helm: Helm, release_namespace: str, monitoring_crds: tuple[str, ...]
    ) -> None:
        bad = [{"sourceLabels": ["__name__"], "action": "explode"}]
        values = monitoring(serviceMonitor={"enabled": True, "relabelings": bad})
        release = helm.dry_run_install(RELEASE, release_namespace, values)
        done = kubectl(helm.kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=release["manifest"], check=False)
        assert done.returncode != 0
        assert "explode" in done.stderr and "servicemonitor" in done.stderr.lower(), done.stderr
