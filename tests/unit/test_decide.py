"""Every row of docs/design.md's behaviour table, decided without any I/O."""

from __future__ import annotations

import pytest

from personalize_operator.api.names import NAME_TAG, NAMESPACE_TAG, UID_TAG
from personalize_operator.aws.errors import (
    AccessDenied,
    AlreadyExists,
    AwsError,
    InUse,
    InvalidInput,
    NotFound,
    Retryable,
    Throttled,
    TooManyTags,
)
from personalize_operator.aws.tracker import RemoteTracker
from personalize_operator.reconciler.decide import (
    CANNOT_CREATE,
    CANNOT_OBSERVE,
    Decision,
    Desired,
    Observation,
    Phase,
    Recorded,
    Step,
    backoff,
    decide,
    decide_deletion,
    decide_error,
    decide_forbidden,
    decide_invalid_spec,
    decide_paused,
    decide_release,
    decide_secret_conflict,
    decide_secret_not_written,
    failure_event,
    tag_changes,
    transition_event,
)

DG = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop"
ARN = "arn:aws:personalize:eu-west-1:111122223333:event-tracker/abc"


def desired(**changes: object) -> Desired:
    base = dict(
        uid="uid-1",
        namespace="shop",
        name="storefront",
        generation=1,
        tracker_name="storefront",
        dataset_group_arn=DG,
        region="eu-west-1",
        secret_name="storefront-tracking",
        tags={"team": "growth"},
    )
    return Desired(**{**base, **changes})  # type: ignore[arg-type]


def tracker(status: str, uid: str = "uid-1", name: str = "storefront", reason: str = "") -> RemoteTracker:
    return RemoteTracker(
        arn=ARN,
        name=name,
        status=status,
        dataset_group_arn=DG,
        account_id="111122223333",
        tracking_id="secret-id",
        tags={UID_TAG: uid},
        failure_reason=reason,
    )


LIVE_ROWS = [
    pytest.param(desired(), Recorded(), Observation(), Step.CREATE, Phase.CREATING, "Creating", id="new-resource"),
    pytest.param(
        desired(),
        Recorded(),
        Observation(tracker=tracker("CREATE PENDING")),
        Step.WAIT,
        Phase.CREATING,
        "Creating",
        id="create-pending",
    ),
    pytest.param(
        desired(),
        Recorded(),
        Observation(tracker=tracker("CREATE IN_PROGRESS")),
        Step.WAIT,
        Phase.CREATING,
        "Creating",
        id="create-in-progress",
    ),
    pytest.param(
        desired(), Recorded(), Observation(tracker=tracker("ACTIVE")), Step.SYNC, Phase.ACTIVE, "Active", id="active"
    ),
    pytest.param(
        desired(),
        Recorded(observed_generation=1),
        Observation(tracker=tracker("CREATE FAILED", reason="x")),
        Step.REPORT_FAILED,
        Phase.FAILED,
        "CreateFailed",
        id="create-failed-reported",
    ),
    pytest.param(
        desired(generation=2),
        Recorded(observed_generation=1),
        Observation(tracker=tracker("CREATE FAILED")),
        Step.DELETE_FAILED,
        Phase.CREATING,
        "Retrying",
        id="create-failed-then-spec-change",
    ),
    pytest.param(
        desired(retry_token="1"),
        Recorded(observed_generation=1),
        Observation(tracker=tracker("CREATE FAILED")),
        Step.DELETE_FAILED,
        Phase.CREATING,
        "Retrying",
        id="create-failed-then-retry-annotation",
    ),
    pytest.param(
        desired(retry_token="1"),
        Recorded(observed_generation=1, retry_token="1"),
        Observation(tracker=tracker("CREATE FAILED")),
        Step.REPORT_FAILED,
        Phase.FAILED,
        "CreateFailed",
        id="retry-annotation-already-handled",
    ),
    pytest.param(
        desired(),
        Recorded(),
        Observation(foreign=tracker("ACTIVE", uid="other", name="theirs")),
        Step.CONFLICT,
        Phase.FAILED,
        "Conflict",
        id="foreign-tracker-conflict",
    ),
    pytest.param(
        desired(adopt=True),
        Recorded(),
        Observation(foreign=tracker("ACTIVE", uid="", name="theirs")),
        Step.ADOPT,
        Phase.CREATING,
        "Adopting",
        id="foreign-tracker-adopt-annotation",
    ),
    pytest.param(
        desired(adopt=True),
        Recorded(),
        Observation(foreign=tracker("ACTIVE", uid="dead", name="theirs")),
        Step.ADOPT,
        Phase.CREATING,
        "Adopting",
        id="adopt-a-tracker-whose-owner-is-gone",
    ),
    pytest.param(
        desired(adopt=True),
        Recorded(),
        Observation(foreign=tracker("ACTIVE", uid="alive", name="theirs"), foreign_owner="team-a/shop"),
        Step.CONFLICT,
        Phase.FAILED,
        "Conflict",
        id="never-adopt-a-tracker-another-live-resource-owns",
    ),
    pytest.param(
        desired(),
        Recorded(arn=ARN),
        Observation(lost=True),
        Step.CREATE,
        Phase.CREATING,
        "RemoteMissing",
        id="deleted-outside-kubernetes",
    ),
    pytest.param(
        desired(),
        Recorded(arn=ARN),
        Observation(tracker=tracker("DELETE IN_PROGRESS")),
        Step.WAIT,
        Phase.CREATING,
        "RemoteDeleting",
        id="being-deleted-outside-kubernetes",
    ),
]


