"""Fault injection: throttling, 500s, latency and dropped connections on demand.

Each rule fires for a fraction (`rate`) of the matching calls, optionally
only for some operations and only `count` times. The random source is
seedable, so a test that injects 30 % throttling sees the same calls
throttled on every run. Rules are checked in the order they were added; the
first that fires decides.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_ids = itertools.count(1)


class FaultKind(StrEnum):
    THROTTLE = "throttle"  # 400 ThrottlingException
    INTERNAL = "internal"  # 500 InternalFailure
    LATENCY = "latency"  # answer normally, `seconds` late
    DROP = "drop"  # close the connection without an answer
    ERROR = "error"  # answer any AWS error `code` with HTTP `status` (e.g. AccessDeniedException, 403)


@dataclass(kw_only=True)
class FaultRule:
    kind: FaultKind
    rate: float = 1.0
    operations: frozenset[str] | None = None  # None: every operation (the admin API is never faulted)
    count: int | None = None  # fire at most this many times; None: no limit
    seconds: float = 0.0  # for LATENCY
    code: str = ""  # for ERROR: the AWS error code answered
    status: int = 400  # for ERROR: the HTTP status answered
    message: str = ""  # for ERROR: the message answered (default: says it was injected)
    id: int = field(default_factory=lambda: next(_ids))
    fired: int = 0

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {self.rate}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be >= 0, not {self.count}")
        if self.seconds < 0:
            raise ValueError(f"seconds must be >= 0, not {self.seconds}")
        if self.kind is FaultKind.LATENCY and self.seconds == 0:
            raise ValueError("a latency fault needs seconds > 0")
        if self.kind is FaultKind.ERROR and not self.code:
            raise ValueError("an error fault needs a code, e.g. AccessDeniedException")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), not {self.status}")

    def applies_to(self, operation: str) -> bool:
        exhausted = self.count is not None and self.fired >= self.count
        return not exhausted and (self.operations is None or operation in self.operations)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "rate": self.rate,
            "operations": sorted(self.operations) if self.operations is not None else None,
            "count": self.count,
            "seconds": self.seconds,
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "fired": self.fired,
        }


class FaultInjector:
    """The active rules and the seeded random source; thread safe."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def seed(self, seed: int | None) -> None:
        with self._lock:
            self._random = random.Random(seed)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_json() for rule in self._rules]

    def pick(self, operation: str) -> FaultRule | None:
        """The rule that fires for this call, if any (and count it as fired)."""
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to(operation):
                    continue
                # Draw for every applicable rule, even at rate 1, so the sequence depends only on the seed and calls.
                if self._random.random() < rule.rate:
                    rule.fired += 1
                    return rule
            return None
