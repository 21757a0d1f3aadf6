"""Operator configuration: one documented class, validated once at start-up.

Every field can be set by an environment variable `PERSONALIZE_OPERATOR_<FIELD>`
(the Helm chart uses these) and the most common ones by `run` flags; a bad
value stops start-up with an error naming the variable.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def is_namespace_pattern(namespace: str) -> bool:
    """A kopf namespace pattern ('team-*', '!kube-system'), not an exact name."""
    return any(c in namespace for c in "*?[]!")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def rate_bounds(
    *, ceiling: float | None, floor: float | None, old_rate: float | None, default_ceiling: float, default_floor: float
) -> tuple[float, float]:
    """The call budget's (ceiling, floor) from what was set: a new name wins over 0.2.0's `aws_calls_per_second`,
    which alone becomes the ceiling; a floor left at its default is lowered to a ceiling below it."""
    chosen = ceiling if ceiling is not None else old_rate if old_rate is not None else default_ceiling
    return chosen, floor if floor is not None else min(default_floor, chosen)


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERSONALIZE_OPERATOR_", extra="ignore")

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Namespaces to watch (comma-separated in the environment); empty means all namespaces.",
    )
    liveness_endpoint: str = Field(
        "http://0.0.0.0:8080/healthz", description="Where kopf serves the liveness probe; empty disables it."
    )
    metrics_port: int = Field(9090, ge=0, le=65535, description="Prometheus metrics port; 0 disables metrics.")
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="Log level.")
    log_format: LogFormat = Field(LogFormat.TEXT, description="text or json (one JSON object per line).")
    max_workers: int = Field(20, ge=1, le=500, description="Threads for handlers (AWS and Secret calls block).")
    aws_max_attempts: int = Field(5, ge=1, le=20, description="botocore standard-mode attempts per AWS call.")
    aws_call_rate_ceiling: float = Field(
        50.0,
        gt=0,
        description=(
            "AWS calls per second per account and region the call budget starts at and never exceeds (every attempt"
            " counted). AWS publishes no limit: the budget backs off on LimitExceededException or ThrottlingException"
            " and recovers while none comes (CUBIC, as botocore's adaptive retry mode; aws/ratelimit.py)."
        ),
    )
    aws_call_rate_floor: float = Field(
        1.0,
        gt=0,
        description="AWS calls per second per account and region the budget never backs off below.",
    )
    aws_calls_per_second: float | None = Field(
        None,
        gt=0,
        description=(
            "Deprecated: 0.2.0's fixed rate. Read as aws_call_rate_ceiling (and the floor lowered to it if need be)"
            " when aws_call_rate_ceiling is not set, so an upgrade keeps a rate a team lowered for a shared account."
        ),
    )
    aws_call_burst: int = Field(
        2, ge=1, description="Calls that may go out at once before the per-second rate applies (the bucket's size)."
    )
    status_board: bool = Field(
        True,
        description=(
            "One ListEventTrackers about every second per region while any tracker is being created or deleted"
            " wakes its resource at once (aws/statusboard.py); false: each waiting resource polls with backoff"
            " up to 30 s."
        ),
    )
    cluster_id: str = Field(
        "",
        max_length=256,
        pattern=r"^[A-Za-z0-9 _.:/=+@-]*$",
        description=(
            "This cluster's identity, carried by every tracker it creates or adopts (the tag"
            " personalize.operators.dev/cluster); empty: the ClusterProperty cluster.clusterset.k8s.io where that"
            " API exists, else the uid of the kube-system namespace. Set it for a cluster rebuilt from scratch that"
            " should keep its trackers (docs/design.md, section 12)."
        ),
    )
    aws_connect_timeout: float = Field(5.0, gt=0, description="Seconds to connect to AWS.")
    aws_read_timeout: float = Field(30.0, gt=0, description="Seconds to wait for an AWS answer.")
    scanning: bool = Field(
        True,
        description=(
            "kopf's cluster scanning: watch CRDs (serve the EventTracker CRD even if it is installed after start-up)"
            " and, with --namespace, list and watch namespaces (needed for glob patterns such as 'team-*')."
            " Needs list/watch on customresourcedefinitions and namespaces. false: no cluster-scoped reads at all;"
            " namespaces must be exact names and the operator exits at start-up if the CRD is not installed"
            " (the Helm chart's setting)."
        ),
    )
    resync_seconds: float = Field(
        600.0,
        ge=1.0,
        le=86400.0,
        description=(
            "Every resource is looked at again after this many seconds (+-20 % jitter), whatever its phase: a "
            "tracker deleted or retagged in AWS is put back, a Failed resource is checked again. Costs two AWS "
            "calls per Active resource per resync."
        ),
    )
    secret_watch: bool = Field(
        True,
        description=(
            "Watch the Secrets the operator writes (label-selected on the server) so a deleted or edited Secret "
            "is repaired in seconds. Needs list/watch on secrets; false: Secrets heal at the next resync."
        ),
    )
    rbac_guard: str = Field(
        "",
        description=(
            "Name of the operator's Role and RoleBinding in each watched namespace (the Helm chart sets it in"
            " namespaces mode): the operator keeps a finalizer on both while EventTrackers exist there, so deleting"
            " the namespace cannot take its permissions away before their trackers are deleted. Empty: off."
        ),
    )
    tenancy_file: Path | None = Field(
        None,
        description=(
            "A YAML tenancy map (docs/iam.md): which namespaces may use which dataset groups, and the IAM role"
            " assumed for each. A namespace or dataset group the map does not allow is Failed/Forbidden with no AWS"
            " call. Unset: the operator's own identity for every namespace and any dataset group."
        ),
    )
    tenancy_poll_seconds: float = Field(
        5.0, gt=0, le=3600, description="How often the tenancy file is checked for changes (no restart needed)."
    )
    watch_server_timeout: int = Field(
        270, ge=10, description="Seconds the API server keeps a watch open before kopf reconnects."
    )

    leader_election: bool = Field(
        True,
        description=(
            "Run only while holding a coordination.k8s.io/v1 Lease, so several replicas can run and one reconciles."
            " Off is for a single process with no Lease permissions (e.g. local development)."
        ),
    )
    lease_name: str = Field(
        "personalize-operator",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        max_length=253,
        description="Name of the Lease the replicas compete for.",
    )
    lease_namespace: str = Field(
        "",
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$",
        max_length=63,
        description=(
            "Namespace of the Lease; empty means the pod's own namespace (from its ServiceAccount),"
            " else the kubeconfig context's namespace, else 'default'."
        ),
    )
    lease_duration: float = Field(
        15.0, ge=2, description="Seconds a standby waits after the last renewal it saw before taking the Lease."
    )
    renew_deadline: float = Field(
        10.0,
        ge=1,
        description=(
            "Seconds the leader may go without renewing before it exits (non-zero, so Kubernetes restarts it);"
            " less than lease_duration, so it stops before anyone else may take over."
        ),
    )
    retry_period: float = Field(2.0, gt=0, description="Seconds between renewals (leader) and attempts (standby).")
    liveness_timeout: float = Field(
        60.0,
        ge=1,
        description=(
            "Seconds without reaching the API server after which the liveness endpoint answers 503"
            " (the Lease is read or renewed every retry_period, so this is the API server's silence)."
        ),
    )
    watch_timeout: float = Field(
        330.0,
        ge=10,
        description=(
            "Seconds the leader's EventTracker watch may deliver nothing (no event, listing or bookmark) before"
            " liveness answers 503; the API server sends an idle watch a bookmark about every minute, so the"
            " default allows several missed ones."
        ),
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def split_namespaces(cls, value: str | list[str]) -> list[str]:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def old_rate_is_the_ceiling(self) -> OperatorSettings:
        """0.2.0's `aws_calls_per_second`, where still set, is the ceiling (`rate_bounds` says how)."""
        given = self.model_fields_set
        self.aws_call_rate_ceiling, self.aws_call_rate_floor = rate_bounds(
            ceiling=self.aws_call_rate_ceiling if "aws_call_rate_ceiling" in given else None,
            floor=self.aws_call_rate_floor if "aws_call_rate_floor" in given else None,
            old_rate=self.aws_calls_per_second,
            default_ceiling=self.aws_call_rate_ceiling,
            default_floor=self.aws_call_rate_floor,
        )
        if self.aws_call_rate_floor > self.aws_call_rate_ceiling:
            raise ValueError(
                f"aws_call_rate_floor ({self.aws_call_rate_floor}) must be at most the ceiling"
                f" ({self.aws_call_rate_ceiling}, from aws_calls_per_second)"
            )
        return self

    @field_validator("aws_call_rate_floor")
    @classmethod
    def floor_below_ceiling(cls, value: float, info: ValidationInfo) -> float:
        ceiling = info.data.get("aws_call_rate_ceiling")
        if ceiling is not None and value > ceiling:
            raise ValueError(f"must be at most aws_call_rate_ceiling ({ceiling})")
        return value

    @field_validator("renew_deadline")
    @classmethod
    def renew_before_the_lease_lapses(cls, value: float, info: ValidationInfo) -> float:
        duration = info.data.get("lease_duration")
        if duration is not None and value >= duration:
            raise ValueError(f"must be less than lease_duration ({duration}): the leader stops before others take over")
        return value

    @field_validator("retry_period")
    @classmethod
    def several_tries_per_deadline(cls, value: float, info: ValidationInfo) -> float:
        deadline = info.data.get("renew_deadline")
        if deadline is not None and value * 2 > deadline:
            raise ValueError(f"must be at most half of renew_deadline ({deadline}), so a renewal can be retried")
        return value

    @field_validator("scanning")
    @classmethod
    def patterns_need_scanning(cls, value: bool, info: ValidationInfo) -> bool:
        patterns = [ns for ns in info.data.get("namespaces") or [] if is_namespace_pattern(ns)]
        if not value and patterns:
            raise ValueError(f"namespace patterns {patterns} need scanning (list/watch namespaces); use exact names")
        return value
