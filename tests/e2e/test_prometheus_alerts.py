"""A real Prometheus scraping the operator: AccessDenied fires the alert, clearing it resolves it; every panel has data.

Prometheus (built from its Go module, `make prometheus-tools`) scrapes a solo
operator every second and evaluates the chart's rule file every second. The
operator brings trackers to Active and deletes one; then the policy loses
CreateEventTracker and a new tracker is refused: PersonalizeOperatorAWSAccessDenied
must be firing, as Prometheus's API reports it, within its `for` plus two scrape
intervals (and one evaluation interval) of the first refused call. The full policy
back, the alert must resolve. Then every query of the chart's Grafana dashboard
must return data over the run (acceptance 2 of issue 25). With OBSERVABILITY_PICTURES=DIR
the panels are drawn from that data into DIR (docs/observability/ holds the ones the docs show).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from support import dashboard
from support.alert_rules import alerts, seconds
from support.dashboard_pictures import Panel, Row, draw, legend, rows, slug
from support.prometheus_server import PrometheusServer
from support.shipped_policies import OPERATOR_ACCESS_KEY, operator_policy, policy_without
from support.solo import Solo, new_dataset_group
from support.trackers import manifest
from support.wait import wait_for

ALERT = "PersonalizeOperatorAWSAccessDenied"
DENIED_ACTION = "personalize:CreateEventTracker"
SCRAPE, EVALUATION = 1.0, 1.0  # seconds
POLL = 0.25  # seconds between looks at the operator's /metrics and Prometheus's alerts
RESOLVE_TIMEOUT = 300.0  # the refused resource's backoff (up to 64 s here), then one scrape and evaluation
PICTURES_ENV = "OBSERVABILITY_PICTURES"


def denied_calls(solo: Solo) -> float:
    return sum(
        s.value
        for s in solo.operator.samples()
        if s.name == "personalize_operator_aws_calls_total" and s.labels.get("outcome") == "AccessDeniedException"
    )


@pytest.mark.timeout(900)
def test_access_denied_fires_and_resolves_and_every_dashboard_panel_has_data(solo: Solo, tmp_path: Path) -> None:
    for_seconds = seconds(alerts()[ALERT]["for"])
    bound = for_seconds + 2 * SCRAPE + EVALUATION
    admin, trackers = solo.emulator.admin, solo.trackers
    target = f"127.0.0.1:{solo.operator.metrics_port}"
    with PrometheusServer(tmp_path / "prometheus", target, SCRAPE, EVALUATION) as prometheus:
        wait_for(prometheus.target_up, timeout=30, what="prometheus scrapes the operator")
        run_start = time.time()
        for name in ("clicks", "views", "gone"):
            trackers.create(manifest(name, new_dataset_group(solo.emulator)))
        for name in ("clicks", "views", "gone"):
            trackers.wait_phase(name, "Active", timeout=60)
        trackers.delete("gone")
        trackers.wait_gone("gone", timeout=60)
        assert prometheus.alert_state(ALERT) == "inactive"

        admin.attach_policies([policy_without(operator_policy(), DENIED_ACTION)], access_key_id=OPERATOR_ACCESS_KEY)
        injected = time.time()
        trackers.create(manifest("denied", new_dataset_group(solo.emulator)))
        first_denied = pending = firing = None
        deadline = injected + bound + 60
        while firing is None and time.time() < deadline:
            now = time.time()
            if first_denied is None and denied_calls(solo) > 0:
                first_denied = now
            state = prometheus.alert_state(ALERT)
            if state in ("pending", "firing") and pending is None:
                pending = now
            if state == "firing":
                firing = now
            time.sleep(POLL)
        assert first_denied is not None, "the operator made no refused call"
        assert firing is not None, f"{ALERT} not firing {deadline - first_denied:.0f} s after the first refused call"
        assert pending is not None
        print(
            f"scrape interval {SCRAPE:g} s, evaluation interval {EVALUATION:g} s, for {for_seconds:g} s; "
            f"injection -> first refused call seen {first_denied - injected:.1f} s, "
            f"-> pending {pending - injected:.1f} s, "
            f"-> firing {firing - injected:.1f} s; first refused call -> firing {firing - first_denied:.1f} s "
            f"(bound {bound:g} s)"
        )
        assert firing - first_denied <= bound

        admin.attach_policies([operator_policy()], access_key_id=OPERATOR_ACCESS_KEY)
        cleared, refused = time.time(), denied_calls(solo)
        recovered = resolved = None
        while resolved is None and time.time() < cleared + RESOLVE_TIMEOUT:
            now = time.time()
            if recovered is None and trackers.status("denied").get("phase") == "Active":
                recovered = now
            if prometheus.alert_state(ALERT) == "inactive":
                resolved = now
            time.sleep(POLL)
        assert resolved is not None, f"{ALERT} still {prometheus.alert_state(ALERT)} {RESOLVE_TIMEOUT:g} s after"
        if recovered is None:
            recovered = trackers.wait_phase("denied", "Active", timeout=120) and time.time()
        print(
            f"policy restored -> refused tracker Active {recovered - cleared:.1f} s, -> alert resolved "
            f"{resolved - cleared:.1f} s (refused calls in all: {refused:g})"
        )
        time.sleep(10 * SCRAPE)  # a few scrapes after the recovery, so the data (and the pictures) show it
        run_end = time.time()

        empty = []
        results: dict[tuple[str, str], list[dict[str, object]]] = {}
        for title, expr in dashboard.queries(dashboard.load()):
            series = prometheus.query_range(dashboard.for_prometheus(expr), run_start, run_end, 2 * SCRAPE)
            results[(title, expr)] = series
            if not any(s.get("values") for s in series):
                empty.append(f"{title}: {expr}")
        print(f"{len(results)} dashboard queries over {run_end - run_start:.0f} s of run")
        assert empty == [], "dashboard queries without data"

    pictures = os.environ.get(PICTURES_ENV)
    if pictures:
        marks = {"AccessDenied injected": injected, "policy restored": cleared}
        for row_title, panels in rows(dashboard.load()):
            row = Row(row_title)
            for panel in panels:
                drawn = Panel(panel["title"])
                for target in panel.get("targets", []):
                    for series in results[(panel["title"], target["expr"])]:
                        name = legend(target.get("legendFormat", ""), series["metric"], panel["title"])
                        drawn.lines.append((name, [(float(t), float(v)) for t, v in series["values"]]))
                row.panels.append(drawn)
            print(draw(row, run_start, 2 * SCRAPE, marks, Path(pictures) / f"dashboard-{slug(row_title)}.png"))
