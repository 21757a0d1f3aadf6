"""The chart's files agree with the rest of the repository, checked without helm or a cluster.

Protects three things that drift silently: the CRD Helm installs is the CRD
`make crds` generates, the chart's appVersion is the operator's version, and
every value is covered by the schema and documented in docs/install.md.
"""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import personalize_operator
from personalize_operator.api import crd

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "personalize-operator"
# Values that are free-form maps or Kubernetes objects: documented as one row, not key by key.
FREE_FORM = frozenset(
    {
        "annotations",
        "labels",
        "resources",
        "podSecurityContext",
        "securityContext",
        "podAnnotations",
        "podLabels",
        "commonLabels",
        "nodeSelector",
        "affinity",
    }
)


def leaves(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the values a user sets one by one."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key not in FREE_FORM:
            yield from leaves(value, f"{path}.")
        else:
            yield path


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads((CHART / "values.schema.json").read_text())


class TestChartCrd:
    """The chart ships the generated CRD, byte for byte, as a template (never in crds/), and `make crds` keeps it so."""

    def test_chart_crd_is_identical_to_the_top_level_crd(self) -> None:
        top = REPO / "crds" / crd.CRD_FILENAME
        shipped = CHART / "files" / crd.CRD_FILENAME
        assert shipped.read_bytes() == top.read_bytes()
        definitions = [p.name for p in (CHART / "files").iterdir() if "kind: CustomResourceDefinition" in p.read_text()]
        assert definitions == [crd.CRD_FILENAME]  # beside it only the monitoring files (rules, dashboard)
        # Helm installs crds/ once and never upgrades it: the CRD must not be there (templates/crd.yaml renders it).
        assert not (CHART / "crds").exists()
        assert f'.Files.Get "files/{crd.CRD_FILENAME}"' in (CHART / "templates" / "crd.yaml").read_text()

    def test_make_crds_writes_and_checks_both_files(self) -> None:
        assert crd.CRD_PATHS == (REPO / "crds" / crd.CRD_FILENAME, CHART / "files" / crd.CRD_FILENAME)
        assert crd.main(["--check"]) == 0

    def test_check_names_the_stale_copy(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        first, second = tmp_path / "crds" / "a.yaml", tmp_path / "chart" / "crds" / "a.yaml"
        assert crd.main(["--output", str(first), "--output", str(second)]) == 0
        assert first.read_bytes() == second.read_bytes() == crd.render_yaml().encode()
        second.write_text("stale\n")
        assert crd.main(["--check", "--output", str(first), "--output", str(second)]) == 1
        err = capsys.readouterr().err
        assert str(second) in err and f"{first} is out of date" not in err


class TestChartMetadata:
    """Chart.yaml describes the operator release it installs."""

    def test_chart_version_and_app_version_are_the_operator_version(self) -> None:
        chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
        project = tomllib.loads((REPO / "pyproject.toml").read_text())
        assert chart["apiVersion"] == "v2" and chart["name"] == "personalize-operator"
        # One source: the package reads its version from personalize_operator.__version__.
        assert project["project"]["dynamic"] == ["version"] and "version" not in project["project"]
        assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "personalize_operator.__version__"}
        assert chart["appVersion"] == str(chart["version"]) == personalize_operator.__version__
        assert importlib.metadata.version("personalize-operator") == personalize_operator.__version__

    def test_the_changelog_has_a_section_for_this_version(self) -> None:
        changelog = (REPO / "CHANGELOG.md").read_text()
        assert f"## [{personalize_operator.__version__}] - " in changelog


class TestValuesAreSchemaCheckedAndDocumented:
    """A value added to values.yaml must be in the strict schema and in docs/install.md's table."""

    def test_every_value_is_declared_by_the_schema(self, values: dict[str, Any], schema: dict[str, Any]) -> None:
        def undeclared(node: dict[str, Any], rules: dict[str, Any], prefix: str = "") -> Iterator[str]:
            for key, value in node.items():
                rule = rules.get("properties", {}).get(key)
                if rule is None:
                    yield f"{prefix}{key}"
                elif isinstance(value, dict) and "properties" in rule:
                    yield from undeclared(value, rule, f"{prefix}{key}.")

        assert list(undeclared(values, schema)) == []

    def test_schema_objects_refuse_unknown_keys(self, schema: dict[str, Any]) -> None:
        def open_objects(rule: dict[str, Any], path: str = "") -> Iterator[str]:
            if "properties" in rule and rule.get("additionalProperties") is not False:
                yield path or "."
            for key, child in rule.get("properties", {}).items():
                yield from open_objects(child, f"{path}.{key}")

        assert list(open_objects(schema)) == []

    def test_every_value_is_in_the_install_guide(self, values: dict[str, Any]) -> None:
        guide = (REPO / "docs" / "install.md").read_text()
        rows = {line.split("|")[1].strip().strip("`") for line in guide.splitlines() if line.startswith("| `")}
        assert sorted(set(leaves(values)) - rows) == []
