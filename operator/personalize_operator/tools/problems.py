"""pydantic validation errors as `field.path: constraint` lines, in the words the API server uses.

Why: the manifest is validated by the same model the CRD is rendered from,
so the messages of the CEL rules (model.py's constants) come out verbatim,
and the schema's own checks (lengths, list sizes, patterns, enums, required)
are phrased as the API server phrases them; the location is rewritten from
pydantic's tuple into the dotted path with [index] that kubectl prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pydantic

from personalize_operator.api import model

# Root-level rules (model.ROOT_VALIDATIONS) report a fieldPath; pydantic gives them no location.
_ROOT_FIELD = {
    model.METADATA_NAME_INVALID: "metadata.name",
    model.METADATA_NAME_TOO_LONG_FOR_SECRET: "metadata.name",
}
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
PATTERN_PREFIX = "must match "  # model._satisfying's message


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


def _quoted(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else json.dumps(value, default=str)


def api_server_words(error: Any, path: str) -> str:
    """What the API server says for the same violation of the CRD's OpenAPI schema (kubectl's output)."""
    kind, context, given = error["type"], error.get("ctx") or {}, error.get("input")
    text = message(error)
    if kind == "missing":
        return "Required value"
    if kind == "string_too_long":
        return f"Too long: may not be more than {context['max_length']} bytes"
    if kind == "string_too_short":
        return f"Invalid value: {_quoted(given)}: {path} in body should be at least {context['min_length']} chars long"
    if kind == "too_long":
        return f"Too many: {context.get('actual_length', '?')}: must have at most {context['max_length']} items"
    if kind == "too_short":
        return f"Too few: {context.get('actual_length', '?')}: must have at least {context['min_length']} items"
    if kind == "enum":
        supported = ", ".join(_quoted(option.strip("'")) for option in str(context.get("expected", "")).split(" or "))
        return f"Unsupported value: {_quoted(given)}: supported values: {supported}"
    if kind == "value_error" and text.startswith(PATTERN_PREFIX):
        return f"Invalid value: {_quoted(given)}: {path} in body should match '{text.removeprefix(PATTERN_PREFIX)}'"
    return text


def describe(error: pydantic.ValidationError, *, prefix: Sequence[str] = ()) -> list[str]:
    """One `path: constraint` line per error of `error`; locations are prefixed with `prefix`."""
    lines = []
    for item in error.errors():
        path = field_path([*prefix, *item["loc"]]) or _ROOT_FIELD.get(message(item), "")
        text = api_server_words(item, path)
        lines.append(f"{path}: {text}" if path else text)
    return lines
