"""One settings object for a running emulator, checked once when it is made."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """What an emulator instance is told at start (and what `reset` returns to).

    host, port: where to listen; port 0 asks the kernel for a free one.
    account_id: the 12-digit account every resource belongs to.
    transition_delay: seconds each status transition takes (CREATE PENDING ->
        CREATE IN_PROGRESS -> ACTIVE, DELETE PENDING -> DELETE IN_PROGRESS ->
        gone); 0 makes creation and deletion immediate.
    tracker_quota: event trackers allowed per account and region (AWS quotas
        are regional); one more is LimitExceededException.
    max_tags_per_resource: tags a resource may carry; more is
        TooManyTagsException. AWS documents 50 for Personalize; the model's
        own list limit (200) is checked first and answers InvalidInputException.
    credential_duration: seconds the credentials STS AssumeRole issues last,
        whatever DurationSeconds asks (None: as asked, 3600 by default, like
        AWS). Short values let a test see credentials expire and botocore
        refresh them (botocore refreshes within 15 minutes of expiry, so any
        value under 900 makes every call refresh first).
    seed: seeds the random source of fault injection, for repeatable tests.
    tps_limit: calls per second allowed per API and region (AWS's request-rate
        limit, see `ratelimit`); more is LimitExceededException on the control
        plane, ThrottlingException on personalize-events. 0: no limit.
    iam_policy_files: `PRINCIPAL=FILE` entries, PRINCIPAL an access key id or a
        role ARN, FILE an IAM policy document attached to it at start (and
        after reset); see `iam_policies`. None attached: everything allowed.
    """

    host: str = "127.0.0.1"
    port: int = 0
    account_id: str = "123456789012"
    transition_delay: float = 1.0
    tracker_quota: int = 10
    max_tags_per_resource: int = 50
    seed: int | None = None
    credential_duration: float | None = None
    tps_limit: float = 0.0
    iam_policy_files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0-65535, not {self.port}")
        if not _ACCOUNT.fullmatch(self.account_id):
            raise ValueError(f"account_id must be 12 digits, not {self.account_id!r}")
        if self.transition_delay < 0:
            raise ValueError(f"transition_delay must be >= 0, not {self.transition_delay}")
        if self.tracker_quota < 0:
            raise ValueError(f"tracker_quota must be >= 0, not {self.tracker_quota}")
        if self.max_tags_per_resource < 0:
            raise ValueError(f"max_tags_per_resource must be >= 0, not {self.max_tags_per_resource}")
        if self.credential_duration is not None and self.credential_duration < 1:
            raise ValueError(f"credential_duration must be >= 1, not {self.credential_duration}")
        if self.tps_limit < 0:
            raise ValueError(f"tps_limit must be >= 0 (0: no limit), not {self.tps_limit}")

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with `changes` applied and validated again."""
        return dataclasses.replace(self, **changes)


# Names the admin API uses (camelCase, like the AWS APIs) for the settings it may change at run time.
RUNTIME_SETTINGS = {
    "transitionDelay": "transition_delay",
    "trackerQuota": "tracker_quota",
    "maxTagsPerResource": "max_tags_per_resource",
    "credentialDuration": "credential_duration",
    "tpsLimit": "tps_limit",
}
