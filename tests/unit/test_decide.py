"""Every row of DESIGN.md's behaviour table, decided without any I/O."""

from __future__ import annotations

import pytest

from personalize_operator.aws import (
    AlreadyExists,
    AwsError,
    InUse,
    InvalidInput,
    NotFound,
    Refused,
    RemoteTracker,
    Retryable,
)
from personalize_operator.decide import (
    NAME_TAG,
    NAMESPACE_TAG,
    UID_TAG,
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
    tag_changes,
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
        desired(retain=True), Observation(tracker=tracker("ACTIVE")), Step.RELEASE, "Retained", id="policy-retain"
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


ERROR_ROWS = [
    pytest.param(
        Retryable("ThrottlingException", "slow down", "DescribeEventTracker"),
        "Active",
        Phase.ACTIVE,
        "AWSUnavailable",
        id="throttling-keeps-phase",
    ),
    pytest.param(
        Retryable("InternalFailure", "", "CreateEventTracker"),
        "Creating",
        Phase.CREATING,
        "AWSUnavailable",
        id="5xx-keeps-phase",
    ),
    pytest.param(
        NotFound("ResourceNotFoundException", "no dg", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "DatasetGroupNotFound",
        id="dataset-group-missing",
    ),
    pytest.param(
        Refused("AccessDeniedException", "no", "CreateEventTracker"),
        "",
        Phase.PENDING,
        "AccessDenied",
        id="access-denied",
    ),
    pytest.param(
        Refused("LimitExceededException", "quota", "CreateEventTracker"), "", Phase.PENDING, "LimitExceeded", id="quota"
    ),
    pytest.param(
        InvalidInput("InvalidInputException", "bad", "CreateEventTracker"),
        "",
        Phase.FAILED,
        "InvalidSpec",
        id="invalid-input",
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


def test_refusals_back_off_up_to_five_minutes() -> None:
    error = NotFound("ResourceNotFoundException", "", "CreateEventTracker")
    delays = [decide_error(error, desired(), Recorded(), retry=r).requeue for r in range(12)]
    assert delays[0] == 5.0 and max(d or 0 for d in delays) == 300.0


def test_errors_while_deleting_keep_deleting_and_retry() -> None:
    decision = decide_error(
        NotFound("ResourceNotFoundException", "", "DeleteEventTracker"), desired(), Recorded(), deleting=True
    )
    assert decision.phase == Phase.DELETING and decision.requeue


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
    ],
)
def test_tag_changes_are_the_difference(current: dict[str, str], to_set: dict[str, str], to_remove: list[str]) -> None:
    assert tag_changes(current, desired()) == (to_set, to_remove)
