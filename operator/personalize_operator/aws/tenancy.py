"""The tenancy map: which namespaces may use which dataset groups, and under which AWS identity.

Owned by the platform team (a file, usually a ConfigMap mount at
PERSONALIZE_OPERATOR_TENANCY_FILE), never by namespace editors: an
EventTracker cannot name a role or widen its own rights. Without a file the
operator uses its own identity for every namespace and any dataset group
(docs/install.md). `resolve` is pure, so every rule is a table test
(tests/unit/test_tenancy.py); `TenancySource` re-reads the file when it
changes and keeps the last good map when the new one is malformed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field

from personalize_operator.api import arns
from personalize_operator.runtime import metrics

log = logging.getLogger(__name__)

ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$"
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_+=,.@:/-]+$"  # STS's own pattern, 2-1224 characters
ARN_SEGMENTS = 6  # arn:partition:service:region:account:resource


def _arn_glob(value: str) -> str:
    if len(value.split(":", ARN_SEGMENTS - 1)) != ARN_SEGMENTS or not value.startswith("arn:"):
        raise ValueError(
            f"{value!r} is no dataset group ARN pattern: expected"
            " arn:PARTITION:personalize:REGION:ACCOUNT:dataset-group/NAME (globs allowed in each part)"
        )
    return value


class Tenant(BaseModel):
    """One entry: these namespaces, these dataset groups, this identity (the operator's own when roleArn is absent)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    namespaces: Annotated[list[str], Field(min_length=1)]
    role_arn: Annotated[str | None, Field(alias="roleArn", pattern=ROLE_ARN_PATTERN, max_length=2048)] = None
    external_id: Annotated[
        str | None, Field(alias="externalId", pattern=EXTERNAL_ID_PATTERN, min_length=2, max_length=1224)
    ] = None
    dataset_groups: Annotated[
        list[Annotated[str, pydantic.AfterValidator(_arn_glob)]], Field(alias="datasetGroups", min_length=1)
    ]

    def serves(self, namespace: str) -> bool:
        return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.namespaces)

    def allows(self, dataset_group_arn: str) -> bool:
        return any(arn_matches(pattern, dataset_group_arn) for pattern in self.dataset_groups)

    @property
    def account(self) -> str:
        """The account of the role ("" for the operator's own identity)."""
        return arns.account_of(self.role_arn)

    def describe(self) -> str:
        who = f"role {self.role_arn}" if self.role_arn else "the operator's own identity"
        return f"namespaces {self.namespaces} -> dataset groups {self.dataset_groups} as {who}"


class TenancyMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: list[Tenant] = Field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    """Why a resource may not be reconciled: the rule it breaks, in words a namespace editor can act on."""

    rule: str


class TenancyError(ValueError):
    """A tenancy file that cannot be used; the message names the line and the reason."""


def arn_matches(pattern: str, arn: str) -> bool:
    """Glob match part by part, so a `*` never crosses a `:` (no region glob can swallow an account)."""
    parts, wanted = arn.split(":", ARN_SEGMENTS - 1), pattern.split(":", ARN_SEGMENTS - 1)
    if len(parts) != ARN_SEGMENTS or len(wanted) != ARN_SEGMENTS:
        return False
    return all(fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, wanted, strict=True))


def resolve(tenancy: TenancyMap, namespace: str, dataset_group_arn: str) -> Tenant | Refusal:
    """The entry that serves this namespace and allows this dataset group; the first such entry wins."""
    serving = [tenant for tenant in tenancy.tenants if tenant.serves(namespace)]
    if not serving:
        return Refusal(f"namespace {namespace} has no entry in the operator's tenancy map")
    for tenant in serving:
        if tenant.allows(dataset_group_arn):
            return tenant
    allowed = sorted({pattern for tenant in serving for pattern in tenant.dataset_groups})
    return Refusal(
        f"the tenancy map does not allow namespace {namespace} to use dataset group {dataset_group_arn}"
        f" (allowed: {', '.join(allowed)})"
    )


