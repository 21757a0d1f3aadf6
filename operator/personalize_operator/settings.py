"""Operator configuration: one documented class, validated once at start-up.

Every field can be set by an environment variable `PERSONALIZE_OPERATOR_<FIELD>`
(the Helm chart uses these) and the most common ones by `run` flags; a bad
value stops start-up with an error naming the variable.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


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
    watch_server_timeout: int = Field(
        270, ge=10, description="Seconds the API server keeps a watch open before kopf reconnects."
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def split_namespaces(cls, value: str | list[str]) -> list[str]:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("scanning")
    @classmethod
    def patterns_need_scanning(cls, value: bool, info: ValidationInfo) -> bool:
        patterns = [ns for ns in info.data.get("namespaces") or [] if any(c in ns for c in "*?[]!")]
        if not value and patterns:
            raise ValueError(f"namespace patterns {patterns} need scanning (list/watch namespaces); use exact names")
        return value
