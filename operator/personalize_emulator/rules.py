"""Test-control rules on resources: holds (stop in a status) and planned creation failures."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from personalize_emulator.lifecycle import Status

_ids = itertools.count(1)


class Kind(StrEnum):
    """The resource types the emulator keeps; the values are the ARN resource prefixes."""

    DATASET_GROUP = "dataset-group"
    EVENT_TRACKER = "event-tracker"


@dataclass(frozen=True, kw_only=True)
class Selector:
    """Which resources a rule applies to: by ARN, by name (full regex match), by kind; unset means any."""

    arn: str | None = None
    name_pattern: str | None = None
    kind: Kind | None = None

    def __post_init__(self) -> None:
        if self.name_pattern is not None:
            re.compile(self.name_pattern)

    def matches(self, *, kind: Kind, name: str, arn: str) -> bool:
        if self.kind is not None and self.kind is not kind:
            return False
        if self.arn is not None and self.arn != arn:
            return False
        return self.name_pattern is None or re.fullmatch(self.name_pattern, name) is not None

    def as_json(self) -> dict[str, Any]:
        return {"arn": self.arn, "namePattern": self.name_pattern, "kind": self.kind}


@dataclass(frozen=True, kw_only=True)
class Hold:
    """Keep matching resources in `status` until the hold is released."""

    status: Status
    selector: Selector
    id: int = 0

    def __post_init__(self) -> None:
        if self.status in (Status.ACTIVE, Status.CREATE_FAILED, Status.GONE):
            raise ValueError(f"only a transient status can be held, not {self.status}")
        if not self.id:
            object.__setattr__(self, "id", next(_ids))

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, **self.selector.as_json()}


@dataclass(frozen=True, kw_only=True)
class PlannedFailure:
    """Make the creation of matching resources end in CREATE FAILED with `reason`."""

    reason: str
    selector: Selector
    id: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", next(_ids))

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason, **self.selector.as_json()}
