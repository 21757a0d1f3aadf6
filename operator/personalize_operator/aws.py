"""The Personalize client: four idempotent verbs and a handful of errors.

Contract, in crossplane-runtime's terms:
- `describe` and `find_in_dataset_group` only read; a missing tracker is None.
- `create` returns the new ARN (never the trackingId: it is read from an
  ACTIVE tracker only, so that nobody can use it early).
- `delete` treats "not found" as success.
- `tag` / `untag` change only the keys given.
botocore `ClientError`s are translated here, at the boundary, into the few
errors the reconciler decides on; nothing in this module touches Kubernetes.

Clients are built once per region (boto3 clients are thread safe once made)
and reach the endpoint from the default chain, so AWS_ENDPOINT_URL_PERSONALIZE
is the only way the emulator is selected.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from personalize_operator import metrics

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


class AwsError(Exception):
    """A failed Personalize call; `code` is AWS's error code, `message` is safe to show."""

    def __init__(self, code: str, message: str, operation: str) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation


class Retryable(AwsError):
    """Throttling, 5xx, timeouts: try again later; state is unchanged."""


class NotFound(AwsError):
    """ResourceNotFoundException: the tracker or the dataset group does not exist."""


class AlreadyExists(AwsError):
    """ResourceAlreadyExistsException: a tracker of that name, or in that dataset group, exists."""


class InUse(AwsError):
    """ResourceInUseException: the tracker is busy (still being created, or being deleted)."""


class InvalidInput(AwsError):
    """InvalidInputException and other client errors a spec change must fix."""


class Refused(AwsError):
    """Access denied, quota (LimitExceeded), too many tags: a user or admin must act."""


_BY_CODE: dict[str, type[AwsError]] = {
    "ResourceNotFoundException": NotFound,
    "ResourceAlreadyExistsException": AlreadyExists,
    "ResourceInUseException": InUse,
    "InvalidInputException": InvalidInput,
    "ValidationException": InvalidInput,
    "InvalidNextTokenException": InvalidInput,
    "LimitExceededException": Refused,
    "TooManyTagsException": Refused,
    "TooManyTagKeysException": Refused,
    "AccessDeniedException": Refused,
    "UnrecognizedClientException": Refused,
    "InvalidSignatureException": Refused,
    "ExpiredTokenException": Refused,
}


def translate(error: Exception, operation: str) -> AwsError:
    """Map a botocore exception onto our error classes."""
    if isinstance(error, botocore.exceptions.ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        message = str(error.response.get("Error", {}).get("Message", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in RETRYABLE_CODES or status >= 500:
            return Retryable(code, message, operation)
        return _BY_CODE.get(code, InvalidInput)(code, message, operation)
    if isinstance(error, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError):
        return Refused("NoCredentials", "no AWS credentials found in the default chain", operation)
    return Retryable(type(error).__name__, "connection failed or timed out", operation)


@dataclass(frozen=True)
class RemoteTracker:
    """What DescribeEventTracker (and ListTagsForResource) said about one tracker."""

    arn: str
    name: str
    status: str
    dataset_group_arn: str
    account_id: str = ""
    tracking_id: str = field(default="", repr=False)  # a write credential: never in repr or logs
    tags: Mapping[str, str] = field(default_factory=dict)
    failure_reason: str = ""


@dataclass
class TrackerClient:
    """The Personalize calls the operator makes, for one region."""

    client: Any

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        method = getattr(self.client, _snake(operation))
        try:
            result: dict[str, Any] = method(**kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            translated = translate(error, operation)
            metrics.AWS_CALLS.labels(operation=operation, outcome=translated.code).inc()
            raise translated from error
        metrics.AWS_CALLS.labels(operation=operation, outcome="Success").inc()
        return result

    def describe(self, arn: str, *, with_tags: bool = False) -> RemoteTracker | None:
        """The tracker at `arn`, or None when it does not exist (any more)."""
        try:
            found = self._call("DescribeEventTracker", eventTrackerArn=arn)["eventTracker"]
            tags = self.tags(arn) if with_tags else {}
        except NotFound:
            return None
        return RemoteTracker(
            arn=found["eventTrackerArn"],
            name=found.get("name", ""),
            status=found.get("status", ""),
            dataset_group_arn=found.get("datasetGroupArn", ""),
            account_id=found.get("accountId", ""),
            tracking_id=found.get("trackingId", ""),
            tags=tags,
            failure_reason=found.get("failureReason", ""),
        )

    def list_arns(self, dataset_group_arn: str) -> Iterator[str]:
        """ARNs of the dataset group's trackers (at most one in practice, paginated anyway)."""
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"datasetGroupArn": dataset_group_arn, "maxResults": 100}
            if token:
                kwargs["nextToken"] = token
            page = self._call("ListEventTrackers", **kwargs)
            for summary in page.get("eventTrackers", []):
                yield summary["eventTrackerArn"]
            token = page.get("nextToken")
            if not token:
                return

    def find_in_dataset_group(self, dataset_group_arn: str) -> list[RemoteTracker]:
        """Every tracker in the dataset group, with tags, so ownership can be read."""
        found = (self.describe(arn, with_tags=True) for arn in self.list_arns(dataset_group_arn))
        return [tracker for tracker in found if tracker is not None]

    def create(self, *, name: str, dataset_group_arn: str, tags: Mapping[str, str]) -> str:
        """Create the tracker; returns its ARN. The trackingId in the answer is dropped on purpose."""
        answer = self._call(
            "CreateEventTracker",
            name=name,
            datasetGroupArn=dataset_group_arn,
            tags=[{"tagKey": k, "tagValue": v} for k, v in sorted(tags.items())],
        )
        return str(answer["eventTrackerArn"])

    def delete(self, arn: str) -> None:
        """Ask for deletion; an already-missing tracker counts as deleted."""
        try:
            self._call("DeleteEventTracker", eventTrackerArn=arn)
        except NotFound:
            return

    def tags(self, arn: str) -> dict[str, str]:
        answer = self._call("ListTagsForResource", resourceArn=arn)
        return {t["tagKey"]: t.get("tagValue", "") for t in answer.get("tags", [])}

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        if tags:
            self._call(
                "TagResource", resourceArn=arn, tags=[{"tagKey": k, "tagValue": v} for k, v in sorted(tags.items())]
            )

    def untag(self, arn: str, keys: list[str]) -> None:
        if keys:
            self._call("UntagResource", resourceArn=arn, tagKeys=sorted(keys))


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


class ClientPool:
    """One boto3 client per region, built lazily, shared by every handler thread."""

    def __init__(self, *, max_attempts: int = 5, connect_timeout: float = 5.0, read_timeout: float = 30.0) -> None:
        self._config = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="personalize-operator",
        )
        self._session = boto3.session.Session()
        self._clients: dict[str, TrackerClient] = {}
        self._lock = threading.Lock()

    def for_region(self, region: str) -> TrackerClient:
        with self._lock:
            if region not in self._clients:
                client = self._session.client("personalize", region_name=region, config=self._config)
                self._clients[region] = TrackerClient(client=client)
            return self._clients[region]
