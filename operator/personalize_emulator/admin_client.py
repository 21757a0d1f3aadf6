"""`EmulatorAdmin`: the Python side of the /_emulator/ test-control API (stdlib urllib only).

The state it returns includes trackingIds, because tests need them; do not
print or log it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

FaultKindName = str  # "throttle" | "internal" | "latency" | "drop" | "error"


class AdminError(RuntimeError):
    """The admin API refused a request; the message is its explanation."""


class EmulatorAdmin:
    """Control a running emulator at `endpoint` (e.g. http://127.0.0.1:4566)."""

    def __init__(self, endpoint: str, *, timeout: float = 10.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    # -- reading ----------------------------------------------------------------------

    def health(self) -> bool:
        try:
            return bool(self._call("GET", "/health").get("ok"))
        except (OSError, AdminError):
            return False

    def state(self) -> dict[str, Any]:
        """Dataset groups, event trackers (tags, trackingId, eventsReceived), holds, failures, faults, config."""
        return self._object("GET", "/state")

    def dataset_groups(self) -> list[dict[str, Any]]:
        return list(self.state()["datasetGroups"])

    def trackers(self) -> list[dict[str, Any]]:
        return list(self.state()["eventTrackers"])

    def tracker(self, *, arn: str | None = None, name: str | None = None) -> dict[str, Any] | None:
        """The tracker with this ARN or name, or None."""
        for tracker in self.trackers():
            if (arn is None or tracker["arn"] == arn) and (name is None or tracker["name"] == name):
                return tracker
        return None

    def calls(self) -> dict[str, int]:
        """Calls per operation (every attempt, faulted or not) since start or the last reset."""
        return {key: int(value) for key, value in self._call("GET", "/calls").items()}

    def rate_limited(self) -> dict[str, int]:
        """Calls refused by the TPS limit, per operation (also counted in `calls`), since start or the last reset."""
        return {key: int(value) for key, value in self._call("GET", "/rate-limited").items()}

    def config(self) -> dict[str, Any]:
        return self._object("GET", "/config")

    # -- resetting and settings -------------------------------------------------------

    def reset(self) -> None:
        """Empty account, start-up settings, no faults, holds or planned failures, zero counts."""
        self._call("POST", "/reset")

    def reset_calls(self) -> None:
        self._call("DELETE", "/calls")

    def configure(
        self,
        *,
        transition_delay: float | None = None,
        tracker_quota: int | None = None,
        max_tags_per_resource: int | None = None,
        credential_duration: float | None = None,
        tps_limit: float | None = None,
    ) -> dict[str, Any]:
        changes = {
            "transitionDelay": transition_delay,
            "trackerQuota": tracker_quota,
            "maxTagsPerResource": max_tags_per_resource,
            "credentialDuration": credential_duration,
            "tpsLimit": tps_limit,
        }
        return self._object("POST", "/config", {k: v for k, v in changes.items() if v is not None})

    # -- faults -----------------------------------------------------------------------

    def add_fault(
        self,
        kind: FaultKindName,
        *,
        rate: float = 1.0,
        operations: Iterable[str] | None = None,
        count: int | None = None,
        seconds: float = 0.0,
        code: str = "",
        status: int = 400,
        message: str = "",
    ) -> dict[str, Any]:
        """Inject `kind` into a `rate` fraction of calls (of `operations`, at most `count` times)."""
        body = {
            "kind": kind,
            "rate": rate,
            "operations": list(operations) if operations is not None else None,
            "count": count,
            "seconds": seconds,
            "code": code,
            "status": status,
            "message": message,
        }
        return self._object("POST", "/faults", body)

    def throttle(self, **options: Any) -> dict[str, Any]:
        return self.add_fault("throttle", **options)

    def internal_failure(self, **options: Any) -> dict[str, Any]:
        return self.add_fault("internal", **options)

    def latency(self, seconds: float, **options: Any) -> dict[str, Any]:
        return self.add_fault("latency", seconds=seconds, **options)

    def drop_connections(self, **options: Any) -> dict[str, Any]:
        return self.add_fault("drop", **options)

    def error(self, code: str, status: int = 400, **options: Any) -> dict[str, Any]:
        """Answer `code` with HTTP `status`, e.g. error("AccessDeniedException", 403, operations=[...])."""
        return self.add_fault("error", code=code, status=status, **options)

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults"))

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def seed(self, seed: int | None) -> None:
        self._call("POST", "/seed", {"seed": seed})

    # -- holds, planned failures, out-of-band changes ---------------------------------

    def hold(
        self, status: str, *, arn: str | None = None, name_pattern: str | None = None, kind: str | None = None
    ) -> dict[str, Any]:
        """Stop matching resources (now or later created) in `status`, e.g. "CREATE IN_PROGRESS"."""
        return self._object("POST", "/holds", {"status": status, **_selector(arn, name_pattern, kind)})

    def release(
        self,
        *,
        hold_id: int | None = None,
        arn: str | None = None,
        name_pattern: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """Release one hold (by id), the holds made with exactly this selector, or, with no argument, all."""
        body: dict[str, Any] = {"id": hold_id} if hold_id is not None else _selector(arn, name_pattern, kind)
        return list(self._call("POST", "/holds/release", body)["released"])

    def fail_creation(
        self, *, reason: str, name_pattern: str | None = None, arn: str | None = None, kind: str | None = None
    ) -> dict[str, Any]:
        """Make the creation of matching resources end in CREATE FAILED with `reason`."""
        return self._object("POST", "/failures", {"reason": reason, **_selector(arn, name_pattern, kind)})

    def clear_failures(self) -> None:
        self._call("DELETE", "/failures")

    def delete_out_of_band(self, arn: str) -> None:
        """Make a resource vanish at once, as if deleted from the console."""
        self._call("POST", "/delete", {"arn": arn})

    def refuse_credentials(self, access_key_ids: Iterable[str]) -> list[str]:
        """Answer requests signed with these access key ids as invalid credentials (replaces the list)."""
        return list(self._call("POST", "/credentials", {"refused": list(access_key_ids)})["refused"])

    def sessions(self) -> list[dict[str, Any]]:
        """AssumeRole answers since start or reset: accessKeyId, roleArn, roleSessionName, accountId, expiration."""
        return list(self._object("GET", "/sessions")["sessions"])

    def attach_policies(
        self, policies: Iterable[dict[str, Any]], *, access_key_id: str | None = None, role_arn: str | None = None
    ) -> list[str]:
        """Replace the identity policies of an access key (an IAM user) or a role; [] detaches them all."""
        principal = {"accessKeyId": access_key_id} if access_key_id is not None else {"roleArn": role_arn}
        return list(self._object("POST", "/iam", {**principal, "policies": list(policies)})["policies"])

    def attached_policies(self) -> dict[str, list[dict[str, Any]]]:
        """Access key id or role ARN -> its policy documents."""
        return dict(self._object("GET", "/iam")["policies"])

    def accept_all_credentials(self) -> None:
        self.refuse_credentials(())

    # -- transport --------------------------------------------------------------------

    def _object(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self._call(method, path, body)
        if not isinstance(answer, dict):
            raise AdminError(f"{method} {path}: expected a JSON object, got {answer!r}")
        return answer

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.endpoint}/_emulator{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise AdminError(f"{method} {path}: HTTP {error.code}: {detail}") from error


def _selector(arn: str | None, name_pattern: str | None, kind: str | None) -> dict[str, Any]:
    return {k: v for k, v in {"arn": arn, "namePattern": name_pattern, "kind": kind}.items() if v is not None}
