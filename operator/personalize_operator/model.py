"""The EventTracker resource: spec and status models, the one source of the CRD schema.

Why one place: the operator parses spec with these models and crd.py renders
the CRD from them, so what the API server refuses at apply time and what the
operator assumes cannot drift apart. AWS limits come from botocore
(constraints.py); the CEL rules below (`x-kubernetes-validations`) cover what
OpenAPI cannot say, and the model validators mirror them so Python refuses
the same input.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from personalize_operator import constraints
from personalize_operator.constraints import StringConstraint

GROUP = "personalize.operators.dev"
VERSION = "v1beta1"  # served and stored; v1alpha1 is still served, deprecated (crd.py)
KIND = "EventTracker"
PLURAL = "eventtrackers"
SINGULAR = "eventtracker"
SHORT_NAMES = ("et",)
CATEGORIES = ("personalize",)

READY = "Ready"
SYNCED = "Synced"
CONDITION_TYPES = (READY, SYNCED)

RESERVED_TAG_PREFIX = f"{GROUP}/"
# Tags the operator puts on every tracker it creates, to find it again after a crash.
OWNERSHIP_TAG_KEYS = (f"{RESERVED_TAG_PREFIX}uid", f"{RESERVED_TAG_PREFIX}namespace", f"{RESERVED_TAG_PREFIX}name")
# AWS counts our ownership tags against its per-resource limit; more user tags would fail TooManyTags for ever.
MAX_USER_TAGS = min(constraints.TAGS.max_items or 200, constraints.TAGS_PER_RESOURCE_MAX) - len(OWNERSHIP_TAG_KEYS)
AWS_TAG_PREFIX = "aws:"
SECRET_SUFFIX = "-tracking"
MAX_DEFAULTED_NAME = constraints.DNS1123_SUBDOMAIN_MAX - len(SECRET_SUFFIX)


def _partition_and_region() -> str:
    """`PARTITION:personalize:REGION` alternatives, each partition with its own region shape (botocore's data)."""
    pairs = sorted(constraints.partition_region_patterns().items())
    return "(" + "|".join(f"{partition}:personalize:{region}" for partition, region in pairs) + ")"


# The dataset group ARN shape we parse region and account from (stricter than botocore's generic Arn): the
# region must be of a real AWS region's shape in that partition, so `us-east-` or `-` is refused at apply
# time instead of failing inside botocore on every pass.
DATASET_GROUP_ARN_SHAPE = StringConstraint(
    shape="DatasetGroupArn",
    min_length=None,
    max_length=None,
    java_pattern=rf"arn:{_partition_and_region()}:[0-9]{{12}}:dataset-group/.+",
)

# Messages the API server returns; tests and users match on them, so they are constants.
NAME_IMMUTABLE = "spec.name is immutable"
NAME_PRESENCE_IMMUTABLE = "spec.name is immutable: it may be added or removed only with the value of metadata.name"
DATASET_GROUP_ARN_IMMUTABLE = "spec.datasetGroupArn is immutable"
DATASET_GROUP_ARN_INVALID = (
    "spec.datasetGroupArn must be a dataset group ARN: arn:PARTITION:personalize:REGION:ACCOUNT:dataset-group/NAME "
    "with REGION an AWS region of that partition (such as us-east-1) and ACCOUNT 12 digits"
)
RESERVED_TAG_KEY = f"tag keys starting with {RESERVED_TAG_PREFIX} are reserved for the operator"
AWS_TAG_KEY = f"tag keys starting with {AWS_TAG_PREFIX} are reserved for AWS"
METADATA_NAME_INVALID = "metadata.name is not a valid Personalize name; set spec.name"
METADATA_NAME_TOO_LONG_FOR_SECRET = (
    f"metadata.name is longer than {MAX_DEFAULTED_NAME} characters, too long for the default Secret name "
    f"<metadata.name>{SECRET_SUFFIX}; set spec.secretName"
)


def cel_string(value: str) -> str:
    """A CEL string literal for `value`; raw when possible so regex backslashes stay readable."""
    if "'" not in value and "\n" not in value:
        return f"r'{value}'"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def cel_rule(rule: str, message: str, *, field_path: str | None = None) -> dict[str, str]:
    """One x-kubernetes-validations entry."""
    entry = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    return entry


def cel_satisfies(expression: str, constraint: StringConstraint) -> str:
    """CEL that is true when the string `expression` meets a botocore string constraint."""
    checks = []
    if constraint.min_length is not None:
        checks.append(f"size({expression}) >= {constraint.min_length}")
    if constraint.max_length is not None:
        checks.append(f"size({expression}) <= {constraint.max_length}")
    if constraint.pattern is not None:
        checks.append(f"{expression}.matches({cel_string(constraint.pattern)})")
    return " && ".join(checks) or "true"


def _immutable(message: str) -> dict[str, Any]:
    return {"x-kubernetes-validations": [cel_rule("self == oldSelf", message)]}


# Rules at the resource root: they need metadata.name, which only the root can see.
# (fieldPath .metadata.name needs metadata.name declared in the schema; crd.py does so.)
ROOT_VALIDATIONS = (
    cel_rule(
        f"has(self.spec.name) || ({cel_satisfies('self.metadata.name', constraints.NAME)})",
        METADATA_NAME_INVALID,
        field_path=".metadata.name",
    ),
    cel_rule(
        "has(self.spec.name) == has(oldSelf.spec.name) || "
        "(has(self.spec.name) ? self.spec.name : oldSelf.spec.name) == self.metadata.name",
        NAME_PRESENCE_IMMUTABLE,
        field_path=".spec.name",
    ),
    cel_rule(
        f"has(self.spec.secretName) || size(self.metadata.name) <= {MAX_DEFAULTED_NAME}",
        METADATA_NAME_TOO_LONG_FOR_SECRET,
        field_path=".metadata.name",
    ),
)


def _satisfying(constraint: StringConstraint) -> Callable[[str], str]:
    """A pydantic after-validator enforcing the (RE2, anchored) pattern of `constraint`."""

    def check(value: str) -> str:
        if not constraint.matches_pattern(value):
            raise ValueError(f"must match {constraint.pattern}")
        return value

    return check


def _constrained(constraint: StringConstraint) -> Any:
    """Annotated str carrying a constraint's lengths and pattern, for both pydantic and the CRD."""
    extra = {"pattern": constraint.pattern} if constraint.pattern is not None else None
    return Annotated[
        str,
        Field(min_length=constraint.min_length, max_length=constraint.max_length, json_schema_extra=extra),
        AfterValidator(_satisfying(constraint)),
    ]


def _dataset_group_arn(value: str) -> str:
    if not DATASET_GROUP_ARN_SHAPE.matches_pattern(value):
        raise ValueError(DATASET_GROUP_ARN_INVALID)
    return value


TrackerName = _constrained(constraints.NAME)
DatasetGroupArn = Annotated[_constrained(constraints.DATASET_GROUP_ARN), AfterValidator(_dataset_group_arn)]
TagKey = _constrained(constraints.TAG_KEY)
TagValue = _constrained(constraints.TAG_VALUE)
SecretName = _constrained(constraints.DNS1123_SUBDOMAIN)
ConditionType = _constrained(constraints.CONDITION_TYPE)
ConditionReason = _constrained(constraints.CONDITION_REASON)
ConditionMessage = _constrained(constraints.CONDITION_MESSAGE)


class DeletionPolicy(StrEnum):
    """What happens to the AWS event tracker when the resource is deleted."""

    DELETE = "Delete"
    RETAIN = "Retain"


class Phase(StrEnum):
    """Coarse lifecycle of the resource, for humans and printer columns."""

    PENDING = "Pending"
    CREATING = "Creating"
    ACTIVE = "Active"
    FAILED = "Failed"
    DELETING = "Deleting"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Tag(BaseModel):
    """A key-value pair applied to the event tracker in AWS."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    tag_key: TagKey = Field(
        alias="tagKey",
        description=(
            "Tag key, unique within tags. Keys starting with personalize.operators.dev/ (the operator's "
            "ownership tags) or aws: are refused."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [
                cel_rule(f"!self.startsWith({cel_string(RESERVED_TAG_PREFIX)})", RESERVED_TAG_KEY),
                cel_rule(f"!self.lowerAscii().startsWith({cel_string(AWS_TAG_PREFIX)})", AWS_TAG_KEY),
            ]
        },
    )
    tag_value: TagValue = Field(alias="tagValue", description="Tag value; may be empty.")

    @field_validator("tag_key")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith(RESERVED_TAG_PREFIX):
            raise ValueError(RESERVED_TAG_KEY)
        if value.lower().startswith(AWS_TAG_PREFIX):
            raise ValueError(AWS_TAG_KEY)
        return value


class EventTrackerSpec(BaseModel):
    """Desired state of the Amazon Personalize event tracker."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    name: TrackerName | None = Field(
        default=None,
        description=(
            "Name of the event tracker in AWS. Defaults to metadata.name, which then must be a valid "
            "Personalize name (no dots). Immutable."
        ),
        json_schema_extra=_immutable(NAME_IMMUTABLE),
    )
    dataset_group_arn: DatasetGroupArn = Field(
        alias="datasetGroupArn",
        description=(
            "ARN of the dataset group that receives the events, "
            "arn:PARTITION:personalize:REGION:ACCOUNT:dataset-group/NAME, REGION an AWS region of that "
            "partition; the tracker is created in that region and account. A dataset group holds at most one "
            "event tracker. Immutable."
        ),
        json_schema_extra={
            "x-kubernetes-validations": [
                cel_rule(cel_satisfies("self", DATASET_GROUP_ARN_SHAPE), DATASET_GROUP_ARN_INVALID),
                cel_rule("self == oldSelf", DATASET_GROUP_ARN_IMMUTABLE),
            ]
        },
    )
    tags: list[Tag] = Field(
        default_factory=list,
        min_length=constraints.TAGS.min_items,
        max_length=MAX_USER_TAGS,
        description=(
            f"Tags applied to the event tracker in AWS, unique by tagKey. Changed in place. At most {MAX_USER_TAGS}: "
            f"Amazon Personalize allows {constraints.TAGS_PER_RESOURCE_MAX} tags per resource and the operator adds "
            f"{len(OWNERSHIP_TAG_KEYS)} ownership tags."
        ),
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["tagKey"]},
    )
    secret_name: SecretName | None = Field(
        default=None,
        alias="secretName",
        description=(
            f"Name of the Secret (same namespace) that receives trackingId and eventTrackerArn once the tracker "
            f"is ACTIVE. Defaults to <metadata.name>{SECRET_SUFFIX}. Renaming moves the Secret."
        ),
    )
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE,
        alias="deletionPolicy",
        description="Delete removes the event tracker from AWS with the resource; Retain leaves it in AWS.",
    )

    @model_validator(mode="after")
    def _unique_tag_keys(self) -> Self:
        keys = [tag.tag_key for tag in self.tags]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"duplicate tag keys: {', '.join(duplicates)}")
        return self

    def effective_name(self, metadata_name: str) -> str:
        """The AWS name: spec.name, else metadata.name."""
        return self.name or metadata_name

    def effective_secret_name(self, metadata_name: str) -> str:
        """The Secret's name: spec.secretName, else <metadata.name>-tracking."""
        return self.secret_name or f"{metadata_name}{SECRET_SUFFIX}"

    @property
    def partition(self) -> str:
        """AWS partition of the dataset group (aws, aws-cn, aws-us-gov)."""
        return self.dataset_group_arn.split(":")[1]

    @property
    def region(self) -> str:
        """Region of the dataset group, where the tracker lives."""
        return self.dataset_group_arn.split(":")[3]

    @property
    def account(self) -> str:
        """AWS account that owns the dataset group."""
        return self.dataset_group_arn.split(":")[4]


