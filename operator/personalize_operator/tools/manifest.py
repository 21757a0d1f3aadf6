"""`personalize-operator manifest`: the AWS CLI's create-event-tracker input JSON as an EventTracker manifest.

The input is read the way the AWS CLI reads `--cli-input-json` (`file://PATH`
or `-` for stdin), checked against botocore's input shape (unknown keys,
required members, JSON types), then validated by model.EventTracker, the
model the CRD is rendered from: what the API server would refuse is refused
here first, in its words. Output formats: yaml, json, and cli-input-json
(the manifest turned back into the CLI's input, for round trips).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pydantic

from personalize_operator.api import constraints, model, names
from personalize_operator.api.constraints import StringConstraint
from personalize_operator.tools import cli_shape, problems
from personalize_operator.tools.exits import RefusedInput, UsageError

FILE_PREFIX = "file://"
STDIN = "-"
CLI_INPUT_JSON = "cli-input-json"
# Namespaces are RFC 1123 labels; the messages are k8s.io/apimachinery's, word for word.
DNS1123_LABEL = StringConstraint(
    shape="DNS1123Label", min_length=1, max_length=63, java_pattern=r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
)
SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class Options:
    """What the command line adds to the CLI input: where the resource goes and what it is called."""

    name: str | None = None
    namespace: str | None = None
    secret_name: str | None = None
    deletion_policy: str | None = None


def read_source(source: str, stdin: TextIO | None = None) -> str:
    """The text behind `file://PATH` or `-` (the AWS CLI's convention); anything else is a usage error."""
    if source == STDIN:
        return (stdin or sys.stdin).read()
    if not source.startswith(FILE_PREFIX):
        raise UsageError(f"--cli-input-json takes file://PATH or - (standard input), not {source!r}")
    path = Path(source.removeprefix(FILE_PREFIX)).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RefusedInput([f"cli-input-json: cannot read {path}: {error.strerror or error}"]) from None


def parse_cli_input(text: str) -> dict[str, Any]:
    """The CLI input as a dict, refused (naming the key) where the AWS CLI would refuse it."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise RefusedInput([f"cli-input-json: invalid JSON at {where}: {error.msg}"]) from None
    if not isinstance(value, dict):
        raise RefusedInput([f"cli-input-json: must be a JSON object, not {type(value).__name__}"])
    found = cli_shape.shape_problems(value, cli_shape.input_shape(), "")
    if found:
        raise RefusedInput(found)
    return value


def dns_name(aws_name: str) -> str:
    """A metadata.name from an AWS name: MyEventTracker -> my-event-tracker, under_score -> under-score."""
    spaced = _CAMEL_BOUNDARY.sub("-", aws_name).lower().replace("_", "-")
    return _NOT_DNS.sub("-", spaced).strip("-")[: constraints.DNS1123_SUBDOMAIN_MAX] or "event-tracker"


def _metadata_problems(options: Options, metadata_name: str) -> list[str]:
    """The API server's own checks of metadata (apimachinery's messages), which the CRD schema cannot express."""
    found = []
    if constraints.DNS1123_SUBDOMAIN.problem(metadata_name):
        found.append(f'metadata.name: Invalid value: "{metadata_name}": {SUBDOMAIN_MESSAGE}')
    if options.namespace is not None and DNS1123_LABEL.problem(options.namespace):
        found.append(f'metadata.namespace: Invalid value: "{options.namespace}": {LABEL_MESSAGE}')
    return found


def build(cli_input: dict[str, Any], options: Options) -> dict[str, Any]:
    """The EventTracker object for validated CLI input, validated again by the CRD's model."""
    aws_name = cli_input.get("name")
    metadata_name = options.name or dns_name(str(aws_name or ""))
    metadata: dict[str, Any] = {"name": metadata_name}
    if options.namespace:
        metadata["namespace"] = options.namespace
    spec: dict[str, Any] = {}
    if aws_name is not None:
        spec["name"] = aws_name
    spec["datasetGroupArn"] = cli_input.get("datasetGroupArn")
    if "tags" in cli_input:
        spec["tags"] = cli_input["tags"]
    if options.secret_name:
        spec["secretName"] = options.secret_name
    if options.deletion_policy:
        spec["deletionPolicy"] = options.deletion_policy
    body = {"apiVersion": f"{names.GROUP}/{names.VERSION}", "kind": names.KIND, "metadata": metadata, "spec": spec}
    validate(body, extra=_metadata_problems(options, metadata_name))
    return body


def validate(body: dict[str, Any], *, extra: list[str] | None = None) -> model.EventTracker:
    """Parse `body` with model.EventTracker; every problem, with `extra`, raised as one RefusedInput."""
    found = list(extra or [])
    parsed = None
    try:
        parsed = model.EventTracker.model_validate(body)
    except pydantic.ValidationError as error:
        found += problems.describe(error)
    if found or parsed is None:
        raise RefusedInput(found)
    return parsed


def to_cli_input(body: dict[str, Any]) -> dict[str, Any]:
    """A manifest back into the CLI's input JSON, keys in botocore's order (the round trip of `build`)."""
    spec = body["spec"]
    values = {"name": spec.get("name") or body["metadata"]["name"], "datasetGroupArn": spec["datasetGroupArn"]}
    if "tags" in spec:
        values["tags"] = [{"tagKey": tag["tagKey"], "tagValue": tag["tagValue"]} for tag in spec["tags"]]
    return {key: values[key] for key in cli_shape.input_shape().members if key in values}


def from_source(source: str, options: Options, stdin: TextIO | None = None) -> dict[str, Any]:
    return build(parse_cli_input(read_source(source, stdin)), options)
