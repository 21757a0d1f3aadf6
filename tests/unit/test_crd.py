"""The generated CRD: committed file in sync with the model, structural, and validating what it should."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regex
import yaml

import personalize_operator
from personalize_operator.api import constraints, crd, crd_freshness, model, names

COMMITTED = Path(__file__).resolve().parents[2] / "crds" / crd.CRD_FILENAME


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    return crd.render_crd()


@pytest.fixture(scope="module")
def schema(rendered: dict[str, Any]) -> dict[str, Any]:
    return rendered["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.fixture(scope="module")
def spec_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]["spec"]


def nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with a readable path."""
    yield path or ".", node
    for name, child in node.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    if "items" in node:
        yield from nodes(node["items"], f"{path}[]")


def rules(node: dict[str, Any]) -> dict[str, str]:
    return {rule["message"]: rule["rule"] for rule in node.get("x-kubernetes-validations", [])}


class TestCommittedFile:
    """crds/ is generated; a model change without `make crds` must fail here."""

    def test_committed_crd_matches_the_model(self) -> None:
        problem = crd.check(COMMITTED)
        assert problem is None, problem

    def test_rendering_is_deterministic(self) -> None:
        assert crd.render_yaml() == crd.render_yaml()

    def test_committed_yaml_parses_to_the_rendered_object(self, rendered: dict[str, Any]) -> None:
        assert yaml.safe_load(COMMITTED.read_text()) == rendered

    def test_check_reports_a_stale_file_with_a_diff_and_the_fix(self, tmp_path: Path) -> None:
        stale = tmp_path / "crd.yaml"
        stale.write_text(crd.render_yaml().replace("shortNames", "shortNamez"))
        problem = crd.check(stale)
        assert problem is not None
        assert "run `make crds`" in problem
        assert "shortNamez" in problem

    def test_cli_writes_then_check_passes(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        target = tmp_path / "out" / "crd.yaml"
        assert crd.main(["--output", str(target)]) == 0
        assert crd.main(["--check", "--output", str(target)]) == 0
        target.write_text("stale\n")
        assert crd.main(["--check", "--output", str(target)]) == 1
        assert "make crds" in capsys.readouterr().err

    def test_check_of_a_missing_file_fails(self, tmp_path: Path) -> None:
        assert crd.check(tmp_path / "absent.yaml") is not None


class TestResourceIdentity:
    def test_names_scope_and_version(self, rendered: dict[str, Any]) -> None:
        spec = rendered["spec"]
        assert rendered["metadata"]["name"] == "eventtrackers.personalize.operators.dev"
        assert spec["group"] == "personalize.operators.dev"
        assert spec["scope"] == "Namespaced"
        assert spec["names"] == {
            "kind": "EventTracker",
            "listKind": "EventTrackerList",
            "plural": "eventtrackers",
            "singular": "eventtracker",
            "shortNames": ["et"],
            "categories": ["personalize"],
        }
        stored, deprecated = spec["versions"]
        assert (stored["name"], stored["served"], stored["storage"]) == ("v1beta1", True, True)
        assert "deprecated" not in stored and names.VERSION == "v1beta1"
        assert (deprecated["name"], deprecated["served"], deprecated["storage"]) == ("v1alpha1", True, False)
        assert deprecated["deprecated"] is True
        assert "use personalize.operators.dev/v1beta1" in deprecated["deprecationWarning"]
        assert stored["subresources"] == {"status": {}}
        assert spec["conversion"] == {"strategy": "None"}

    def test_both_versions_have_the_same_schema_so_no_conversion_is_needed(self, rendered: dict[str, Any]) -> None:
        stored, deprecated = rendered["spec"]["versions"]
        for key in ("schema", "subresources", "additionalPrinterColumns"):
            assert stored[key] == deprecated[key]


class TestStamp:
    """Every rendering says which operator made it and hashes its spec, where the operator can read it back."""

    def test_annotations_and_description_carry_the_same_stamp(self, rendered: dict[str, Any]) -> None:
        own = crd.stamp()
        assert own.operator_version == personalize_operator.__version__
        assert crd_freshness.from_annotations(rendered["metadata"]["annotations"]) == own
        for version in rendered["spec"]["versions"]:
            assert crd_freshness.from_description(version["schema"]["openAPIV3Schema"]["description"]) == own

    def test_the_hash_changes_with_the_schema_and_not_with_the_stamp(self, monkeypatch: pytest.MonkeyPatch) -> None:
        before = crd.stamp().schema_hash
        assert crd.stamp().schema_hash == before  # deterministic
        monkeypatch.setattr(model, "RESOURCE_DESCRIPTION", model.RESOURCE_DESCRIPTION + " Changed.")
        assert crd.stamp().schema_hash != before

    def test_printer_columns_show_tracker_phase_secret_age_and_wide_details(self, rendered: dict[str, Any]) -> None:
        columns = {c["name"]: c for c in rendered["spec"]["versions"][0]["additionalPrinterColumns"]}
        assert columns["Tracker"]["jsonPath"] == ".status.trackerName"
        assert columns["Phase"]["jsonPath"] == ".status.phase"
        assert columns["Secret"]["jsonPath"] == ".status.secretName"
        assert columns["Age"] == {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        assert columns["ARN"]["jsonPath"] == ".status.eventTrackerArn"
        assert columns["Reason"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].reason'
        assert {name for name, c in columns.items() if c.get("priority") == 1} == {"Ready", "Reason", "ARN"}

    def test_printer_columns_point_at_status_fields_that_exist(
        self, rendered: dict[str, Any], schema: dict[str, Any]
    ) -> None:
        status_fields = schema["properties"]["status"]["properties"]
        for column in rendered["spec"]["versions"][0]["additionalPrinterColumns"]:
            path = column["jsonPath"]
            if path.startswith(".status."):
                assert path.split(".")[2].split("[")[0] in status_fields, column


class TestStructuralSchema:
    """The API server refuses non-structural schemas; check the rules it applies, offline."""

    def test_every_node_has_a_type(self, schema: dict[str, Any]) -> None:
        untyped = [path for path, node in nodes(schema) if "type" not in node]
        assert untyped == []

    def test_no_json_schema_constructs_kubernetes_refuses(self, schema: dict[str, Any]) -> None:
        forbidden = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "nullable", "const"}
        found = [(path, sorted(forbidden & node.keys())) for path, node in nodes(schema) if forbidden & node.keys()]
        assert found == []

    def test_objects_declare_properties_or_preserve_unknown_fields(self, schema: dict[str, Any]) -> None:
        vague = [
            path
            for path, node in nodes(schema)
            if node["type"] == "object"
            and "properties" not in node
            and not isinstance(node.get("additionalProperties"), dict)  # a typed map (secretLabels)
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ]
        assert vague == []

    def test_only_kopf_state_preserves_unknown_fields(self, schema: dict[str, Any]) -> None:
        preserved = [path for path, node in nodes(schema) if node.get("x-kubernetes-preserve-unknown-fields")]
        assert preserved == [".status.kopf"]

    def test_metadata_declares_only_name(self, schema: dict[str, Any]) -> None:
        assert schema["properties"]["metadata"] == {"type": "object", "properties": {"name": {"type": "string"}}}

    def test_spec_is_required(self, schema: dict[str, Any]) -> None:
        assert schema["required"] == ["spec"]

    def test_every_spec_and_status_field_is_described(self, schema: dict[str, Any]) -> None:
        undocumented = [
            path
            for path, node in nodes(schema)
            if path.startswith((".spec", ".status")) and not node.get("description")
        ]
        assert undocumented == []


class TestSpecValidation:
    @pytest.mark.parametrize(
        ("field", "constraint"),
        [
            pytest.param("name", constraints.NAME, id="name"),
            pytest.param("datasetGroupArn", constraints.DATASET_GROUP_ARN, id="datasetGroupArn"),
            pytest.param("secretName", constraints.DNS1123_SUBDOMAIN, id="secretName"),
        ],
    )
    def test_string_limits_come_from_the_constraints(
        self, spec_schema: dict[str, Any], field: str, constraint: constraints.StringConstraint
    ) -> None:
        node = spec_schema["properties"][field]
        assert node.get("minLength") == constraint.min_length
        assert node.get("maxLength") == constraint.max_length
        assert node["pattern"] == constraint.pattern

    def test_tags_are_a_list_map_keyed_by_tag_key_with_the_per_resource_limit_minus_ownership_tags(
        self, spec_schema: dict[str, Any]
    ) -> None:
        tags = spec_schema["properties"]["tags"]
        assert tags["x-kubernetes-list-type"] == "map"
        assert tags["x-kubernetes-list-map-keys"] == ["tagKey"]
        assert tags["maxItems"] == model.MAX_USER_TAGS == constraints.TAGS_PER_RESOURCE_MAX - 4 == 46
        assert "50 tags per resource" in tags["description"] and "4 ownership tags" in tags["description"]
        item = tags["items"]
        assert item["required"] == ["tagKey", "tagValue"]
        for field, constraint in (("tagKey", constraints.TAG_KEY), ("tagValue", constraints.TAG_VALUE)):
            node = item["properties"][field]
            assert (node.get("minLength"), node["maxLength"], node["pattern"]) == (
                constraint.min_length,
                constraint.max_length,
                constraint.pattern,
            )

    def test_deletion_policy_is_an_enum_defaulting_to_delete(self, spec_schema: dict[str, Any]) -> None:
        node = spec_schema["properties"]["deletionPolicy"]
        assert node["enum"] == ["Delete", "Retain"]
        assert node["default"] == "Delete"

    def test_only_datasetgrouparn_is_required(self, spec_schema: dict[str, Any]) -> None:
        assert spec_schema["required"] == ["datasetGroupArn"]

    def test_no_defaults_but_the_deletion_policy(self, schema: dict[str, Any]) -> None:
        defaulted = [path for path, node in nodes(schema) if "default" in node]
        assert defaulted == [".spec.deletionPolicy"]

    @pytest.mark.parametrize("path", [pytest.param(p, id=p) for p, n in nodes(crd.resource_schema()) if "pattern" in n])
    def test_patterns_are_anchored_and_compile(self, path: str) -> None:
        node = dict(nodes(crd.resource_schema()))[path]
        pattern = node["pattern"]
        assert pattern.startswith("^") and pattern.endswith("$")
        regex.compile(pattern)


class TestCelRules:
    """Messages are part of the contract: apply-time tests and users match on them."""

    def test_name_and_dataset_group_are_immutable(self, spec_schema: dict[str, Any]) -> None:
        assert rules(spec_schema["properties"]["name"]) == {"spec.name is immutable": "self == oldSelf"}
        arn_rules = rules(spec_schema["properties"]["datasetGroupArn"])
        assert arn_rules["spec.datasetGroupArn is immutable"] == "self == oldSelf"
        assert model.DATASET_GROUP_ARN_SHAPE.pattern is not None
        assert model.DATASET_GROUP_ARN_SHAPE.pattern in arn_rules[model.DATASET_GROUP_ARN_INVALID]

    def test_every_partition_botocore_knows_is_in_the_arn_rule_with_its_own_regions(self) -> None:
        pattern = model.DATASET_GROUP_ARN_SHAPE.pattern or ""
        for partition, regions in constraints.partition_region_patterns().items():
            assert f"{partition}:personalize:{regions}".replace("\\d", "[0-9]") in pattern
            assert "\\w" not in regions, "Go's \\w is ASCII, Python's is Unicode: spelled out as [a-z0-9]"

    def test_reserved_tag_prefixes_are_refused(self, spec_schema: dict[str, Any]) -> None:
        tag_key = spec_schema["properties"]["tags"]["items"]["properties"]["tagKey"]
        assert rules(tag_key) == {
            "tag keys starting with personalize.operators.dev/ are reserved for the operator": (
                "!self.startsWith(r'personalize.operators.dev/')"
            ),
            "tag keys starting with aws: are reserved for AWS": "!self.lowerAscii().startsWith(r'aws:')",
        }

    def test_root_rules_guard_names_defaulted_from_metadata(self, schema: dict[str, Any]) -> None:
        root = rules(schema)
        assert set(root) == {
            "metadata.name is not a valid Personalize name; set spec.name",
            model.NAME_PRESENCE_IMMUTABLE,
            model.METADATA_NAME_TOO_LONG_FOR_SECRET,
        }
        assert model.NAME_PRESENCE_IMMUTABLE.startswith("spec.name is immutable")
        name_rule = root[model.METADATA_NAME_INVALID]
        assert f"size(self.metadata.name) <= {constraints.NAME.max_length}" in name_rule
        assert f"matches(r'{constraints.NAME.pattern}')" in name_rule
        assert "oldSelf" in root[model.NAME_PRESENCE_IMMUTABLE]

    def test_root_rules_report_the_field_at_fault(self, schema: dict[str, Any]) -> None:
        paths = {rule["message"]: rule.get("fieldPath") for rule in schema["x-kubernetes-validations"]}
        assert paths == {
            model.METADATA_NAME_INVALID: ".metadata.name",
            model.NAME_PRESENCE_IMMUTABLE: ".spec.name",
            model.METADATA_NAME_TOO_LONG_FOR_SECRET: ".metadata.name",
        }

    def test_strings_and_lists_under_cel_rules_are_bounded_for_cost_estimation(self, schema: dict[str, Any]) -> None:
        unbounded = []
        for path, node in nodes(schema):
            if not path.startswith(".spec"):
                continue
            if node["type"] == "string" and "maxLength" not in node and "enum" not in node:
                unbounded.append(path)
            if node["type"] == "array" and "maxItems" not in node:
                unbounded.append(path)
        assert unbounded == []

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("plain", "r'plain'", id="raw"),
            pytest.param(r"^a\-b$", r"r'^a\-b$'", id="raw-keeps-backslashes"),
            pytest.param("it's", r"'it\'s'", id="quote-escaped"),
            pytest.param("a\\'", r"'a\\\''", id="backslash-and-quote"),
        ],
    )
    def test_cel_string_literals(self, value: str, expected: str) -> None:
        assert model.cel_string(value) == expected