def immutability_violations(old: EventTrackerSpec, new: EventTrackerSpec, metadata_name: str) -> list[str]:
    """The CRD's transition rules in Python: one message per immutable field the change touches."""
    problems = []
    if old.name is not None and new.name is not None and old.name != new.name:
        problems.append(NAME_IMMUTABLE)
    elif old.effective_name(metadata_name) != new.effective_name(metadata_name):
        problems.append(NAME_PRESENCE_IMMUTABLE)
    if old.dataset_group_arn != new.dataset_group_arn:
        problems.append(DATASET_GROUP_ARN_IMMUTABLE)
    return problems


class Condition(BaseModel):
    """One aspect of the resource's state, in the shape of metav1.Condition."""

    model_config = ConfigDict(populate_by_name=True)

    type: ConditionType = Field(description="Type of condition: Ready, Synced, Reconciling or Stalled.")
    status: ConditionStatus = Field(description="Status of the condition: True, False or Unknown.")
    observed_generation: int | None = Field(
        default=None,
        alias="observedGeneration",
        ge=0,
        description="metadata.generation the condition was set from.",
        json_schema_extra={"format": "int64"},
    )
    last_transition_time: datetime.datetime = Field(
        alias="lastTransitionTime", description="Last time the condition's status changed."
    )
    reason: ConditionReason = Field(description="CamelCase reason for the condition's last transition.")
    message: ConditionMessage = Field(description="Human-readable details of the last transition.")


