"""The Personalize client: four idempotent verbs and a handful of errors.

Contract, in crossplane-runtime's terms:
- `describe` and `find_in_dataset_group` only read; a missing tracker is None.
- `create` returns the new ARN (never the trackingId: nobody may use it
  before the tracker is ACTIVE). The client keeps the answer's trackingId
  in memory (`take_created`), so that once the status board has seen the
  tracker ACTIVE no Describe is needed to write the Secret.
- `delete` treats "not found" as success.
- `tag` / `untag` change only the keys given.
botocore exceptions are translated here, at the boundary, into the taxonomy
of errors.py that the reconciler decides on; nothing in this module touches
Kubernetes.

Clients are built once per region and identity (the operator's own, or a
tenant's role assumed through STS; botocore clients are thread safe once made)
and reach the endpoint from the default chain, so AWS_ENDPOINT_URL_PERSONALIZE
(and AWS_ENDPOINT_URL_STS) are the only way the emulator is selected.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session

from personalize_operator.api import arns
from personalize_operator.aws import errors
from personalize_operator.aws.errors import (
    AccessDenied,
    AwsError,
    InvalidInput,
    NotFound,
    Retryable,
)
from personalize_operator.aws.ratelimit import Bounds, CallBudget
from personalize_operator.aws.tracker import PAGE_SIZE, RemoteTracker, Sighting
from personalize_operator.runtime import metrics

__all__ = ["ClientPool", "Identity", "TrackerClient", "translate"]


def translate(error: Exception, operation: str) -> AwsError:
    """Map a botocore exception onto the taxonomy in errors.py."""
    if isinstance(error, botocore.exceptions.ClientError):
        code = str(error.response.get("Error", {}).get("Code", "") or "Unknown")
        message = str(error.response.get("Error", {}).get("Message", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return errors.make(code, message, operation, status)
    if isinstance(error, botocore.exceptions.ParamValidationError):
        return InvalidInput("ParamValidationError", str(error.kwargs.get("report", error)), operation)
    if isinstance(error, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError):
        return AccessDenied("NoCredentials", "no AWS credentials found in the default chain", operation)
    return Retryable(type(error).__name__, "connection failed or timed out", operation)


@dataclass
class TrackerClient:
    """The Personalize calls the operator makes, for one region."""

    client: Any
    budget: CallBudget | None = None  # the account and region's call budget (aws/ratelimit.py)
    # ARN -> (trackingId, dataset group ARN) from CreateEventTracker answers not yet used: credentials, never shown.
    _created: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _created_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def secure_call(self) -> None:
        """Take the next call's token now (before a write that only makes sense if the call goes out)."""
        if self.budget is not None:
            self.budget.secure()

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        method = getattr(self.client, botocore.xform_name(operation))
        started = time.monotonic()
        try:
            result: dict[str, Any] = method(**kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            raise _failed(operation, error, started) from error
        _succeeded(operation, started)
        return result

    def _pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """botocore's paginator for `operation`, PAGE_SIZE a page, each page counted and translated like a call."""
        pages = iter(
            self.client.get_paginator(botocore.xform_name(operation)).paginate(
                **kwargs, PaginationConfig={"PageSize": PAGE_SIZE}
            )
        )
        while True:
            started = time.monotonic()
            try:
                page: dict[str, Any] = next(pages)
            except StopIteration:
                return
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
                raise _failed(operation, error, started) from error
            _succeeded(operation, started)
            yield page

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
            account_id=found.get("accountId") or arns.account_of(found["eventTrackerArn"]),
            tracking_id=found.get("trackingId", ""),
            tags=tags,
            failure_reason=found.get("failureReason", ""),
        )

    def list_arns(self, dataset_group_arn: str) -> Iterator[str]:
        """ARNs of the dataset group's trackers (at most one in practice, paginated anyway)."""
        for page in self._pages("ListEventTrackers", datasetGroupArn=dataset_group_arn):
            for summary in page.get("eventTrackers", []):
                yield summary["eventTrackerArn"]

    def sightings(self) -> Iterator[Sighting]:
        """Every tracker of the region with its status: ListEventTrackers without a filter, 100 per page.

        The status boards' list (aws/statusboard.py): each page read is counted as one of theirs.
        """
        pages = metrics.STATUS_BOARD_LISTS.labels(region=self.client.meta.region_name)
        for page in self._pages("ListEventTrackers"):
            pages.inc()
            for summary in page.get("eventTrackers", []):
                yield Sighting(arn=summary["eventTrackerArn"], name=summary.get("name", ""), status=summary["status"])

    def find_in_dataset_group(self, dataset_group_arn: str) -> list[RemoteTracker]:
        """Every tracker in the dataset group, with tags, so ownership can be read."""
        found = (self.describe(arn, with_tags=True) for arn in self.list_arns(dataset_group_arn))
        return [tracker for tracker in found if tracker is not None]

    def create(self, *, name: str, dataset_group_arn: str, tags: Mapping[str, str]) -> str:
        """Create the tracker; returns its ARN. The answer's trackingId stays in this client (`created`)."""
        answer = self._call(
            "CreateEventTracker",
            name=name,
            datasetGroupArn=dataset_group_arn,
            tags=[{"tagKey": k, "tagValue": v} for k, v in sorted(tags.items())],
        )
        arn = str(answer["eventTrackerArn"])
        if answer.get("trackingId"):
            with self._created_lock:
                self._created[arn] = (str(answer["trackingId"]), dataset_group_arn)
        return arn

    def created(self, arn: str) -> tuple[str, str] | None:
        """(trackingId, dataset group ARN) from this process's CreateEventTracker answer for `arn`, if kept."""
        with self._created_lock:
            return self._created.get(arn)

    def forget_created(self, arn: str) -> None:
        with self._created_lock:
            self._created.pop(arn, None)

    def may_exist(self, name: str) -> bool:
        """Without a status board no list is at hand: any name may exist (the pass looks in its dataset group)."""
        return True

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


