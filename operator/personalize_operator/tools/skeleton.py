"""`personalize-operator skeleton`: an EventTracker with every field, a placeholder each, one comment line each.

The analogue of `aws ... --generate-cli-skeleton input`. Comments are the
model's own field descriptions (the ones `kubectl explain` shows), so they
cannot drift from the CRD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from personalize_operator.api import model, names
from personalize_operator.tools import cli_shape
from personalize_operator.tools.output import Format, to_yaml

PLACEHOLDERS = {
    "metadata.name": "<resource-name>",
    "metadata.namespace": "<namespace>",
    "spec.name": "<aws-tracker-name>",
    "spec.datasetGroupArn": "arn:aws:personalize:<region>:<account-id>:dataset-group/<dataset-group-name>",
    "spec.tags.tagKey": "<tag-key>",
    "spec.tags.tagValue": "<tag-value>",
    "spec.secretName": "<secret-name>",
    "spec.configMapName": "<config-map-name>",
}
METADATA_COMMENTS = {
    "name": "Name of the resource (lowercase DNS name); spec.name and spec.secretName default from it.",
    "namespace": "Namespace of the resource; the Secret with the trackingId is written here.",
}
HEADER = "EventTracker skeleton (personalize-operator skeleton): replace every <...>, delete optional fields you skip."


def _description(model_class: type[BaseModel], alias: str) -> str:
    for name, info in model_class.model_fields.items():
        if (info.alias or name) == alias:
            return " ".join((info.description or "").split())
    raise KeyError(alias)


def manifest() -> dict[str, Any]:
    """The skeleton as an object (placeholders, the default deletionPolicy)."""
    return {
        "apiVersion": f"{names.GROUP}/{names.VERSION}",
        "kind": names.KIND,
        "metadata": {"name": PLACEHOLDERS["metadata.name"], "namespace": PLACEHOLDERS["metadata.namespace"]},
        "spec": {
            "name": PLACEHOLDERS["spec.name"],
            "datasetGroupArn": PLACEHOLDERS["spec.datasetGroupArn"],
            "tags": [{"tagKey": PLACEHOLDERS["spec.tags.tagKey"], "tagValue": PLACEHOLDERS["spec.tags.tagValue"]}],
            "secretName": PLACEHOLDERS["spec.secretName"],
            "secretKeys": {"trackingId": names.TRACKING_ID_KEY, "eventTrackerArn": names.TRACKER_ARN_KEY},
            "secretLabels": {},
            "secretAnnotations": {},
            "configMapName": PLACEHOLDERS["spec.configMapName"],
            "rolloutRestartTargets": [],
            "deletionPolicy": model.DeletionPolicy.DELETE.value,
        },
    }


def _scalar(value: Any) -> str:
    return to_yaml(value).removesuffix("...\n").strip()


def _lines() -> Iterator[str]:
    body = manifest()
    yield f"# {HEADER}"
    yield f"apiVersion: {body['apiVersion']}"
    yield f"kind: {body['kind']}"
    yield "metadata:"
    for key, value in body["metadata"].items():
        yield f"  # {METADATA_COMMENTS[key]}"
        yield f"  {key}: {_scalar(value)}"
    yield "spec:"
    for key, value in body["spec"].items():
        yield f"  # {_description(model.EventTrackerSpec, key)}"
        if isinstance(value, dict | list) and key != "tags":
            yield f"  {key}: {json.dumps(value)}"  # flow style (JSON is YAML): one line, like a scalar
            continue
        if key != "tags":
            yield f"  {key}: {_scalar(value)}"
            continue
        yield "  tags:"
        for index, (tag_key, tag_value) in enumerate(value[0].items()):
            yield f"{'      ' if index else '    '}# {_description(model.Tag, tag_key)}"
            yield f"{'      ' if index else '    - '}{tag_key}: {_scalar(tag_value)}"


def render(fmt: Format | str) -> str:
    """The skeleton in `fmt`: commented YAML, JSON, or the AWS CLI's cli-input-json skeleton."""
    if fmt == "cli-input-json":
        return cli_shape.dumps(cli_shape.skeleton())
    if Format(fmt) is Format.JSON:
        return json.dumps(manifest(), indent=2) + "\n"
    return "\n".join(_lines()) + "\n"