class EventTrackerStatus(BaseModel):
    """Observed state, written only by the operator."""

    model_config = ConfigDict(populate_by_name=True)

    phase: Phase | None = Field(
        default=None, description="Lifecycle phase: Pending, Creating, Active, Failed, Deleting."
    )
    tracker_name: str | None = Field(
        default=None, alias="trackerName", description="Name of the event tracker in AWS (spec.name or metadata.name)."
    )
    aws_status: str | None = Field(
        default=None, alias="awsStatus", description="Status AWS reports for the tracker, e.g. CREATE PENDING, ACTIVE."
    )
    event_tracker_arn: str | None = Field(
        default=None, alias="eventTrackerArn", description="ARN of the event tracker in AWS."
    )
    account_id: str | None = Field(default=None, alias="accountId", description="AWS account of the event tracker.")
    role_arn: str | None = Field(
        default=None,
        alias="roleArn",
        description=(
            "IAM role the operator assumes for this resource (from the operator's tenancy map); absent: the"
            " operator's own identity. Deletion uses it when the map no longer names a role of the tracker's account."
        ),
    )
    region: str | None = Field(default=None, description="AWS region of the event tracker.")
    secret_name: str | None = Field(
        default=None,
        alias="secretName",
        description="Secret holding the trackingId, written once the tracker is ACTIVE.",
    )
    observed_generation: int | None = Field(
        default=None,
        alias="observedGeneration",
        ge=0,
        description="metadata.generation the operator last reconciled.",
        json_schema_extra={"format": "int64"},
    )
    retry_handled: str | None = Field(
        default=None,
        alias="retryHandled",
        description=(
            f"Value of the {GROUP}/retry annotation the operator last acted on; a new value asks it to delete a "
            "CREATE FAILED tracker and create it again."
        ),
    )
    create_requested: bool | None = Field(
        default=None,
        alias="createRequested",
        description=(
            "True once the operator has asked AWS to create the tracker (written before the call), so a deletion "
            "knows whether to look in AWS at all."
        ),
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description=(
            "Ready: the tracker is ACTIVE and its Secret written. Synced: the last reconcile succeeded (False with "
            "the reason when it failed or is paused). Reconciling: the operator is still working. Stalled: a person "
            "must act (kstatus, docs/flux.md)."
        ),
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    kopf: dict[str, Any] | None = Field(
        default=None, description="Handler progress kept by the operator's framework (kopf); internal."
    )


class ObjectMeta(BaseModel):
    """The metadata fields the operator reads."""

    name: str = Field(description="Name of the resource.")
    namespace: str | None = Field(default=None, description="Namespace of the resource.")
    uid: str | None = Field(default=None, description="UID of the resource.")
    generation: int | None = Field(default=None, description="Generation of the spec.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations of the resource.")


class EventTracker(BaseModel):
    """A whole EventTracker object; its validator mirrors the CRD's root rules (ROOT_VALIDATIONS)."""

    model_config = ConfigDict(populate_by_name=True)

    api_version: str = Field(default=f"{GROUP}/{VERSION}", alias="apiVersion", description="API version.")
    kind: str = Field(default=KIND, description="Kind.")
    metadata: ObjectMeta = Field(description="Standard object metadata.")
    spec: EventTrackerSpec = Field(description="Desired state.")
    status: EventTrackerStatus | None = Field(default=None, description="Observed state.")

    @model_validator(mode="after")
    def _defaults_are_valid(self) -> Self:
        name = self.metadata.name
        if self.spec.name is None and constraints.NAME.problem(name) is not None:
            raise ValueError(METADATA_NAME_INVALID)
        if self.spec.secret_name is None and len(name) > MAX_DEFAULTED_NAME:
            raise ValueError(METADATA_NAME_TOO_LONG_FOR_SECRET)
        return self

    @property
    def tracker_name(self) -> str:
        return self.spec.effective_name(self.metadata.name)

    @property
    def secret_name(self) -> str:
        return self.spec.effective_secret_name(self.metadata.name)


RESOURCE_DESCRIPTION = (
    "EventTracker is an Amazon Personalize event tracker for a dataset group. The operator creates it in AWS, "
    "reports its state in status and, once it is ACTIVE, writes its trackingId into a Secret for application pods."
)