def for_deletion(tenancy: TenancyMap, namespace: str, account: str) -> Tenant | None:
    """The identity that deletes a tracker of `account`: never refused, so tenancy never holds a deletion.

    The namespace's own entries first, then any entry; the first whose role is
    in the tracker's account wins (an entry without a role stands for the
    operator's own identity, which the map does not place in an account).
    None: the operator's own identity.
    """
    ordered = [t for t in tenancy.tenants if t.serves(namespace)] + [
        t for t in tenancy.tenants if not t.serves(namespace)
    ]
    return next((tenant for tenant in ordered if tenant.role_arn and tenant.account == account), None)


# -- loading ----------------------------------------------------------------------------


def _node_at(node: yaml.Node | None, loc: Sequence[int | str]) -> yaml.Node | None:
    """The YAML node a pydantic error location points at (the deepest one found)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((value for name, value in node.value if name.value == key), None)
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def parse(text: str, source: str = "tenancy file") -> TenancyMap:
    """Parse and check a tenancy file; TenancyError names the line and the reason."""
    try:
        data: Any = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise TenancyError(f"{source}:{line}: not valid YAML: {error.problem}") from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TenancyError(f"{source}: line 1: expected a mapping with the key 'tenants'")
    try:
        return TenancyMap.model_validate(data)
    except pydantic.ValidationError as error:
        problem = error.errors()[0]
        loc = problem.get("loc", ())
        node = _node_at(root, loc)
        line = f" line {node.start_mark.line + 1}" if node is not None else ""
        where = ".".join(str(part) for part in loc)
        raise TenancyError(f"{source}:{line}: {where}: {problem.get('msg')}") from error


def load(path: Path) -> TenancyMap:
    return parse(path.read_text(), str(path))


class TenancySource:
    """The map in force, re-read when the file's content changes (a ConfigMap mount swaps a symlink).

    `poll` reads the file and compares a hash of its bytes, so mtime quirks
    and atomic symlink swaps are both seen. A malformed or unreadable file is
    logged and counted, and the last good map stays in force; at start-up
    there is no last good map, so `TenancySource.start` raises instead.
    """

    def __init__(self, path: Path, on_change: Callable[[TenancyMap], None] = lambda _: None) -> None:
        self.path = path
        self._on_change = on_change
        self._lock = threading.Lock()
        self._digest = b""
        self._map: TenancyMap | None = None
        self._external_ids: dict[str, str] = {}  # role -> ExternalId, from every map loaded (for deletions)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> TenancyMap:
        with self._lock:
            assert self._map is not None, "TenancySource.poll() has not loaded a map yet"
            return self._map

    def external_id(self, role_arn: str) -> str | None:
        """The ExternalId the platform team gave `role_arn` in this or any earlier map of this process."""
        with self._lock:
            return self._external_ids.get(role_arn)

    def poll(self) -> bool:
        """Read the file once; True when a new good map took effect."""
        try:
            raw = self.path.read_bytes()
        except OSError as error:
            if self._map is None:
                raise TenancyError(f"{self.path}: cannot read the tenancy file: {error}") from error
            self._refused(f"{self.path}: cannot read the tenancy file: {error}")
            return False
        digest = hashlib.sha256(raw).digest()
        if digest == self._digest:
            return False
        try:
            tenancy = parse(raw.decode(errors="replace"), str(self.path))
        except TenancyError as error:
            if self._map is None:
                raise
            self._digest = digest  # logged once per bad version, not at every poll
            self._refused(str(error))
            return False
        with self._lock:
            first = self._map is None
            self._map, self._digest = tenancy, digest
            self._external_ids.update(
                {t.role_arn: t.external_id for t in tenancy.tenants if t.role_arn and t.external_id}
            )
        metrics.TENANCY_RELOADS.labels(outcome="loaded").inc()
        log.info(f"tenancy map {'loaded' if first else 'reloaded'}: {len(tenancy.tenants)} entries from {self.path}")
        if not first:
            self._on_change(tenancy)
        return True

    def _refused(self, reason: str) -> None:
        metrics.TENANCY_RELOADS.labels(outcome="refused").inc()
        log.error(f"tenancy file refused, the last good map stays in force: {reason}")

    def start(self, interval: float) -> TenancySource:
        """Load now (raising on a bad file), then poll every `interval` seconds in a daemon thread."""
        self.poll()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="tenancy-reload", daemon=True)
        self._thread.start()
        return self

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.poll()
            except Exception:  # never let the reloader die: the last good map stays in force
                log.exception("tenancy reload failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