def _failed(operation: str, error: Exception, started: float) -> AwsError:
    """A failed AWS request: counted by its error code and timed, translated into our taxonomy."""
    translated = translate(error, operation)
    _counted(operation, translated.code, started)
    return translated


def _succeeded(operation: str, started: float) -> None:
    _counted(operation, "Success", started)


def _counted(operation: str, outcome: str, started: float) -> None:
    """The call in aws_calls_total and its time (from `started`, monotonic) in aws_call_duration_seconds."""
    metrics.AWS_CALLS.labels(operation=operation, outcome=outcome).inc()
    metrics.AWS_CALL_DURATION.labels(operation=operation).observe(time.monotonic() - started)


ONCE_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=5
)


ROLE_SESSION_NAME_LIMIT = 64
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def session_name(namespace: str) -> str:
    """A RoleSessionName (2-64 of [\\w+=,.@-]) naming the namespace the calls are made for (seen in CloudTrail)."""
    name = _SESSION_NAME_CHARS.sub("-", f"personalize-operator@{namespace}")
    if len(name) <= ROLE_SESSION_NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: ROLE_SESSION_NAME_LIMIT - 9]}-{digest}"


@dataclass(frozen=True)
class Identity:
    """An IAM role to assume (from the tenancy map); None in the pool means the operator's own identity."""

    role_arn: str
    external_id: str | None = None
    session_name: str = "personalize-operator"


