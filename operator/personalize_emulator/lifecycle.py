"""The status state machine every Personalize resource goes through.

CREATE PENDING > CREATE IN_PROGRESS > ACTIVE (or CREATE FAILED), and
DELETE PENDING > DELETE IN_PROGRESS > gone. Each transition takes
`delay` seconds. Status is derived lazily: `advance(now)` replays the
transitions due since the last look, so the result depends only on the
timestamps and is the same whether anyone looked in between. A hold stops a
resource in one status until released; time in that status restarts then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    CREATE_PENDING = "CREATE PENDING"
    CREATE_IN_PROGRESS = "CREATE IN_PROGRESS"
    ACTIVE = "ACTIVE"
    CREATE_FAILED = "CREATE FAILED"
    DELETE_PENDING = "DELETE PENDING"
    DELETE_IN_PROGRESS = "DELETE IN_PROGRESS"
    GONE = "GONE"  # never shown: the resource no longer exists


CREATING = frozenset({Status.CREATE_PENDING, Status.CREATE_IN_PROGRESS})
DELETING = frozenset({Status.DELETE_PENDING, Status.DELETE_IN_PROGRESS})
SETTLED = frozenset({Status.ACTIVE, Status.CREATE_FAILED, Status.GONE})


@dataclass
class Lifecycle:
    """Where a resource is in the state machine, and since when (epoch seconds)."""

    status: Status
    since: float
    failure_reason: str | None = None  # set at creation when the creation is to fail

    @classmethod
    def created(cls, now: float, *, failure_reason: str | None = None) -> Lifecycle:
        return cls(status=Status.CREATE_PENDING, since=now, failure_reason=failure_reason)

    def advance(self, now: float, delay: float, held: Callable[[Status], bool]) -> None:
        """Apply every transition due by `now`, stopping at a held status."""
        while self.status not in SETTLED and not held(self.status):
            due = self.since + delay
            if now < due:
                return
            self.status = self._next()
            self.since = due

    def start_deletion(self, now: float) -> None:
        self.status = Status.DELETE_PENDING
        self.since = now

    def restart_clock(self, now: float) -> None:
        """Count the time in the current status from `now` (used when a hold is released)."""
        self.since = max(self.since, now)

    @property
    def visible_failure(self) -> str | None:
        """The failure reason, once the resource has actually failed."""
        return self.failure_reason if self.status is Status.CREATE_FAILED else None

    def _next(self) -> Status:
        if self.status is Status.CREATE_PENDING:
            return Status.CREATE_IN_PROGRESS
        if self.status is Status.CREATE_IN_PROGRESS:
            return Status.CREATE_FAILED if self.failure_reason else Status.ACTIVE
        if self.status is Status.DELETE_PENDING:
            return Status.DELETE_IN_PROGRESS
        return Status.GONE
