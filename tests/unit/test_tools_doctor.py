"""`doctor`'s pure parts: CRD drift named by path, the report's lines, and RBAC rules equal to the chart's."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from personalize_operator.api import crd
from personalize_operator.tools.crd_drift import drift
from personalize_operator.tools.doctor import Check, render_text
from personalize_operator.tools.permissions import needed

HELPERS = Path(__file__).resolve().parents[2] / "charts" / "personalize-operator" / "templates" / "_helpers.tpl"


def test_the_rendered_crd_has_no_drift_from_itself_even_with_server_added_fields() -> None:
    installed = copy.deepcopy(crd.render_crd())
    installed["spec"]["conversion"] = {"strategy": "None"}
    installed["status"] = {"acceptedNames": {}}
    assert drift(installed, crd.render_crd()) == []


def test_a_changed_limit_is_named_by_its_path() -> None:
    installed = copy.deepcopy(crd.render_crd())
    schema = installed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["spec"]["properties"]["tags"]["maxItems"] = 50
    (line,) = drift(installed, crd.render_crd())
    assert line.startswith("spec.versions[v1beta1].schema.openAPIV3Schema.properties.spec.properties.tags.maxItems:")
    assert "cluster has 50" in line


def test_a_field_missing_in_the_cluster_and_a_missing_version_are_named() -> None:
    installed = copy.deepcopy(crd.render_crd())
    del installed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["secretName"]
    assert any("properties.secretName: missing in the cluster" in line for line in drift(installed, crd.render_crd()))
    installed["spec"]["versions"][0]["name"] = "v0"
    assert drift(installed, crd.render_crd()) == ["spec.versions[v1beta1]: missing in the cluster"]


def test_the_report_has_an_ok_or_fail_line_per_check_and_a_hint_for_failures() -> None:
    text = render_text([Check("CRD", True, "installed"), Check("AWS identity", False, "refused", "renew")])
    assert text.splitlines() == [
        "OK   CRD: installed",
        "FAIL AWS identity: refused",
        "     hint: renew",
        "1 of 2 checks passed; failed: AWS identity",
    ]


def _chart_rules(*, secret_watch: bool) -> list[tuple[str, str, str]]:
    """(group, resource, verb) of the chart's rules, its `if secretWatch.enabled` part kept or dropped."""
    block = re.search(r'define "personalize-operator.rules" -}}\n(.*?)\{\{- end }}', HELPERS.read_text(), re.S)
    assert block is not None
    text = re.sub(
        r"\{\{ if \.Values\.secretWatch\.enabled }}(.*?)\{\{ end }}",
        lambda m: m.group(1) if secret_watch else "",
        block.group(1),
    )
    assert "{{" not in text, "a template construct this test does not know"
    rules = yaml.safe_load(text)
    return sorted(
        (g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]
    )


@pytest.mark.parametrize("secret_watch", [False, True])
def test_the_permissions_doctor_checks_are_the_helm_charts_rules(secret_watch: bool) -> None:
    ours = sorted((p.group, p.resource, v) for p in needed(secret_watch=secret_watch) for v in p.verbs)
    assert ours == _chart_rules(secret_watch=secret_watch)
