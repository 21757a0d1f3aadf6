"""The chart's alerts judged by promtool, built from the Prometheus Go module (`make prometheus-tools`).

`promtool check rules` accepts the rule file; `promtool test rules` passes
alerts_test.yaml, which holds a firing and a non-firing case for every alert;
every alert's runbook_url points to a section docs/runbook.md has. A missing
promtool fails these tests (never a skip): `make test` builds it first.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from support.alert_rules import RULES_FILE, RUNBOOK_BASE, alerts
from support.prometheus_tools import promtool_path
from support.trackers import REPO

TESTS_FILE = Path(__file__).parent / "alerts_test.yaml"
RUNBOOK = REPO / "docs" / "runbook.md"
# The list and the metric contract (docs/observability.md): the runbook sections and the chart agree on these.
CONTRACT_ALERTS = {
    "PersonalizeOperatorAbsent",
    "PersonalizeOperatorNoLeader",
    "PersonalizeEventTrackerNotReady",
    "PersonalizeOperatorAWSAccessDenied",
    "PersonalizeOperatorAWSThrottling",
    "PersonalizeOperatorReconcileErrors",
    "PersonalizeOperatorWatchUnhealthy",
    "PersonalizeOperatorSecretWatchErrors",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    path = promtool_path()
    if not path.exists():
        pytest.fail(f"promtool is not built at {path}: run `make prometheus-tools`", pytrace=False)
    done = subprocess.run([str(path), *args], capture_output=True, text=True, check=False, timeout=120)
    print(done.stdout, done.stderr)
    return done


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to hyphens."""
    tokens = MarkdownIt().parse(markdown)
    titles = [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


def cases(kind: str) -> set[str]:
    """Alerts with at least one firing (`firing`) or non-firing (`quiet`) expectation in alerts_test.yaml."""
    tests = yaml.safe_load(TESTS_FILE.read_text())["tests"]
    checks = [check for test in tests for check in test.get("alert_rule_test", [])]
    return {check["alertname"] for check in checks if bool(check.get("exp_alerts")) == (kind == "firing")}


def test_the_rule_file_holds_the_contract_alerts_each_with_for_severity_and_annotations() -> None:
    found = alerts()
    assert set(found) == CONTRACT_ALERTS
    for name, rule in found.items():
        assert rule.get("for"), f"{name} has no `for`"
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), name


def test_promtool_check_rules_accepts_the_rule_file() -> None:
    done = promtool("check", "rules", str(RULES_FILE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    done = promtool("test", "rules", str(TESTS_FILE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize("kind", ["firing", "quiet"])
def test_every_alert_has_a_firing_and_a_quiet_case(kind: str) -> None:
    assert set(alerts()) - cases(kind) == set(), f"alerts without a {kind} case in {TESTS_FILE.name}"


def test_every_runbook_url_points_to_a_section_of_the_runbook() -> None:
    anchors = github_anchors(RUNBOOK.read_text())
    for name, rule in alerts().items():
        url = rule["annotations"]["runbook_url"]
        assert url == f"{RUNBOOK_BASE}#{name.lower()}", url
        assert name.lower() in anchors, f"docs/runbook.md has no section {name}"