class _AssumedRole(botocore.credentials.CredentialProvider):
    """Hands botocore's own refreshing assume-role credentials to a session (no refresh logic of ours)."""

    METHOD = "assume-role"
    CANONICAL_NAME = "personalize-operator-assume-role"

    def __init__(self, credentials: botocore.credentials.Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> botocore.credentials.Credentials:
        return self._credentials


def _counting_failures(role_arn: str, fetch: Callable[[], Any]) -> Callable[[], Any]:
    """botocore's AssumeRole fetch, each failure counted by role and error code (then raised as before)."""

    def fetch_counted() -> Any:
        try:
            return fetch()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            code = translate(error, "AssumeRole").code
            metrics.ASSUME_ROLE_FAILURES.labels(role_arn=role_arn, code=code).inc()
            raise

    return fetch_counted


class ClientPool:
    """One boto3 client per (identity, region), built lazily, shared by every handler thread.

    `once=True` gives the region's single-attempt client with short timeouts,
    for best-effort calls that must never hold anything up (releasing a
    retained tracker). An `Identity` is reached through STS AssumeRole with
    botocore's AssumeRoleCredentialFetcher and DeferredRefreshableCredentials:
    botocore refreshes them before they expire (docs/iam.md), and STS is
    reached like any service (AWS_ENDPOINT_URL_STS selects the emulator).

    Every attempt a region's clients make (botocore's retries included) first
    takes a token from that account and region's budget (ratelimit.py), which
    adapts to every answer; each client holds as many connections as there are
    threads that may call it at once.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        call_rate_ceiling: float = 50.0,
        call_rate_floor: float = 1.0,
        burst: int = 2,
        max_pool_connections: int = 20,
    ) -> None:
        self._config = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            user_agent_extra="personalize-operator",
        )
        self._base = botocore.session.get_session()
        self._clients: dict[tuple[str, bool, Identity | None], TrackerClient] = {}
        self._lock = threading.RLock()  # botocore sessions are not thread safe: clients are built under it
        self._bounds = Bounds(floor=call_rate_floor, ceiling=call_rate_ceiling)
        self._burst = burst
        self._budgets: dict[tuple[str, str | None], CallBudget] = {}

    def for_region(self, region: str, *, once: bool = False, identity: Identity | None = None) -> TrackerClient:
        """The client for this region and identity; a region botocore refuses is InvalidInput, never a traceback."""
        key = (region, once, identity)
        with self._lock:
            if key not in self._clients:
                config = self._config.merge(ONCE_CONFIG) if once else self._config
                try:
                    session = self._base if identity is None else self._assumed(identity, region)
                    client = session.create_client("personalize", region_name=region, config=config)
                except (botocore.exceptions.BotoCoreError, ValueError) as error:
                    raise InvalidInput(
                        "InvalidRegion", f"cannot build a Personalize client for region {region!r}: {error}", "Client"
                    ) from error
                budget = self.budget(region, identity)
                client.meta.events.register("before-send.personalize", budget.before_send)
                client.meta.events.register("needs-retry.personalize", budget.answered)
                self._clients[key] = TrackerClient(client=client, budget=budget)
            return self._clients[key]

    def budget(self, region: str, identity: Identity | None = None) -> CallBudget:
        """The call budget of the identity's account in `region` (one per account and region)."""
        account = identity.role_arn if identity is not None else None
        with self._lock:
            if (region, account) not in self._budgets:
                gauge = metrics.AWS_CALL_BUDGET.labels(region=region, account=arns.account_of(account or "") or "own")
                waits = metrics.AWS_CALL_BUDGET_WAIT.labels(region=region)
                self._budgets[region, account] = CallBudget(
                    self._bounds, self._burst, on_rate=gauge.set, on_wait=waits.observe
                )
            return self._budgets[region, account]

    def _create_sts(self, region: str, service: str, **kwargs: Any) -> Any:
        """STS clients for refreshes, made in whichever thread needs credentials."""
        with self._lock:
            return self._base.create_client(service, region_name=region, config=self._config, **kwargs)

    def _assumed(self, identity: Identity, region: str) -> botocore.session.Session:
        """A botocore session whose credentials are the role's, refreshed by botocore; STS called in `region`."""
        source = self._base.get_credentials()
        if source is None:
            raise AccessDenied("NoCredentials", "no AWS credentials to assume a role with", "AssumeRole")
        extra: dict[str, Any] = {"RoleSessionName": identity.session_name}
        if identity.external_id:
            extra["ExternalId"] = identity.external_id
        fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
            client_creator=functools.partial(self._create_sts, region),
            source_credentials=source,
            role_arn=identity.role_arn,
            extra_args=extra,
        )
        credentials = botocore.credentials.DeferredRefreshableCredentials(
            refresh_using=_counting_failures(identity.role_arn, fetcher.fetch_credentials), method=_AssumedRole.METHOD
        )
        session = botocore.session.Session()
        session.register_component("data_loader", self._base.get_component("data_loader"))
        session.register_component(
            "credential_provider", botocore.credentials.CredentialResolver([_AssumedRole(credentials)])
        )
        return session
