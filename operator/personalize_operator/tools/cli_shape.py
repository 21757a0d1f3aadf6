"""The AWS CLI's input for `aws personalize create-event-tracker`, read from botocore's model.

Why botocore: `--generate-cli-skeleton` and `--cli-input-json` are both
derived by the AWS CLI from this input shape, so our skeleton, the keys we
accept and the keys we refuse follow botocore when AWS changes the API.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from personalize_operator.api.constraints import CREATE_OPERATION, SERVICE

CLI_JSON_INDENT = 4  # what the AWS CLI prints


@functools.cache
def input_shape() -> StructureShape:
    service = botocore.session.get_session().get_service_model(SERVICE)
    shape = service.operation_model(CREATE_OPERATION).input_shape
    assert isinstance(shape, StructureShape)
    return shape


def skeleton_value(shape: Shape) -> Any:
    """What `--generate-cli-skeleton input` prints for a shape: "" for strings, one element per list."""
    if isinstance(shape, StructureShape):
        return {name: skeleton_value(member) for name, member in shape.members.items()}
    if isinstance(shape, ListShape):
        return [skeleton_value(shape.member)]
    if isinstance(shape, MapShape):
        return {"KeyName": skeleton_value(shape.value)}
    return {"integer": 0, "long": 0, "float": 0.0, "double": 0.0, "boolean": True}.get(shape.type_name, "")


def skeleton() -> dict[str, Any]:
    return skeleton_value(input_shape())


def dumps(value: Any) -> str:
    """JSON as the AWS CLI writes it (4-space indent, keys in model order)."""
    return json.dumps(value, indent=CLI_JSON_INDENT, ensure_ascii=False) + "\n"


_JSON_TYPES = {"string": str, "list": list, "structure": dict, "map": dict, "boolean": bool}


def shape_problems(value: Any, shape: Shape, path: str) -> list[str]:
    """Unknown keys, missing required members and wrong JSON types, as the AWS CLI checks them."""
    expected = _JSON_TYPES.get(shape.type_name)
    if expected is not None and not isinstance(value, expected):
        return [f"{path or 'input'}: must be a JSON {shape.type_name}, not {type(value).__name__}"]
    problems: list[str] = []
    if isinstance(shape, StructureShape):
        known = list(shape.members)
        for key in value:
            if key not in shape.members:
                where = f"{path}.{key}" if path else key
                problems.append(f"{where}: unknown parameter in input, must be one of: {', '.join(known)}")
        for key in shape.required_members:
            if key not in value:
                where = f"{path}.{key}" if path else key
                problems.append(f"{where}: missing required parameter in input")
        for key, member in shape.members.items():
            if key in value:
                problems += shape_problems(value[key], member, f"{path}.{key}" if path else key)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            problems += shape_problems(item, shape.member, f"{path}[{index}]")
    return problems