@pytest.mark.parametrize(("want", "recorded", "observed", "step", "phase", "reason"), LIVE_ROWS)
def test_live_resource_next_step(
    want: Desired, recorded: Recorded, observed: Observation, step: Step, phase: Phase, reason: str
) -> None:
    decision = decide(want, recorded, observed)
    assert (decision.step, decision.phase, decision.reason) == (step, phase, reason)


def test_conflict_names_the_other_tracker_and_rechecks_slowly() -> None:
    decision = decide(desired(), Recorded(), Observation(foreign=tracker("ACTIVE", uid="x", name="theirs")))
    assert "theirs" in decision.message and ARN in decision.message
    assert decision.requeue is not None and decision.requeue >= 60
    assert decision.warning and decision.stalled and decision.forget_arn


def test_a_conflict_with_a_live_owner_names_it() -> None:
    observed = Observation(foreign=tracker("ACTIVE", uid="alive"), foreign_owner="team-a/shop")
    decision = decide(desired(adopt=True), Recorded(), observed)
    assert "team-a/shop" in decision.message and "cannot be adopted" in decision.message


def test_paused_keeps_the_phase_and_is_not_synced() -> None:
    decision = decide_paused(Recorded(phase="Active"))
    assert (decision.step, decision.phase, decision.reason, decision.synced) == (
        Step.PAUSE,
        Phase.ACTIVE,
        "Paused",
        False,
    )
    assert decision.requeue is None
    assert decide_paused(Recorded()).phase == Phase.PENDING


def test_active_is_settled_and_creating_polls_again() -> None:
    assert decide(desired(), Recorded(), Observation(tracker=tracker("ACTIVE"))).requeue is None
    assert decide(desired(), Recorded(), Observation(tracker=tracker("CREATE PENDING"))).requeue == 1.0


def test_no_message_contains_the_tracking_id() -> None:
    for row in LIVE_ROWS:
        want, recorded, observed = row.values[:3]
        assert "secret-id" not in decide(want, recorded, observed).message  # type: ignore[arg-type]


@pytest.mark.parametrize(("retry", "delay"), [(0, 1.0), (1, 2.0), (3, 8.0), (5, 30.0), (50, 30.0)])
def test_polling_delay_doubles_from_one_second_to_thirty(retry: int, delay: float) -> None:
    assert backoff(retry) == delay


DELETION_ROWS = [
    pytest.param(desired(), Observation(tracker=tracker("ACTIVE")), Step.DELETE, "Deleting", id="policy-delete"),
    pytest.param(
        desired(), Observation(tracker=tracker("CREATE FAILED")), Step.DELETE, "Deleting", id="delete-a-failed-tracker"
    ),
    pytest.param(
        desired(),
        Observation(tracker=tracker("CREATE IN_PROGRESS")),
        Step.WAIT,
        "WaitingForCreation",
        id="deleting-while-creating-waits",
    ),
    pytest.param(
        desired(), Observation(tracker=tracker("DELETE PENDING")), Step.WAIT, "Deleting", id="poll-until-gone"
    ),
    pytest.param(desired(), Observation(), Step.RELEASE, "Deleted", id="remote-already-gone"),
    pytest.param(
        desired(retain=True),
        Observation(tracker=tracker("ACTIVE")),
        Step.RELEASE_RETAINED,
        "Retained",
        id="policy-retain",
    ),
    pytest.param(
        desired(),
        Observation(foreign=tracker("ACTIVE", uid="x")),
        Step.RELEASE,
        "Deleted",
        id="never-deletes-a-foreign-tracker",
    ),
]


@pytest.mark.parametrize(("want", "observed", "step", "reason"), DELETION_ROWS)
def test_deletion_next_step(want: Desired, observed: Observation, step: Step, reason: str) -> None:
    decision = decide_deletion(want, observed)
    assert (decision.step, decision.phase, decision.reason) == (step, Phase.DELETING, reason)


