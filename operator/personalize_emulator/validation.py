"""Input validation read from botocore's shapes, answered the way AWS answers.

Walks any input shape generically: required members, JSON types, string and
collection lengths (strings counted in code points, as Smithy specifies),
numeric ranges, enums and patterns (Java semantics, see `patterns`). All
violations are collected into one InvalidInputException whose message has
AWS's form:

    1 validation error detected: Value 'a.b' at 'name' failed to satisfy
    constraint: Member must satisfy regular expression pattern: ...

Values of sensitive members are left out of the message ("Value at 'x'"), as
AWS does. A value of the wrong JSON type is a SerializationException, which
is what AWS's front end answers before any constraint is looked at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from personalize_emulator import errors, patterns

REDACTED = "*** Sensitive Data Redacted ***"

_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}


@dataclass(frozen=True)
class Violation:
    """One broken constraint; `shown` is the quoted value, 'null', or None when sensitive."""

    path: str
    shown: str | None
    constraint: str

    def __str__(self) -> str:
        value = "Value" if self.shown is None else f"Value {self.shown}"
        return f"{value} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def validate(shape: StructureShape | None, params: Any) -> None:
    """Raise InvalidInputException (or SerializationException) unless `params` fits `shape`."""
    if shape is None:
        return
    violations = list(_structure(shape, params, path="", sensitive=False))
    if violations:
        raise errors.invalid_input(message(violations))


def message(violations: list[Violation]) -> str:
    count = len(violations)
    plural = "" if count == 1 else "s"
    return f"{count} validation error{plural} detected: " + "; ".join(str(v) for v in violations)


def precompile(operations: Iterable[OperationModel]) -> None:
    """Compile every pattern the operations' inputs use, so an unsupported one fails at start-up."""
    seen: set[str] = set()
    for operation in operations:
        if operation.input_shape is not None:
            _precompile(operation.input_shape, seen)


def _precompile(shape: Shape, seen: set[str]) -> None:
    if shape.name in seen:
        return
    seen.add(shape.name)
    if "pattern" in shape.metadata:
        patterns.compile_java(shape.metadata["pattern"])
    if isinstance(shape, StructureShape):
        for member in shape.members.values():
            _precompile(member, seen)
    elif isinstance(shape, ListShape):
        _precompile(shape.member, seen)
    elif isinstance(shape, MapShape):
        _precompile(shape.key, seen)
        _precompile(shape.value, seen)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_error(shape: Shape, value: Any, path: str) -> errors.ApiError:
    found = _JSON_TYPES.get(type(value), "null" if value is None else type(value).__name__)
    return errors.serialization(f"Unexpected {found} at '{path or 'input'}': expected {shape.type_name}")


def _check(shape: Shape, value: Any, path: str, sensitive: bool) -> Iterator[Violation]:
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        yield from _structure(shape, value, path, sensitive)
    elif isinstance(shape, ListShape):
        yield from _list(shape, value, path, sensitive)
    elif isinstance(shape, MapShape):
        yield from _map(shape, value, path, sensitive)
    elif kind == "string":
        yield from _string(shape, value, path, sensitive)
    elif kind in ("integer", "long", "float", "double"):
        yield from _number(shape, value, path, sensitive)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(shape, value, path)
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(shape, value, path)
    elif kind == "blob" and not isinstance(value, str):
        raise _type_error(shape, value, path)


def _structure(shape: StructureShape, value: Any, path: str, sensitive: bool) -> Iterator[Violation]:
    if not isinstance(value, dict):
        raise _type_error(shape, value, path)
    required = set(shape.required_members)
    for name, member in shape.members.items():
        member_path = _join(path, name)
        member_value = value.get(name)
        if member_value is None:
            if name in required:
                yield Violation(member_path, "null", "Member must not be null")
            continue
        yield from _check(member, member_value, member_path, sensitive)


def _list(shape: ListShape, value: Any, path: str, sensitive: bool) -> Iterator[Violation]:
    if not isinstance(value, list):
        raise _type_error(shape, value, path)
    member_checks = [_check(shape.member, item, f"{path}.{i}.member", sensitive) for i, item in enumerate(value, 1)]
    shown = None if sensitive else _quote(_render(shape, value))
    yield from _length(shape, len(value), path, shown)
    for checks in member_checks:
        yield from checks


def _map(shape: MapShape, value: Any, path: str, sensitive: bool) -> Iterator[Violation]:
    if not isinstance(value, dict):
        raise _type_error(shape, value, path)
    shown = None if sensitive else _quote(_render(shape, value))
    yield from _length(shape, len(value), path, shown)
    for key, item in value.items():
        yield from _check(shape.key, key, f"{path}.key", sensitive)
        yield from _check(shape.value, item, f"{path}.{key}", sensitive)


def _string(shape: Shape, value: Any, path: str, sensitive: bool) -> Iterator[Violation]:
    if not isinstance(value, str):
        raise _type_error(shape, value, path)
    shown = None if sensitive else _quote(value)
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        yield Violation(path, shown, f"Member must satisfy enum value set: [{', '.join(enum)}]")
    yield from _length(shape, len(value), path, shown)
    pattern = shape.metadata.get("pattern")
    if pattern is not None and not patterns.matches(pattern, value):
        yield Violation(path, shown, f"Member must satisfy regular expression pattern: {pattern}")


def _number(shape: Shape, value: Any, path: str, sensitive: bool) -> Iterator[Violation]:
    integral = shape.type_name in ("integer", "long")
    allowed = int if integral else int | float
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise _type_error(shape, value, path)
    shown = None if sensitive else _quote(str(value))
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield Violation(path, shown, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        yield Violation(path, shown, f"Member must have value less than or equal to {high}")


def _length(shape: Shape, length: int, path: str, shown: str | None) -> Iterator[Violation]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        yield Violation(path, shown, f"Member must have length greater than or equal to {low}")
    if high is not None and length > high:
        yield Violation(path, shown, f"Member must have length less than or equal to {high}")


def _quote(text: str) -> str:
    return f"'{text}'"


def _render(shape: Shape, value: Any) -> str:
    """Java-toString-like text of a value, with sensitive parts redacted."""
    if shape.metadata.get("sensitive"):
        return REDACTED
    if isinstance(shape, ListShape) and isinstance(value, list):
        return "[" + ", ".join(_render(shape.member, item) for item in value) + "]"
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(shape.value, v)}" for k, v in value.items()) + "}"
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        parts = [f"{name}={_render(member, value[name])}" for name, member in shape.members.items() if name in value]
        return f"{shape.name}(" + ", ".join(parts) + ")"
    return "null" if value is None else str(value)
