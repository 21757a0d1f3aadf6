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

from personalize_operator.api import arns, constraints
from personalize_operator.api.constraints import StringConstraint
from personalize_operator.api.names import (
    AWS_TAG_PREFIX,
    GROUP,
    KIND,
    OWNERSHIP_TAG_KEYS,
    RESERVED_OBJECT_KEY_PREFIX,
    RESERVED_OBJECT_KEYS,
    RESERVED_TAG_PREFIX,
    RESTART_KINDS,
    SECRET_SUFFIX,
    TRACKER_ARN_KEY,
    TRACKING_ID_KEY,
    VERSION,
    Phase,
)

# AWS counts our ownership tags against its per-resource limit; more user tags would fail TooManyTags for ever.
MAX_USER_TAGS = min(constraints.TAGS.max_items or 200, constraints.TAGS_PER_RESOURCE_MAX) - len(OWNERSHIP_TAG_KEYS)
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


SECRET_KEYS_NOT_DISTINCT = "spec.secretKeys.trackingId and spec.secretKeys.eventTrackerArn must differ"
SECRET_KEY_DOTS = "a Secret key may not be . or .."
_RESERVED = ", ".join((*RESERVED_OBJECT_KEYS, f"{RESERVED_OBJECT_KEY_PREFIX}*"))
RESERVED_SECRET_LABEL = f"spec.secretLabels may not set the operator's own labels ({_RESERVED})"
RESERVED_SECRET_ANNOTATION = f"spec.secretAnnotations may not set the operator's own annotations ({_RESERVED})"
NOT_A_LABEL_KEY = "keys must be Kubernetes label/annotation keys: [PREFIX/]NAME, NAME at most 63 characters"
MAX_SECRET_LABELS = 64
MAX_SECRET_ANNOTATIONS = 64
MAX_RESTART_TARGETS = 32


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
SecretKey = _constrained(constraints.CONFIG_MAP_KEY)
LabelValue = _constrained(constraints.LABEL_VALUE)
ConditionType = _constrained(constraints.CONDITION_TYPE)
ConditionReason = _constrained(constraints.CONDITION_REASON)
ConditionMessage = _constrained(constraints.CONDITION_MESSAGE)


class DeletionPolicy(StrEnum):
    """What happens to the AWS event tracker when the resource is deleted."""

    DELETE = "Delete"
    RETAIN = "Retain"


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


def _reserved_key(key: str) -> bool:
    return key.startswith(RESERVED_OBJECT_KEY_PREFIX) or key in RESERVED_OBJECT_KEYS


def _object_keys_rules(reserved_message: str) -> list[dict[str, str]]:
    """CEL for spec.secretLabels / spec.secretAnnotations: well-formed keys, none of ours."""
    ours = [f"k == {cel_string(key)}" for key in RESERVED_OBJECT_KEYS]
    reserved = " || ".join([f"k.startsWith({cel_string(RESERVED_OBJECT_KEY_PREFIX)})", *ours])
    return [
        cel_rule(f"self.all(k, !({reserved}))", reserved_message),
        cel_rule(
            f"self.all(k, size(k) <= {constraints.QUALIFIED_NAME.max_length} && "
            f"k.matches({cel_string(constraints.QUALIFIED_NAME.pattern or '')}))",
            NOT_A_LABEL_KEY,
        ),
    ]


def _check_object_keys(keys: Any, reserved_message: str) -> None:
    for key in keys:
        if _reserved_key(key):
            raise ValueError(reserved_message)
        if constraints.QUALIFIED_NAME.problem(key) is not None:
            raise ValueError(f"{NOT_A_LABEL_KEY}: {key!r}")


# No default in the CRD (default_factory is not rendered): the API server would write it into every object.
_key_schema = {"x-kubernetes-validations": [cel_rule("self != '.' && self != '..'", SECRET_KEY_DOTS)]}


