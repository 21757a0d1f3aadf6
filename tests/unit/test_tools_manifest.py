"""`manifest` and `skeleton` without a cluster: the CLI's input becomes a manifest, bad input names its field."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
import yaml

from personalize_operator.api import model
from personalize_operator.cli import main
from personalize_operator.tools import cli_shape, exits, skeleton
from personalize_operator.tools.manifest import Options, dns_name, from_source, to_cli_input
from support.builders import numbered_tags
from support.cli import SKELETON_VALUES, fill, leaves

DG = "arn:aws:personalize:us-west-2:123456789012:dataset-group/MyDatasetGroup"
SEED = {"name": "MyEventTracker", "datasetGroupArn": DG}


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """main() in this process with its own stdin/stdout/stderr: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def test_the_seed_input_becomes_a_manifest_with_a_dns_safe_name_and_the_aws_name_kept() -> None:
    body = from_source("-", Options(), io.StringIO(json.dumps(SEED)))
    assert body["metadata"] == {"name": "my-event-tracker"}
    assert body["spec"] == {"name": "MyEventTracker", "datasetGroupArn": DG}


def test_command_line_options_set_name_namespace_secret_and_deletion_policy() -> None:
    options = Options(name="clicks", namespace="shop", secret_name="clicks-id", deletion_policy="Retain")
    body = from_source("-", options, io.StringIO(json.dumps(SEED)))
    assert body["metadata"] == {"name": "clicks", "namespace": "shop"}
    assert body["spec"]["secretName"] == "clicks-id"
    assert body["spec"]["deletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    ("aws_name", "expected"),
    [
        pytest.param("MyEventTracker", "my-event-tracker", id="camel-case"),
        pytest.param("clicks_v2", "clicks-v2", id="underscore"),
        pytest.param("ABC", "abc", id="capitals"),
        pytest.param("tracker-", "tracker", id="trailing-hyphen"),
    ],
)
def test_dns_name_is_lowercase_with_hyphens(aws_name: str, expected: str) -> None:
    assert dns_name(aws_name) == expected


MALFORMED: list[Any] = [
    pytest.param("{", "cli-input-json: invalid JSON", id="bad-json"),
    pytest.param("[]", "cli-input-json: must be a JSON object", id="not-an-object"),
    pytest.param({**SEED, "trackerName": "x"}, "trackerName: unknown parameter in input", id="unknown-key"),
    pytest.param({"name": "x"}, "datasetGroupArn: missing required parameter", id="missing-arn"),
    pytest.param(
        {**SEED, "name": "my.tracker"},
        'spec.name: Invalid value: "my.tracker": spec.name in body should match',
        id="bad-name",
    ),
    pytest.param({**SEED, "name": "x" * 64}, "spec.name: Too long: may not be more than 63 bytes", id="long-name"),
    pytest.param({**SEED, "datasetGroupArn": "arn:aws:s3:::bucket"}, "spec.datasetGroupArn:", id="bad-arn"),
    pytest.param(
        {**SEED, "datasetGroupArn": "arn:aws:personalize:us-west-2:123456789012:solution/x"},
        f"spec.datasetGroupArn: {model.DATASET_GROUP_ARN_INVALID}",
        id="not-a-dataset-group",
    ),
    pytest.param(
        {**SEED, "tags": numbered_tags(model.MAX_USER_TAGS + 1)},
        f"spec.tags: Too many: {model.MAX_USER_TAGS + 1}: must have at most {model.MAX_USER_TAGS} items",
        id="too-many-tags",
    ),
    pytest.param(
        {**SEED, "tags": [{"tagKey": "personalize.operators.dev/uid", "tagValue": "x"}]},
        f"spec.tags[0].tagKey: {model.RESERVED_TAG_KEY}",
        id="reserved-tag-prefix",
    ),
    pytest.param(
        {**SEED, "tags": [{"tagKey": "aws:cloudformation", "tagValue": "x"}]},
        f"spec.tags[0].tagKey: {model.AWS_TAG_KEY}",
        id="aws-tag-prefix",
    ),
    pytest.param({**SEED, "tags": numbered_tags(1) * 2}, "spec: duplicate tag keys: k0", id="duplicate-tag-keys"),
    pytest.param({**SEED, "tags": [{"tagKey": "team"}]}, "tags[0].tagValue: missing required", id="tag-without-value"),
    pytest.param({**SEED, "tags": "team=growth"}, "tags: must be a JSON list", id="tags-not-a-list"),
]


