"""IAM condition operators: does one Condition block hold for a request context?

Pure functions, AWS's rules (IAM User Guide, "IAM JSON policy elements:
Condition operators" and "Evaluation logic"): operators are ANDed, keys within
an operator ANDed, values of one key ORed; a key missing from the context
makes a positive operator false, a negated one (`...Not...`) true, an
`...IfExists` operator true; `Null` tests presence; `ForAllValues:` holds on a
missing or empty set, `ForAnyValue:` does not. Keys compare case-insensitively,
values as the operator says.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

Context = Mapping[str, Sequence[str]]  # condition key (any case) -> its values


class PolicyError(ValueError):
    """A policy IAM would refuse to store (MalformedPolicyDocument)."""


@functools.cache
def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    translated = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(translated, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case=ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ARN matching segment by segment (a wildcard never crosses the first five colons)."""
    if pattern == "*":
        return True
    wanted, seen = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(seen) != 6:
        return like(pattern, value)
    return all(like(w, s) for w, s in zip(wanted, seen, strict=True))


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> float:
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _bool(text: str) -> str:
    return text.lower()


def _compare(convert: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> Callable[[str, str], bool]:
    def matches(wanted: str, seen: str) -> bool:
        try:
            return test(convert(seen), convert(wanted))
        except ValueError:
            return False

    return matches


def _ip(wanted: str, seen: str) -> bool:
    try:
        return ipaddress.ip_address(seen) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


# Positive operators: (policy value, context value) -> match. Each has a negated twin below.
_POSITIVE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda wanted, seen: wanted == seen,
    "StringEqualsIgnoreCase": lambda wanted, seen: wanted.lower() == seen.lower(),
    "StringLike": lambda wanted, seen: like(wanted, seen),
    "NumericEquals": _compare(_number, lambda a, b: a == b),
    "NumericLessThan": _compare(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _compare(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _compare(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _compare(_number, lambda a, b: a >= b),
    "DateEquals": _compare(_date, lambda a, b: a == b),
    "DateLessThan": _compare(_date, lambda a, b: a < b),
    "DateLessThanEquals": _compare(_date, lambda a, b: a <= b),
    "DateGreaterThan": _compare(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _compare(_date, lambda a, b: a >= b),
    "Bool": _compare(_bool, lambda a, b: a == b),
    "IpAddress": _ip,
    "ArnEquals": lambda wanted, seen: wanted == seen,
    "ArnLike": arn_like,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
SET_QUALIFIERS = ("ForAllValues", "ForAnyValue")


def _values(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    return [str(item).lower() if isinstance(item, bool) else str(item) for item in items]


def _lookup(context: Context, key: str) -> Sequence[str] | None:
    lowered = key.lower()
    for name, values in context.items():
        if name.lower() == lowered:
            return values
    return None


def parse_operator(operator: str) -> tuple[str | None, str, bool]:
    """`ForAnyValue:StringLikeIfExists` -> ("ForAnyValue", "StringLike", True); PolicyError when unknown."""
    qualifier, _, name = operator.rpartition(":")
    if qualifier and qualifier not in SET_QUALIFIERS:
        raise PolicyError(f"unknown condition qualifier {qualifier!r} in {operator!r}")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    if base not in _POSITIVE and base not in _NEGATED and base != "Null":
        raise PolicyError(f"unknown condition operator {operator!r}")
    return qualifier or None, base, if_exists


def operator_holds(operator: str, key: str, raw: Any, context: Context) -> bool:
    """Does `"operator": {"key": raw}` hold for this context?"""
    qualifier, base, if_exists = parse_operator(operator)
    wanted = _values(raw)
    seen = _lookup(context, key)
    if base == "Null":
        absent = seen is None or len(seen) == 0
        return any((value == "true") == absent for value in wanted)
    negated = base in _NEGATED
    match = _POSITIVE[_NEGATED.get(base, base)]
    if seen is None or (qualifier and not seen):
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def one(value: str) -> bool:
        hit = any(match(w, value) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(value) for value in seen)
    if qualifier == "ForAnyValue":
        return any(one(value) for value in seen)
    if negated:  # a single-valued key: no policy value matches it
        return all(one(value) for value in seen)
    return any(one(value) for value in seen)


def block_holds(condition: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    """Every operator, and every key of each, holds."""
    return all(
        operator_holds(operator, key, raw, context) for operator, keys in condition.items() for key, raw in keys.items()
    )


def condition_keys(condition: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [key for keys in condition.values() for key in keys]


def check(condition: Any) -> None:
    """PolicyError unless `condition` is a valid Condition block."""
    if not isinstance(condition, Mapping):
        raise PolicyError("Condition must be an object")
    for operator, keys in condition.items():
        parse_operator(operator)
        if not isinstance(keys, Mapping):
            raise PolicyError(f"Condition {operator!r} must map keys to values")


__all__ = ["Context", "PolicyError", "arn_like", "block_holds", "check", "condition_keys", "like"]
