"""Printing manifests: YAML (default, with comment lines) or JSON (a v1 List when there are several).

Comments matter to people reading the output (why a tracker was skipped,
what a field means), so YAML carries them as `#` lines; JSON has no
comments, so callers send those to stderr instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml


class Format(StrEnum):
    YAML = "yaml"
    JSON = "json"


@dataclass(frozen=True)
class Document:
    """One object to print, with the comment lines that go above it in YAML."""

    body: dict[str, Any]
    comments: tuple[str, ...] = field(default_factory=tuple)


def comment_lines(comments: Sequence[str]) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in comments)


def to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=120)


def render(documents: Sequence[Document], fmt: Format, *, header: Sequence[str] = ()) -> str:
    """The text for stdout: YAML documents separated by `---` (header comments first), or JSON."""
    if fmt is Format.JSON:
        bodies = [document.body for document in documents]
        value: Any = bodies[0] if len(bodies) == 1 else {"apiVersion": "v1", "kind": "List", "items": bodies}
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    parts = [comment_lines(document.comments) + to_yaml(document.body) for document in documents]
    return comment_lines(header) + "---\n".join(parts)
