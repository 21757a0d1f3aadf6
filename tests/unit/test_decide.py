"""Every row of docs/design.md's behaviour table, decided without any I/O."""

from __future__ import annotations

import pytest

from personalize_operator.api.names import NAME_TAG, NAMESPACE_TAG, UID_TAG
from personalize_operator.aws.errors import AccessDenied, AlreadyExists, InvalidInput, NotFound, Retryable, TooManyTags
from personalize_operator.reconciler.decide import (
    CANNOT_CREATE,
    CANNOT_OBSERVE,
    Decision,
    Event,
    Phase,
    Recorded,
    Step,
    backoff,
    decide,
    decide_error,
    decide_forbidden,
    decide_invalid_spec,
    decide_paused,
    decide_release,
    decide_secret_conflict,
    decide_secret_not_written,
    expects_new_secret,
    failure_event,
    pass_events,
    settled_active,
    tag_changes,
    transition_event,
    wants_refresh,
)
from personalize_operator.reconciler.status import render
from support.behaviour import FAILURES, ROWS, Row
from support.builders import ARN, TRACKING_ID, active_recorded, desired, foreign, observation


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_every_row_of_the_behaviour_table(row: Row) -> None:
    assert row.actual == row.expected
    if row.error is not None:
        assert not row.decision.synced


def test_conflict_names_the_other_tracker_and_rechecks_slowly() -> None:
    decision = decide(desired(), Recorded(), foreign("x"))
    assert "theirs" in decision.message and ARN in decision.message
    assert decision.requeue is not None and decision.requeue >= 60
    assert decision.warning and decision.stalled and decision.forget_arn


def test_a_conflict_with_a_live_owner_names_it() -> None:
    decision = decide(desired(adopt=True), Recorded(), foreign("alive", owner="team-a/shop"))
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
    assert decide(desired(), Recorded(), observation("ACTIVE")).requeue is None
    assert decide(desired(), Recorded(), observation("CREATE PENDING")).requeue == 1.0


def test_no_message_contains_the_tracking_id() -> None:
    assert [row.name for row in ROWS if TRACKING_ID in row.decision.message] == []


@pytest.mark.parametrize(("retry", "delay"), [(0, 1.0), (1, 2.0), (3, 8.0), (5, 30.0), (50, 30.0)])
def test_polling_delay_doubles_from_one_second_to_thirty(retry: int, delay: float) -> None:
    assert backoff(retry) == delay


@pytest.mark.parametrize(
    "recorded",
    [
        pytest.param(Recorded(arn=ARN), id="a-recorded-tracker"),
        pytest.param(Recorded(create_requested=True), id="a-create-was-requested"),
    ],
)
def test_deletions_that_must_look_at_aws(recorded: Recorded) -> None:
    assert decide_release(desired(), recorded) is None


@pytest.mark.parametrize("row", FAILURES, ids=[row.name for row in FAILURES])
def test_spec_refusals_settle_until_the_resync_and_everything_else_comes_back(row: Row) -> None:
    settled = isinstance(row.error, InvalidInput | TooManyTags) and not row.deleting
    assert (row.decision.requeue is None) == settled


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


CREATING = Event("Normal", "Creating", "creating event tracker t")
ACTIVE = Event("Normal", "Active", "event tracker t is ACTIVE")
MISSING = Event("Warning", "RemoteMissing", "event tracker t is gone")
CREATED = Event("Normal", "CreatedEventTracker", "created event tracker t")
WRITTEN = Event("Normal", "SecretWritten", "Secret s holds the tracking ID")
TAGGED = Event("Normal", "TagsUpdated", "set 1 and removed 0 tag(s)")
REFUSED = Event("Warning", "CannotUpdateEventTracker", "TagResource failed")


@pytest.mark.parametrize(
    ("transition", "actions", "expected"),
    [
        pytest.param(
            CREATING,
            [CREATED],
            [("Creating", "creating event tracker t; created event tracker t")],
            id="a-create-is-said-in-the-creating-event",
        ),
        pytest.param(
            ACTIVE,
            [TAGGED, WRITTEN],
            [("Active", "event tracker t is ACTIVE; Secret s holds the tracking ID"), ("TagsUpdated", TAGGED.message)],
            id="the-secret-is-said-in-the-active-event-other-actions-keep-theirs",
        ),
        pytest.param(None, [WRITTEN], [("SecretWritten", WRITTEN.message)], id="no-transition-the-action-has-its-own"),
        pytest.param(
            MISSING,
            [CREATED],
            [("RemoteMissing", MISSING.message), ("CreatedEventTracker", CREATED.message)],
            id="a-warning-transition-folds-nothing",
        ),
        pytest.param(
            ACTIVE,
            [REFUSED],
            [("Active", ACTIVE.message), ("CannotUpdateEventTracker", REFUSED.message)],
            id="warnings",
        ),
    ],
)
def test_a_transition_event_carries_the_actions_it_implies(
    transition: Event | None, actions: list[Event], expected: list[tuple[str, str]]
) -> None:
    """Two Events per new resource (Creating, Active) instead of four: fewer writes to the API server in a burst."""
    assert [(e.reason, e.message) for e in pass_events(transition, actions)] == expected


@pytest.mark.parametrize(
    ("recorded_secret", "wanted", "expected"),
    [
        pytest.param("", "shop-tracking", True, id="never-written-create-without-reading"),
        pytest.param("old-tracking", "shop-tracking", True, id="renamed-create-without-reading"),
        pytest.param("shop-tracking", "shop-tracking", False, id="written-before-read-then-repair"),
    ],
)
def test_a_secret_status_never_named_is_created_without_a_read(
    recorded_secret: str, wanted: str, expected: bool
) -> None:
    assert expects_new_secret(Recorded(secret_name=recorded_secret), wanted) is expected


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


# --- the refresh annotation (Argo CD's `refresh` action): a pass that reads AWS itself ---------------


@pytest.mark.parametrize(
    ("annotation", "handled", "paused", "fresh"),
    [
        pytest.param("2026-01-01T10:00:00Z", "", False, True, id="first-refresh"),
        pytest.param("2026-01-01T10:05:00Z", "2026-01-01T10:00:00Z", False, True, id="new-value"),
        pytest.param("2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z", False, False, id="already-handled"),
        pytest.param("", "", False, False, id="no-annotation"),
        pytest.param("2026-01-01T10:00:00Z", "", True, False, id="paused-wins"),
    ],
)
def test_a_new_refresh_value_asks_for_a_fresh_read_and_no_resume(
    annotation: str, handled: str, paused: bool, fresh: bool
) -> None:
    want = desired(refresh_token=annotation, paused=paused)
    before = active_recorded(refresh_token=handled, owner_cluster=want.cluster)

    assert wants_refresh(want, before) is fresh
    # A resource whose refresh is pending is never resumed from the status board's list (reconciler/resume.py).
    assert settled_active(want, before) is (not fresh and not paused)


@pytest.mark.parametrize(
    ("decision", "handled"),
    [
        pytest.param(decide(desired(), active_recorded(), observation("ACTIVE")), "r2", id="active-pass"),
        pytest.param(decide_paused(active_recorded()), None, id="paused-pass"),
    ],
)
def test_a_pass_records_the_refresh_it_acted_on_unless_paused(decision: Decision, handled: str | None) -> None:
    want = desired(refresh_token="r2")

    rendered = render(want, active_recorded(refresh_token="r1"), decision, None, [], "2026-01-01T10:00:00Z")

    assert rendered.get("refreshHandled") == handled