@pytest.mark.parametrize(("given", "named"), MALFORMED)
def test_malformed_input_exits_1_naming_the_field(given: Any, named: str) -> None:
    text = given if isinstance(given, str) else json.dumps(given)
    code, out, err = run(["manifest", "--cli-input-json", "-"], stdin=text)
    assert (code, out) == (exits.REFUSED, "")
    assert f"personalize-operator manifest: {named}" in err


def test_an_invalid_resource_name_from_the_command_line_is_refused_in_the_api_servers_words() -> None:
    code, _, err = run(["manifest", "--cli-input-json", "-", "--name", "Bad_Name"], stdin=json.dumps(SEED))
    assert code == exits.REFUSED
    assert 'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of' in err


def test_a_source_without_file_scheme_is_a_usage_error() -> None:
    code, _, err = run(["manifest", "--cli-input-json", "input.json"], stdin="")
    assert code == exits.USAGE
    assert "file://PATH or -" in err


def test_a_missing_file_is_refused_input(tmp_path: Any) -> None:
    code, _, err = run(["manifest", "--cli-input-json", f"file://{tmp_path}/none.json"])
    assert code == exits.REFUSED
    assert "cannot read" in err


def test_an_unknown_option_is_a_usage_error() -> None:
    assert run(["manifest", "--cli-input-json", "-", "--colour"])[0] == exits.USAGE


def test_json_output_is_the_same_object_as_yaml() -> None:
    _, as_yaml, _ = run(["manifest", "--cli-input-json", "-"], stdin=json.dumps(SEED))
    _, as_json, _ = run(["manifest", "--cli-input-json", "-", "-o", "json"], stdin=json.dumps(SEED))
    assert yaml.safe_load(as_yaml) == json.loads(as_json)


def test_cli_input_json_output_gives_back_the_input_unchanged() -> None:
    given = {**SEED, "tags": [{"tagKey": "team", "tagValue": "growth"}]}
    text = cli_shape.dumps(given)
    code, out, _ = run(["manifest", "--cli-input-json", "-", "-o", "cli-input-json"], stdin=text)
    assert (code, out) == (exits.OK, text)
    assert to_cli_input(from_source("-", Options(), io.StringIO(text))) == given


def test_cli_skeleton_is_the_aws_cli_shape_of_create_event_tracker() -> None:
    code, out, _ = run(["skeleton", "--output-format", "cli-input-json"])
    assert code == exits.OK
    assert json.loads(out) == {"name": "", "datasetGroupArn": "", "tags": [{"tagKey": "", "tagValue": ""}]}
    assert out.startswith('{\n    "name"')  # the AWS CLI's 4-space indent


def test_yaml_skeleton_has_every_spec_field_a_comment_line_each_and_parses_to_the_json_skeleton() -> None:
    code, out, _ = run(["skeleton"])
    _, as_json, _ = run(["skeleton", "-o", "json"])
    assert code == exits.OK
    assert yaml.safe_load(out) == json.loads(as_json) == skeleton.manifest()
    spec_fields = {info.alias or name for name, info in model.EventTrackerSpec.model_fields.items()}
    assert set(skeleton.manifest()["spec"]) == spec_fields
    lines = out.splitlines()
    for index, line in enumerate(lines):
        key = line.strip().removeprefix("- ").split(":")[0]
        if key in spec_fields | {"tagKey", "tagValue"} and not line.strip().startswith("#"):
            assert lines[index - 1].strip().startswith("# "), f"no comment line above {key}"


def test_skeleton_with_placeholders_filled_passes_the_model() -> None:
    body = yaml.safe_load(fill(skeleton.render("yaml"), SKELETON_VALUES))
    assert not [leaf for leaf in leaves(body) if "<" in str(leaf)]
    model.EventTracker.model_validate(body)


def test_an_invalid_namespace_is_refused_in_the_api_servers_words() -> None:
    code, _, err = run(["manifest", "--cli-input-json", "-", "--namespace", "Shop.EU"], stdin=json.dumps(SEED))
    assert code == exits.REFUSED
    assert 'metadata.namespace: Invalid value: "Shop.EU": a lowercase RFC 1123 label must consist of' in err