class SecretKeys(BaseModel):
    """The key names of the two values in the Secret."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    tracking_id: SecretKey = Field(
        default_factory=lambda: TRACKING_ID_KEY,
        alias="trackingId",
        description="Key of the trackingId in the Secret, e.g. PERSONALIZE_TRACKING_ID for envFrom.",
        json_schema_extra=_key_schema,
    )
    event_tracker_arn: SecretKey = Field(
        default_factory=lambda: TRACKER_ARN_KEY,
        alias="eventTrackerArn",
        description="Key of the event tracker's ARN in the Secret, e.g. PERSONALIZE_EVENT_TRACKER_ARN.",
        json_schema_extra=_key_schema,
    )

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if self.tracking_id == self.event_tracker_arn:
            raise ValueError(SECRET_KEYS_NOT_DISTINCT)
        if {self.tracking_id, self.event_tracker_arn} & {".", ".."}:
            raise ValueError(SECRET_KEY_DOTS)
        return self


_TRACKING_KEY_OR_DEFAULT = f"(has(self.trackingId) ? self.trackingId : {cel_string(TRACKING_ID_KEY)})"
_ARN_KEY_OR_DEFAULT = f"(has(self.eventTrackerArn) ? self.eventTrackerArn : {cel_string(TRACKER_ARN_KEY)})"
SECRET_KEYS_SCHEMA_RULES = {
    "x-kubernetes-validations": [
        cel_rule(f"{_TRACKING_KEY_OR_DEFAULT} != {_ARN_KEY_OR_DEFAULT}", SECRET_KEYS_NOT_DISTINCT)
    ]
}


class RestartKind(StrEnum):
    DEPLOYMENT = RESTART_KINDS[0]
    STATEFUL_SET = RESTART_KINDS[1]
    DAEMON_SET = RESTART_KINDS[2]


class RestartTarget(BaseModel):
    """A workload in the resource's namespace restarted (as `kubectl rollout restart`) when the trackingId changes."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    kind: RestartKind = Field(description="Deployment, StatefulSet or DaemonSet.")
    name: SecretName = Field(description="Name of the workload, in the EventTracker's namespace.")


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
    secret_keys: SecretKeys | None = Field(
        default=None,
        alias="secretKeys",
        description=(
            "Key names in the Secret (defaults trackingId and eventTrackerArn), distinct. A change rewrites the "
            "Secret with the new keys only."
        ),
        json_schema_extra=SECRET_KEYS_SCHEMA_RULES,
    )
    secret_labels: dict[str, LabelValue] = Field(
        default_factory=dict,
        alias="secretLabels",
        max_length=MAX_SECRET_LABELS,
        description=(
            "Labels added to the Secret (and the ConfigMap). The operator's own (app.kubernetes.io/managed-by, "
            f"{RESERVED_OBJECT_KEY_PREFIX}*) are refused."
        ),
        json_schema_extra={"x-kubernetes-validations": _object_keys_rules(RESERVED_SECRET_LABEL)},
    )
    secret_annotations: dict[str, str] = Field(
        default_factory=dict,
        alias="secretAnnotations",
        max_length=MAX_SECRET_ANNOTATIONS,
        description=(
            "Annotations added to the Secret (and the ConfigMap), e.g. Reloader's. The operator's own "
            f"({RESERVED_OBJECT_KEY_PREFIX}*) are refused."
        ),
        json_schema_extra={"x-kubernetes-validations": _object_keys_rules(RESERVED_SECRET_ANNOTATION)},
    )
    config_map_name: SecretName | None = Field(
        default=None,
        alias="configMapName",
        description=(
            "Name of a ConfigMap (same namespace, owned by this resource) that receives the non-secret facts: "
            "eventTrackerArn, name, datasetGroupArn, region, accountId. Never the trackingId. Absent: no ConfigMap."
        ),
    )
    rollout_restart_targets: list[RestartTarget] = Field(
        default_factory=list,
        alias="rolloutRestartTargets",
        max_length=MAX_RESTART_TARGETS,
        description=(
            "Workloads in this namespace restarted as `kubectl rollout restart` does when the trackingId in the "
            "Secret changes (never on its first write). Needs the chart value rbac.rolloutRestart."
        ),
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["kind", "name"]},
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

    @field_validator("secret_labels")
    @classmethod
    def _labels_not_ours(cls, value: dict[str, str]) -> dict[str, str]:
        _check_object_keys(value, RESERVED_SECRET_LABEL)
        return value

    @field_validator("secret_annotations")
    @classmethod
    def _annotations_not_ours(cls, value: dict[str, str]) -> dict[str, str]:
        _check_object_keys(value, RESERVED_SECRET_ANNOTATION)
        return value

    @property
    def effective_secret_keys(self) -> SecretKeys:
        return self.secret_keys or SecretKeys()

    def effective_name(self, metadata_name: str) -> str:
        """The AWS name: spec.name, else metadata.name."""
        return self.name or metadata_name

    def effective_secret_name(self, metadata_name: str) -> str:
        """The Secret's name: spec.secretName, else <metadata.name>-tracking."""
        return self.secret_name or f"{metadata_name}{SECRET_SUFFIX}"

    @property
    def partition(self) -> str:
        """AWS partition of the dataset group (aws, aws-cn, aws-us-gov)."""
        return arns.partition_of(self.dataset_group_arn)

    @property
    def region(self) -> str:
        """Region of the dataset group, where the tracker lives."""
        return arns.region_of(self.dataset_group_arn)

    @property
    def account(self) -> str:
        """AWS account that owns the dataset group."""
        return arns.account_of(self.dataset_group_arn)


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
    owner_cluster: str | None = Field(
        default=None,
        alias="ownerCluster",
        description=(
            "Identity of the cluster that owns the event tracker (its personalize.operators.dev/cluster tag): this"
            " cluster's, or, with reason OwnedByOtherCluster, the other cluster's."
        ),
    )
    secret_name: str | None = Field(
        default=None,
        alias="secretName",
        description="Secret holding the trackingId, written once the tracker is ACTIVE.",
    )
    config_map_name: str | None = Field(
        default=None,
        alias="configMapName",
        description="ConfigMap holding the non-secret facts (spec.configMapName), written once the tracker is ACTIVE.",
    )
    pending_restarts: list[RestartTarget] | None = Field(
        default=None,
        alias="pendingRestarts",
        description=(
            "Workloads of spec.rolloutRestartTargets whose restart after a trackingId change is still owed (forbidden "
            "or failed); tried again at every pass."
        ),
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
    refresh_handled: str | None = Field(
        default=None,
        alias="refreshHandled",
        description=(
            f"Value of the {GROUP}/refresh annotation the operator last acted on; a new value asks it for a pass "
            "at once that reads the tracker from AWS itself."
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
