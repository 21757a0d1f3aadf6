"""docs/observability.md lists every metric the operator defines (issue 25: "docs list every metric")."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

import personalize_operator.runtime.metrics  # noqa: F401  (defines them all)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
OURS = ("personalize_operator_", "controller_runtime_", "workqueue_", "leader_election_")


def test_every_metric_the_operator_defines_is_in_the_metrics_section() -> None:
    section = DOCS.read_text().split("## Metrics", 1)[1].split("\n## ", 1)[0]
    documented = {
        f"{family.name}_total" if family.type == "counter" else family.name  # prometheus_client drops _total here
        for family in REGISTRY.collect()
        if family.name.startswith(OURS)
    }
    assert len(documented) >= 29  # 13 of controller-runtime, 16 of ours
    assert [name for name in sorted(documented) if f"`{name}`" not in section] == []
