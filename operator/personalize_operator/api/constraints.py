"""Input constraints of Amazon Personalize, read from botocore's service model.

Why: the API server should refuse what AWS would refuse, and the limits must
follow botocore when AWS changes them, so nothing here is copied by hand.
AWS writes its patterns as Java regular expressions meant as whole-string
matches; `to_re2` turns one into the anchored RE2 form that both the
Kubernetes API server (Go regexp, an unanchored search) and the `regex`
module (used for validation in Python) read the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import regex

SERVICE = "personalize"
CREATE_OPERATION = "CreateEventTracker"

# Java constructs RE2 lacks; meeting one means a human must look at the new pattern.
_UNSUPPORTED_GROUPS = ("(?=", "(?!", "(?<", "(?>")  # lookaround, atomic; (?< also catches Java named groups
_UNSUPPORTED_ESCAPES = frozenset("123456789QEGZkhHvVRXuec")
_QUANTIFIERS = frozenset("*+?}")
_PROPERTY = regex.compile(r"\\[pP](\{[A-Z][a-z]?\}|[A-Z])")  # general categories only: \p{L}, \p{Nd}, \pL


@dataclass(frozen=True)
class StringConstraint:
    """Length and pattern limits of one string member, as botocore states them."""

    shape: str
    min_length: int | None
    max_length: int | None
    java_pattern: str | None

    @functools.cached_property
    def pattern(self) -> str | None:
        """The pattern in RE2 syntax, anchored at both ends (what AWS means)."""
        return to_re2(self.java_pattern) if self.java_pattern is not None else None

    @functools.cached_property
    def _compiled(self) -> regex.Pattern[str] | None:
        return regex.compile(self.pattern) if self.pattern is not None else None

    def matches_pattern(self, value: str) -> bool:
        """True when `value` is a whole-string match of the pattern (or there is none)."""
        return self._compiled is None or self._compiled.fullmatch(value) is not None

    def problem(self, value: str) -> str | None:
        """Why AWS would refuse `value`, or None when it satisfies every limit."""
        if self.min_length is not None and len(value) < self.min_length:
            return f"must be at least {self.min_length} characters long"
        if self.max_length is not None and len(value) > self.max_length:
            return f"must be at most {self.max_length} characters long"
        if not self.matches_pattern(value):
            return f"must match {self.pattern}"
        return None


@dataclass(frozen=True)
class ListConstraint:
    """Size limits of one list member."""

    shape: str
    min_items: int | None
    max_items: int | None


def _escape_end(pattern: str, start: int) -> int:
    """Index just past the escape at `start` (\\p{L} and \\pL are one token)."""
    if pattern[start + 1 : start + 3] in ("p{", "P{"):
        return pattern.index("}", start) + 1
    return start + (3 if pattern[start + 1 : start + 2] in ("p", "P") else 2)


def _tokens(pattern: str) -> Iterator[tuple[str, bool, int]]:
    """Yield (token, inside a character class, group depth); brackets of a class count as outside it."""
    i, in_class, depth = 0, False, 0
    while i < len(pattern):
        end = _escape_end(pattern, i) if pattern[i] == "\\" else i + 1
        token = pattern[i:end]
        if token == "]" and in_class:
            in_class = False
        elif not in_class:
            depth += {"(": 1, ")": -1}.get(token, 0)
        yield token, in_class, depth
        if token == "[" and not in_class:
            in_class = True
        i = end


def _check_re2(pattern: str) -> None:
    """Raise ValueError on Java syntax RE2 (the API server's engine) cannot read."""
    if any(group in pattern for group in _UNSUPPORTED_GROUPS):
        raise ValueError(f"pattern {pattern!r} uses lookaround or atomic groups, which RE2 lacks")
    previous = ""
    for token, in_class, _ in _tokens(pattern):
        if token.startswith("\\") and token[1:2] in _UNSUPPORTED_ESCAPES:
            raise ValueError(f"pattern {pattern!r} uses {token}, which RE2 lacks")
        if token[:2] in ("\\p", "\\P") and not _PROPERTY.fullmatch(token):
            raise ValueError(f"pattern {pattern!r} uses {token}; RE2 knows only Unicode general categories")
        if in_class and (token == "[" or (token == "&" and previous == "&")):
            raise ValueError(f"pattern {pattern!r} nests or intersects character classes, which RE2 lacks")
        if token == "+" and not in_class and previous in _QUANTIFIERS:
            raise ValueError(f"pattern {pattern!r} uses a possessive quantifier, which RE2 lacks")
        previous = token


def _portable(token: str, in_class: bool) -> str:
    """Java's \\d is ASCII-only; spell it out so Python's Unicode-aware engine agrees."""
    if token == "\\d":
        return "0-9" if in_class else "[0-9]"
    return token


def to_re2(java_pattern: str) -> str:
    """Translate an AWS (Java, whole-match) pattern into an anchored RE2 pattern."""
    _check_re2(java_pattern)
    body = java_pattern.removeprefix("^")
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    tokens = list(_tokens(body))
    alternation = any(token == "|" and not in_class and depth == 0 for token, in_class, depth in tokens)
    body = "".join(_portable(token, in_class) for token, in_class, _ in tokens)
    return f"^(?:{body})$" if alternation else f"^{body}$"


@functools.cache
def _create_input() -> Any:
    service = botocore.session.get_session().get_service_model(SERVICE)
    return service.operation_model(CREATE_OPERATION).input_shape


def _string(shape: Any) -> StringConstraint:
    meta = shape.metadata
    return StringConstraint(shape.name, meta.get("min"), meta.get("max"), meta.get("pattern"))


def _list(shape: Any) -> ListConstraint:
    meta = shape.metadata
    return ListConstraint(shape.name, meta.get("min"), meta.get("max"))


def create_input_required() -> frozenset[str]:
    """Members CreateEventTracker requires (name among them: we default it)."""
    return frozenset(_create_input().required_members)


def tag_required() -> frozenset[str]:
    """Members every Tag requires."""
    return frozenset(_create_input().members["tags"].member.required_members)


NAME = _string(_create_input().members["name"])
DATASET_GROUP_ARN = _string(_create_input().members["datasetGroupArn"])
TAGS = _list(_create_input().members["tags"])
TAG_KEY = _string(_create_input().members["tags"].member.members["tagKey"])
TAG_VALUE = _string(_create_input().members["tags"].member.members["tagValue"])

# Amazon Personalize allows at most 50 tags per resource ("Tagging Amazon Personalize resources", tag
# restrictions); botocore's Tags list allows 200 per request, so the per-resource limit is not in the model.
TAGS_PER_RESOURCE_MAX = 50


@functools.cache
def partition_region_patterns() -> dict[str, str]:
    """Partition id -> its region pattern (RE2 body, unanchored), from botocore's partitions data.

    botocore writes `\\w` (Unicode-aware in Python, ASCII in Go); every real region is lower-case
    letters and digits, so it becomes [a-z0-9] and both engines agree.
    """
    data = botocore.session.get_session().get_data("partitions")
    patterns = {}
    for partition in data["partitions"]:
        body = partition["regionRegex"].removeprefix("^").removesuffix("$")
        patterns[partition["id"]] = body.replace("\\w", "[a-z0-9]").replace("\\-", "-")
    return patterns


# Kubernetes' own rules (k8s.io/apimachinery): Secret names, and metav1.Condition's fields.
DNS1123_SUBDOMAIN_MAX = 253
DNS1123_SUBDOMAIN = StringConstraint(
    shape="DNS1123Subdomain",
    min_length=1,
    max_length=DNS1123_SUBDOMAIN_MAX,
    java_pattern=r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
)
CONDITION_TYPE = StringConstraint(
    shape="ConditionType",
    min_length=None,
    max_length=316,
    java_pattern=r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])",
)
CONDITION_REASON = StringConstraint(
    shape="ConditionReason", min_length=1, max_length=1024, java_pattern=r"[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?"
)
CONDITION_MESSAGE = StringConstraint(shape="ConditionMessage", min_length=None, max_length=32768, java_pattern=None)
# A key of a Secret's or ConfigMap's data (k8s.io/apimachinery IsConfigMapKey; "." and ".." are refused too).
CONFIG_MAP_KEY = StringConstraint(shape="ConfigMapKey", min_length=1, max_length=253, java_pattern=r"[-._a-zA-Z0-9]+")
# A label value: at most 63 characters, alphanumeric at both ends.
LABEL_VALUE = StringConstraint(
    shape="LabelValue", min_length=None, max_length=63, java_pattern=r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
)
# A label or annotation key: an optional DNS-subdomain prefix (at most 253) and a name of at most 63 characters.
QUALIFIED_NAME = StringConstraint(
    shape="QualifiedName",
    min_length=1,
    max_length=DNS1123_SUBDOMAIN_MAX + 1 + 63,
    java_pattern=r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]",
)
