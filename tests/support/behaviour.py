"""docs/design.md's behaviour table, once: each row's inputs, the real decision, and what it must be.

tests/unit/test_decide.py checks every row's decision; support/statuses.py renders
every row with the operator's own status renderer for the Argo CD and kstatus
checks. A new case is one row here and is checked by all three at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from personalize_operator.api.names import CLUSTER_TAG, NAME_TAG, NAMESPACE_TAG, UID_TAG
from personalize_operator.aws.errors import AwsError, make
from personalize_operator.reconciler import decide as rules
from personalize_operator.reconciler.decide import Decision, Desired, Observation, Phase, Recorded, Step
from support.builders import ARN, active_recorded, desired, foreign, observation, remote_tracker

Expected = tuple[Step, Phase, str]


@dataclass(frozen=True)
class Row:
    """One case: what went in, what the decision function said, and what it must say."""

    name: str
    decision: Decision
    expected: Expected
    desired: Desired = field(default_factory=desired)
    recorded: Recorded = field(default_factory=Recorded)
    observed: Observation = field(default_factory=Observation)
    deleting: bool = False  # the resource carries a deletionTimestamp
    parsed: bool = True  # False: the spec did not parse, status is rendered without identity
    error: AwsError | None = None  # the AWS error decided on, if any
    made_by: str = ""  # the decide* function that made `decision`

    @property
    def actual(self) -> Expected:
        return (self.decision.step, self.decision.phase, self.decision.reason)


def live(
    name: str,
    expected: Expected,
    want: Desired | None = None,
    before: Recorded | None = None,
    seen: Observation | None = None,
) -> Row:
    """A pass over a resource that exists: `decide`."""
    want, before, seen = want or desired(), before or Recorded(), seen or Observation()
    return Row(name, rules.decide(want, before, seen), expected, want, before, seen, made_by="decide")


def deletion(name: str, step: Step, reason: str, seen: Observation, *, want: Desired | None = None) -> Row:
    """A pass over a resource being deleted once AWS was looked at: `decide_deletion`."""
    want = want or desired()
    decision = rules.decide_deletion(want, seen)
    expected = (step, Phase.DELETING, reason)
    return Row(name, decision, expected, want, HAD_ARN, seen, deleting=True, made_by="decide_deletion")


def release(name: str, step: Step, reason: str, before: Recorded, *, want: Desired | None = None) -> Row:
    """A deletion decided without a look at AWS: `decide_release`."""
    want = want or desired()
    decision = rules.decide_release(want, before)
    assert decision is not None, name
    return Row(name, decision, (step, Phase.DELETING, reason), want, before, deleting=True, made_by="decide_release")


def failure(name: str, code: str, expected: Expected, *, before: str = "", deleting: bool = False) -> Row:
    """An AWS call failed with `code` (its kind from the real error table) while the recorded phase was `before`."""
    recorded = Recorded(phase=before, arn=ARN if before else "")
    error = make(code, "refused", "DeleteEventTracker" if deleting else "CreateEventTracker")
    decision = rules.decide_error(error, desired(), recorded, deleting=deleting)
    return Row(name, decision, expected, recorded=recorded, deleting=deleting, error=error, made_by="decide_error")


def refusal(
    name: str, decide_with: Callable[[str], Decision], problem: str, expected: Expected, *, parsed: bool = True
) -> Row:
    """A pass ended before any AWS call, with `problem` explained: secrets, spec, tenancy."""
    decision = decide_with(problem)
    return Row(name, decision, expected, recorded=active_recorded(), parsed=parsed, made_by=decide_with.__name__)


WAIT, CREATING, FAILED, PENDING, ACTIVE = Step.WAIT, Phase.CREATING, Phase.FAILED, Phase.PENDING, Phase.ACTIVE
GENERATION_1, FAILED_TRACKER = Recorded(observed_generation=1), observation("CREATE FAILED")
HAD_ARN, WAS_ACTIVE = Recorded(arn=ARN), active_recorded()
RETRYING = (Step.DELETE_FAILED, CREATING, "Retrying")
CREATE_FAILED = (Step.REPORT_FAILED, FAILED, "CreateFailed")
CONFLICT, ADOPTING = (Step.CONFLICT, FAILED, "Conflict"), (Step.ADOPT, CREATING, "Adopting")
REFUSED_SPEC = (Step.REPORT_FAILED, FAILED, "InvalidSpec")
HERE, ELSEWHERE = "cluster-a", "cluster-b"  # docs/design.md, section 12
IN_A_CLUSTER = desired(cluster=HERE)
THEIRS = remote_tracker(tags={UID_TAG: "uid-9", NAMESPACE_TAG: "shop", NAME_TAG: "storefront", CLUSTER_TAG: ELSEWHERE})
OWNED_BY_OTHER_CLUSTER = (Step.CONFLICT, FAILED, "OwnedByOtherCluster")

LIVE = [
    live("new-resource", (Step.CREATE, CREATING, "Creating")),
    live("create-pending", (WAIT, CREATING, "Creating"), seen=observation("CREATE PENDING")),
    live("create-in-progress", (WAIT, CREATING, "Creating"), seen=observation("CREATE IN_PROGRESS")),
    live("active", (Step.SYNC, ACTIVE, "Active"), seen=observation("ACTIVE")),
    live("create-failed-reported", CREATE_FAILED, None, GENERATION_1, observation("CREATE FAILED", failure_reason="x")),
    live("create-failed-then-spec-change", RETRYING, desired(generation=2), GENERATION_1, FAILED_TRACKER),
    live("create-failed-then-retry-annotation", RETRYING, desired(retry_token="1"), GENERATION_1, FAILED_TRACKER),
    live(
        "retry-already-handled",
        CREATE_FAILED,
        desired(retry_token="1"),
        replace(GENERATION_1, retry_token="1"),
        FAILED_TRACKER,
    ),
    live("foreign-tracker-conflict", CONFLICT, seen=foreign("other")),
    live("foreign-tracker-adopt", ADOPTING, desired(adopt=True), seen=foreign("")),
    live("adopt-a-tracker-whose-owner-is-gone", ADOPTING, desired(adopt=True), seen=foreign("dead")),
    live(
        "never-adopt-a-tracker-a-live-resource-owns", CONFLICT, desired(adopt=True), seen=foreign("alive", owner="a/b")
    ),
    live("deleted-outside-kubernetes", (Step.CREATE, CREATING, "RemoteMissing"), None, HAD_ARN, Observation(lost=True)),
    live("deleted-by-someone-else", (WAIT, CREATING, "RemoteDeleting"), None, HAD_ARN, observation("DELETE PENDING")),
    live("unknown-aws-status", (WAIT, CREATING, "UnknownStatus"), None, HAD_ARN, observation("UPDATING")),
    live("another-clusters-tracker", OWNED_BY_OTHER_CLUSTER, IN_A_CLUSTER, seen=Observation(other_cluster=THEIRS)),
    Row(
        "another-clusters-tracker-named",
        rules.decide_other_cluster(IN_A_CLUSTER, THEIRS),
        OWNED_BY_OTHER_CLUSTER,
        IN_A_CLUSTER,
        made_by="decide_other_cluster",
    ),
    live(
        "adopt-never-takes-another-clusters-tracker",
        OWNED_BY_OTHER_CLUSTER,
        replace(IN_A_CLUSTER, adopt=True),
        seen=Observation(other_cluster=THEIRS),
    ),
    live(
        "take-over-from-the-named-cluster",
        (Step.ADOPT, CREATING, "TakingOver"),
        replace(IN_A_CLUSTER, take_over_from=ELSEWHERE),
        seen=Observation(other_cluster=THEIRS),
    ),
    Row(
        "tracker-at-our-arn-now-tagged-by-another-cluster",
        rules.decide_tags_read(IN_A_CLUSTER, THEIRS, THEIRS.tags) or rules.decide_resumed(IN_A_CLUSTER),
        OWNED_BY_OTHER_CLUSTER,
        IN_A_CLUSTER,
        WAS_ACTIVE,
        made_by="decide_tags_read",
    ),
    Row(
        "resumed-after-a-restart",
        rules.decide_resumed(desired()),
        (Step.SYNC, ACTIVE, "Active"),
        recorded=WAS_ACTIVE,
        observed=observation("ACTIVE"),
        made_by="decide_resumed",
    ),
]

DELETION = [
    deletion("policy-delete", Step.DELETE, "Deleting", observation("ACTIVE")),
    deletion("delete-a-failed-tracker", Step.DELETE, "Deleting", observation("CREATE FAILED")),
    deletion("deleting-while-creating-waits", WAIT, "WaitingForCreation", observation("CREATE IN_PROGRESS")),
    deletion("poll-until-gone", WAIT, "Deleting", observation("DELETE PENDING")),
    deletion("remote-already-gone", Step.RELEASE, "Deleted", observation()),
    deletion("policy-retain", Step.RELEASE_RETAINED, "Retained", observation("ACTIVE"), want=desired(retain=True)),
    deletion("never-deletes-a-foreign-tracker", Step.RELEASE, "Deleted", foreign("x")),
    deletion(
        "never-deletes-another-clusters-tracker",
        Step.RELEASE,
        "OwnedByOtherCluster",
        Observation(tracker=THEIRS),
        want=IN_A_CLUSTER,
    ),
]

RELEASE = [
    release("retain-never-asks-aws", Step.RELEASE_RETAINED, "Retained", HAD_ARN, want=desired(retain=True)),
    release("retain-without-a-tracker", Step.RELEASE_RETAINED, "Retained", Recorded(), want=desired(retain=True)),
    release("never-asked-aws-for-a-tracker", Step.RELEASE, "NeverCreated", Recorded()),
]

FAILURES = [
    failure("throttling-keeps-phase", "ThrottlingException", (WAIT, ACTIVE, "Throttled"), before="Active"),
    failure("limit-exceeded-is-throttling", "LimitExceededException", (WAIT, PENDING, "LimitExceeded")),
    failure("5xx-keeps-phase", "InternalFailure", (WAIT, CREATING, "AWSUnavailable"), before="Creating"),
    failure("unknown-code-is-retried", "SomethingNew", (WAIT, PENDING, "AWSUnavailable")),
    failure("dataset-group-missing", "ResourceNotFoundException", (WAIT, PENDING, "DatasetGroupNotFound")),
    failure("access-denied", "AccessDeniedException", (WAIT, PENDING, "AccessDenied")),
    failure("access-denied-keeps-active", "AccessDeniedException", (WAIT, ACTIVE, "AccessDenied"), before="Active"),
    failure("expired-token", "ExpiredTokenException", (WAIT, PENDING, "CredentialsExpired"), before="Failed"),
    failure("expired-while-active", "ExpiredTokenException", (WAIT, ACTIVE, "CredentialsExpired"), before="Active"),
    failure("invalid-client-token", "InvalidClientTokenId", (WAIT, PENDING, "InvalidCredentials")),
    failure("invalid-input", "InvalidInputException", REFUSED_SPEC),
    failure("param-validation", "ParamValidationError", REFUSED_SPEC),
    failure("too-many-tags", "TooManyTagsException", (Step.REPORT_FAILED, FAILED, "TooManyTags"), before="Active"),
    failure("name-taken", "ResourceAlreadyExistsException", (Step.CONFLICT, FAILED, "NameConflict")),
    failure("in-use", "ResourceInUseException", (WAIT, ACTIVE, "ResourceInUse"), before="Active"),
    failure("delete-in-use", "ResourceInUseException", (WAIT, Phase.DELETING, "ResourceInUse"), deleting=True),
    failure("delete-access-denied", "AccessDeniedException", (WAIT, Phase.DELETING, "AccessDenied"), deleting=True),
]

REFUSALS = [
    Row(
        "paused",
        rules.decide_paused(WAS_ACTIVE),
        (Step.PAUSE, ACTIVE, "Paused"),
        recorded=WAS_ACTIVE,
        made_by="decide_paused",
    ),
    refusal("unparseable-spec", rules.decide_invalid_spec, "spec.tags: too many", REFUSED_SPEC, parsed=False),
    refusal(
        "forbidden",
        rules.decide_forbidden,
        "namespace shop is not in the tenancy map",
        (Step.REPORT_FAILED, FAILED, "Forbidden"),
    ),
    refusal(
        "secret-conflict",
        rules.decide_secret_conflict,
        "Secret shop/taken is not ours",
        (WAIT, FAILED, "SecretConflict"),
    ),
    refusal(
        "config-map-conflict",
        rules.decide_config_map_conflict,
        "ConfigMap shop/taken is not ours",
        (WAIT, FAILED, "ConfigMapConflict"),
    ),
    refusal(
        "secret-not-written",
        rules.decide_secret_not_written,
        "Kubernetes answered 403",
        (WAIT, PENDING, "SecretNotWritten"),
    ),
]

ROWS: list[Row] = [*LIVE, *DELETION, *RELEASE, *FAILURES, *REFUSALS]