RELEASE_ROWS = [
    pytest.param(
        desired(retain=True), Recorded(arn=ARN), Step.RELEASE_RETAINED, "Retained", id="retain-never-asks-aws"
    ),
    pytest.param(desired(retain=True), Recorded(), Step.RELEASE_RETAINED, "Retained", id="retain-without-a-tracker"),
    pytest.param(desired(), Recorded(), Step.RELEASE, "NeverCreated", id="never-asked-aws-for-a-tracker"),
]


@pytest.mark.parametrize(("want", "recorded", "step", "reason"), RELEASE_ROWS)
def test_deletions_that_need_no_look_at_aws(want: Desired, recorded: Recorded, step: Step, reason: str) -> None:
    decision = decide_release(want, recorded)
    assert decision is not None and (decision.step, decision.reason) == (step, reason)


@pytest.mark.parametrize(
    "recorded",
    [
        pytest.param(Recorded(arn=ARN), id="a-recorded-tracker"),
        pytest.param(Recorded(create_requested=True), id="a-create-was-requested"),
    ],
)
def test_deletions_that_must_look_at_aws(recorded: Recorded) -> None:
    assert decide_release(desired(), recorded) is None


ERROR_ROWS = [
    pytest.param(
        Throttled("ThrottlingException", "slow down", "DescribeEventTracker"),
        "Active",
        Phase.ACTIVE,
        "Throttled",
        id="throttling-keeps-phase",
    ),
    pytest.param(
        Throttled("LimitExceededException", "rate", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "LimitExceeded",
        id="limit-exceeded-is-throttling",
    ),
    pytest.param(
        Retryable("InternalFailure", "", "CreateEventTracker"),
        "Creating",
        Phase.CREATING,
        "AWSUnavailable",
        id="5xx-keeps-phase",
    ),
    pytest.param(
        Retryable("SomethingNew", "", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "AWSUnavailable",
        id="unknown-code-is-retried",
    ),
    pytest.param(
        NotFound("ResourceNotFoundException", "no dg", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "DatasetGroupNotFound",
        id="dataset-group-missing",
    ),
    pytest.param(
        AccessDenied("AccessDeniedException", "no", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "AccessDenied",
        id="access-denied",
    ),
    pytest.param(
        AccessDenied("AccessDeniedException", "no", "DescribeEventTracker"),
        "Active",
        Phase.ACTIVE,
        "AccessDenied",
        id="access-denied-keeps-a-working-tracker-active",
    ),
    pytest.param(
        AccessDenied("ExpiredTokenException", "old", "CreateEventTracker"),
        "Failed",
        Phase.PENDING,
        "CredentialsExpired",
        id="expired-token",
    ),
    pytest.param(
        AccessDenied("InvalidClientTokenId", "who", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "InvalidCredentials",
        id="invalid-client-token",
    ),
    pytest.param(
        InvalidInput("InvalidInputException", "bad", "CreateEventTracker"),
        "",
        Phase.FAILED,
        "InvalidSpec",
        id="invalid-input",
    ),
    pytest.param(
        InvalidInput("ParamValidationError", "bad", "CreateEventTracker"),
        "",
        Phase.FAILED,
        "InvalidSpec",
        id="param-validation",
    ),
    pytest.param(
        TooManyTags("TooManyTagsException", "50", "TagResource"), "Active", Phase.FAILED, "TooManyTags", id="tags"
    ),
    pytest.param(
        AlreadyExists("ResourceAlreadyExistsException", "name", "CreateEventTracker"),
        "",
        Phase.FAILED,
        "NameConflict",
        id="name-taken",
    ),
    pytest.param(
        InUse("ResourceInUseException", "busy", "DeleteEventTracker"),
        "Active",
        Phase.ACTIVE,
        "ResourceInUse",
        id="in-use",
    ),
]


@pytest.mark.parametrize(("error", "before", "phase", "reason"), ERROR_ROWS)
def test_errors_leave_an_explained_state(error: AwsError, before: str, phase: Phase, reason: str) -> None:
    decision: Decision = decide_error(error, desired(), Recorded(phase=before))
    assert (decision.phase, decision.reason) == (phase, reason)
    assert not decision.synced


def test_spec_refusals_settle_until_the_resync_and_everything_else_comes_back() -> None:
    for row in ERROR_ROWS:
        error = row.values[0]
        decision = decide_error(error, desired(), Recorded())  # type: ignore[arg-type]
        settled = isinstance(error, InvalidInput | TooManyTags)
        assert (decision.requeue is None) == settled, row.id


def test_refusals_back_off_up_to_five_minutes() -> None:
    error = AccessDenied("AccessDeniedException", "", "CreateEventTracker")
    delays = [decide_error(error, desired(), Recorded(), retry=r).requeue for r in range(12)]
    assert delays[0] == 5.0 and max(d or 0 for d in delays) == 300.0


def test_transient_errors_back_off_up_to_a_minute() -> None:
    error = Retryable("InternalFailure", "", "CreateEventTracker")
    delays = [decide_error(error, desired(), Recorded(), retry=r).requeue for r in range(12)]
    assert delays[0] == 1.0 and max(d or 0 for d in delays) == 60.0


def test_errors_while_deleting_keep_deleting_and_retry() -> None:
    for error in (
        NotFound("ResourceNotFoundException", "", "DeleteEventTracker"),
        InvalidInput("InvalidInputException", "", "DeleteEventTracker"),
        AlreadyExists("ResourceAlreadyExistsException", "", "DeleteEventTracker"),
        AccessDenied("AccessDeniedException", "", "DeleteEventTracker"),
    ):
        decision = decide_error(error, desired(), Recorded(), deleting=True)
        assert decision.phase == Phase.DELETING and decision.requeue, error.code


def test_secret_problems_are_explained_and_retried() -> None:
    conflict = decide_secret_conflict("Secret shop/x exists and is not managed by this EventTracker")
    assert (conflict.phase, conflict.reason, conflict.stalled) == (Phase.FAILED, "SecretConflict", True)
    unwritten = decide_secret_not_written("writing Secret x failed: Kubernetes API answered 403 Forbidden")
    assert (unwritten.phase, unwritten.reason, unwritten.stalled) == (Phase.PENDING, "SecretNotWritten", False)
    assert conflict.requeue and unwritten.requeue


def test_an_unparseable_spec_is_failed_and_stalled() -> None:
    decision = decide_invalid_spec("spec.tags: too many")
    assert (decision.phase, decision.reason, decision.stalled, decision.requeue) == (
        Phase.FAILED,
        "InvalidSpec",
        True,
        None,
    )


def test_a_tenancy_refusal_is_failed_forbidden_names_the_rule_and_waits_for_the_resync_or_a_map_change() -> None:
    decision = decide_forbidden("namespace shop has no entry in the operator's tenancy map")
    assert (decision.phase, decision.reason, decision.stalled, decision.requeue, decision.synced) == (
        Phase.FAILED,
        "Forbidden",
        True,
        None,
        False,
    )
    assert decision.warning
    assert "namespace shop has no entry" in decision.message


TRANSITION_ROWS = [
    pytest.param(Recorded(phase="Creating", reason="Creating"), "Active", "Active", False, "Normal", id="now-active"),
    pytest.param(Recorded(phase="Active", reason="Active"), "Active", "Active", False, None, id="no-change-no-event"),
    pytest.param(
        Recorded(phase="Active", reason="Active"), "Creating", "RemoteMissing", True, "Warning", id="remote-missing"
    ),
    pytest.param(Recorded(), "Failed", "Conflict", True, "Warning", id="conflict"),
]


@pytest.mark.parametrize(("recorded", "phase", "reason", "warning", "kind"), TRANSITION_ROWS)
def test_one_event_per_state_change(recorded: Recorded, phase: str, reason: str, warning: bool, kind: str) -> None:
    event = transition_event(recorded, Decision(Step.WAIT, Phase(phase), reason, "m", warning=warning))
    assert (event.type if event else None) == kind


def test_failed_calls_get_a_constant_warning_reason_per_action() -> None:
    error = Retryable("InternalFailure", "boom", "CreateEventTracker")
    assert failure_event(Step.CREATE, error).reason == CANNOT_CREATE
    assert failure_event(None, error).reason == CANNOT_OBSERVE
    assert failure_event(Step.CREATE, error).type == "Warning"


OWNED = {UID_TAG: "uid-1", NAMESPACE_TAG: "shop", NAME_TAG: "storefront"}


@pytest.mark.parametrize(
    ("current", "to_set", "to_remove"),
    [
        pytest.param({}, {"team": "growth", **OWNED}, [], id="fresh"),
        pytest.param({"team": "old", **OWNED}, {"team": "growth"}, [], id="value-changed"),
        pytest.param({"team": "growth", "gone": "x", **OWNED}, {}, ["gone"], id="key-removed"),
        pytest.param(
            {"team": "growth", **OWNED, "personalize.operators.dev/other": "y"}, {}, [], id="ownership-prefix-untouched"
        ),
        pytest.param({"team": "growth", **OWNED, "aws:cloudformation:stack": "s"}, {}, [], id="aws-tags-untouched"),
        pytest.param({"team": "growth", "added": "x", **OWNED}, {}, ["added"], id="tag-added-in-aws-removed"),
        pytest.param({**OWNED}, {"team": "growth"}, [], id="tag-removed-in-aws-put-back"),
    ],
)
def test_tag_changes_are_the_difference(current: dict[str, str], to_set: dict[str, str], to_remove: list[str]) -> None:
    assert tag_changes(current, desired()) == (to_set, to_remove)
