"""The chart's Grafana dashboard as tests read it: its panels' queries and the metric names they select.

One reader for the render tests (every name is one the operator exports) and the
end-to-end Prometheus run (every query returns data). Queries use one template
variable, `$job`, a regex whose "All" value is `.*`; `for_prometheus` puts that
in so a query runs as is against the Prometheus HTTP API.
"""

from __future__ import annotations

import json
import re
from typing import Any

import promql_parser
from prometheus_client.registry import CollectorRegistry

from support.chart import CHART

DASHBOARD = CHART / "files" / "grafana-dashboard.json"
JOB_VARIABLE = "$job"
ALL_JOBS = ".*"  # the job variable's allValue
PROMETHEUS_OWN = frozenset({"up"})  # series Prometheus adds to every target
# The sample names a metric family of each type exposes (prometheus_client's exposition).
_SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def load() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows' nested panels included."""
    found: list[tuple[str, str]] = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            found += [(inner["title"], target["expr"]) for target in inner.get("targets", [])]
    return found


def variables_in(expr: str) -> set[str]:
    return set(re.findall(r"\$\{?\w+", expr))


def for_prometheus(expr: str, job: str = ALL_JOBS) -> str:
    """The query as Grafana sends it with the job variable set (default: All)."""
    return expr.replace(JOB_VARIABLE, job)


def selected_metrics(expr: str) -> set[str]:
    """The metric names the query's selectors name, from a PromQL parser's syntax tree."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(for_prometheus(expr)), visit)
    return names


def exported_names(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry's metric families expose, labelled children or not yet."""
    return {
        family.name + suffix for family in registry.collect() for suffix in _SAMPLE_SUFFIXES.get(family.type, ("",))
    }
