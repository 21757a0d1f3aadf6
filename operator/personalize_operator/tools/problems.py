"""pydantic validation errors as `field.path: constraint` lines, in the words the API server uses.

Why: the manifest is validated by the same model the CRD is rendered from,
so the messages of the CEL rules (model.py's constants) come out verbatim;
only the location is rewritten from pydantic's tuple into the dotted path
with [index] that kubectl prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pydantic

from personalize_operator import model

# Root-level rules (model.ROOT_VALIDATIONS) report a fieldPath; pydantic gives them no location.
_ROOT_FIELD = {
    model.METADATA_NAME_INVALID: "metadata.name",
    model.METADATA_NAME_TOO_LONG_FOR_SECRET: "metadata.name",
}
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_path(location: Iterable[Any]) -> str:
    """("spec", "tags", 3, "tagKey") -> "spec.tags[3].tagKey"."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def message(error: Any) -> str:
    """pydantic's message without its 'Value error, ' prefix, so model.py's constants read as the CRD's."""
    text = str(error["msg"])
    for prefix in _PYDANTIC_PREFIXES:
        text = text.removeprefix(prefix)
    return text


def describe(error: pydantic.ValidationError, *, prefix: Sequence[str] = ()) -> list[str]:
    """One `path: constraint` line per error of `error`; locations are prefixed with `prefix`."""
    lines = []
    for item in error.errors():
        text = message(item)
        path = field_path([*prefix, *item["loc"]]) or _ROOT_FIELD.get(text, "")
        if item["type"] == "missing":
            text = "Required value"
        elif item["type"] == "extra_forbidden":
            text = "unknown field"
        lines.append(f"{path}: {text}" if path else text)
    return lines
