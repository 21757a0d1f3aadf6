"""Every way a pass can end is counted once: in personalize_operator_reconciles_total by action and result, and
in controller_runtime_reconcile_total by the result controller-runtime would report (issue 25, acceptance 4).

One row per kind of pass end: driven through the reconciler's real entry points (reconcile, finalize and the
passes module's invalid/forbidden/resumed ends) with in-memory fakes of our own edges. Before the one
function that ends every pass (reconciler/outcome.conclude), InvalidSpec, Forbidden and a resumed Active
were never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pydantic
import pytest
from prometheus_client import REGISTRY

from personalize_operator.api.model import EventTrackerSpec
from personalize_operator.api.names import UID_TAG
from personalize_operator.aws import errors
from personalize_operator.aws.tenancy import Refusal
from personalize_operator.reconciler import inputs, passes
from personalize_operator.reconciler.decide import Decision, Desired, Phase, Recorded, Step
from personalize_operator.reconciler.outcome import Outcome, reconcile_result
from personalize_operator.reconciler.reconcile import Context, finalize, reconcile
from personalize_operator.runtime.metrics import CONTROLLER, ReconcileResult
from support.builders import desired
from support.fakes import FakeOwners, FakeSecrets, FakeTrackers

COUNTER = "personalize_operator_reconciles_total"
RESULTS = "controller_runtime_reconcile_total"
ERRORS = "controller_runtime_reconcile_errors_total"
SUCCESS, ERROR = ReconcileResult.SUCCESS, ReconcileResult.ERROR
REQUEUE, REQUEUE_AFTER = ReconcileResult.REQUEUE, ReconcileResult.REQUEUE_AFTER
DESIRED = desired(tags={})
OURS = {UID_TAG: "uid-1"}
BODY = {"metadata": {"uid": "uid-1", "namespace": "shop", "name": "storefront", "generation": 1}, "spec": {}}
# Only a resource whose status says Active (and nothing changed since) is ever resumed (decide.settled_active).
ACTIVE_BODY = {**BODY, "status": {"phase": "Active", "conditions": [{"type": "Ready", "reason": "Active"}]}}
RESUMED_FROM = inputs.recorded_from(ACTIVE_BODY)


@dataclass(frozen=True)
class World:
    """What the fakes hold before the pass."""

    tracker: str = ""  # AWS status of our tracker ("" for none)
    foreign: str = ""  # AWS status of another resource's tracker in the dataset group
    foreign_alive: bool = True
    fail: tuple[tuple[str, errors.AwsError], ...] = ()
    secret_conflict: bool = False
    secret_broken: bool = False
    desired: Desired = DESIRED
    recorded_phase: str = ""


def _context(world: World) -> tuple[Context, FakeTrackers]:
    aws = FakeTrackers(fail=dict(world.fail))
    recorded = Recorded(phase=world.recorded_phase)
    if world.tracker:
        recorded = Recorded(arn=aws.add(world.tracker, OURS).arn, phase=world.recorded_phase or "Creating")
    if world.foreign:
        aws.add(world.foreign, {UID_TAG: "uid-other", f"{UID_TAG[:-3]}namespace": "shop", f"{UID_TAG[:-3]}name": "x"})
    ctx = Context(
        aws=aws,
        secrets=FakeSecrets(conflict=world.secret_conflict, broken=world.secret_broken),
        owners=FakeOwners(alive_uids={"uid-other"} if world.foreign_alive else set()),
        desired=world.desired,
        recorded=recorded,
        previous_conditions=[],
    )
    return ctx, aws


def live(world: World) -> Callable[[], Outcome]:
    return lambda: reconcile(_context(world)[0])


def deleting(world: World) -> Callable[[], Outcome]:
    return lambda: finalize(_context(world)[0])


def _invalid() -> Outcome:
    with pytest.raises(pydantic.ValidationError) as refused:
        EventTrackerSpec.model_validate({"datasetGroupArn": "not-an-arn"})
    return passes.invalid_pass(BODY, refused.value)


def _fail(operation: str, error: errors.AwsError) -> tuple[tuple[str, errors.AwsError], ...]:
    return ((operation, error),)


ROWS = [
    pytest.param(live(World(tracker="ACTIVE")), "Sync", "Active", SUCCESS, id="active"),
    pytest.param(lambda: passes.resumed_pass(DESIRED, RESUMED_FROM), "Sync", "Active", SUCCESS, id="resumed-active"),
    pytest.param(live(World()), "Create", "Creating", REQUEUE_AFTER, id="creating"),
    pytest.param(live(World(tracker="CREATE IN_PROGRESS")), "Wait", "Creating", REQUEUE_AFTER, id="waiting-on-aws"),
    pytest.param(live(World(tracker="CREATE FAILED")), "ReportFailed", "CreateFailed", ERROR, id="create-failed"),
    pytest.param(live(World(foreign="ACTIVE", recorded_phase="Pending")), "Conflict", "Conflict", ERROR, id="conflict"),
    pytest.param(
        live(World(foreign="ACTIVE", foreign_alive=False, desired=replace(DESIRED, adopt=True))),
        "Adopt",
        "Adopting",
        REQUEUE_AFTER,
        id="adopting",
    ),
    pytest.param(
        live(World(tracker="ACTIVE", secret_conflict=True)), "Wait", "SecretConflict", ERROR, id="secret-conflict"
    ),
    pytest.param(
        live(World(tracker="ACTIVE", secret_broken=True)), "Wait", "SecretNotWritten", ERROR, id="secret-not-written"
    ),
    pytest.param(_invalid, "ReportFailed", "InvalidSpec", ERROR, id="invalid-spec"),
    pytest.param(
        lambda: passes.forbidden_pass(BODY, DESIRED, Refusal("namespace shop has no entry in the tenancy map")),
        "ReportFailed",
        "Forbidden",
        ERROR,
        id="forbidden",
    ),
    pytest.param(live(World(desired=replace(DESIRED, paused=True))), "Pause", "Paused", SUCCESS, id="paused"),
    *(
        pytest.param(
            live(World(fail=_fail("CreateEventTracker", kind(code, "refused", "Create")))),
            step,
            reason,
            result,
            id=code,
        )
        for kind, code, step, reason, result in [
            (errors.AccessDenied, "AccessDeniedException", "Wait", "AccessDenied", ERROR),
            (errors.Throttled, "ThrottlingException", "Wait", "Throttled", REQUEUE_AFTER),
            (errors.Retryable, "ServiceUnavailable", "Wait", "AWSUnavailable", ERROR),
            (errors.NotFound, "ResourceNotFoundException", "Wait", "DatasetGroupNotFound", ERROR),
            (errors.AlreadyExists, "ResourceAlreadyExistsException", "Conflict", "NameConflict", ERROR),
            (errors.InvalidInput, "InvalidInputException", "ReportFailed", "InvalidSpec", ERROR),
            (errors.TooManyTags, "TooManyTagsException", "ReportFailed", "TooManyTags", ERROR),
        ]
    ),
    pytest.param(deleting(World(tracker="ACTIVE")), "finalize-Delete", "Deleting", REQUEUE_AFTER, id="deletion-delete"),
    pytest.param(
        deleting(World(tracker="DELETE IN_PROGRESS")), "finalize-Wait", "Deleting", REQUEUE_AFTER, id="deletion-wait"
    ),
    pytest.param(deleting(World()), "finalize-Release", "NeverCreated", SUCCESS, id="deletion-release"),
    pytest.param(
        deleting(World(tracker="ACTIVE", desired=replace(DESIRED, retain=True))),
        "finalize-ReleaseRetained",
        "Retained",
        SUCCESS,
        id="deletion-retain",
    ),
    pytest.param(
        deleting(
            World(tracker="ACTIVE", fail=_fail("DeleteEventTracker", errors.InUse("ResourceInUseException", "", "")))
        ),
        "finalize-Wait",
        "ResourceInUse",
        ERROR,
        id="deletion-in-use",
    ),
]


def _total() -> float:
    """Every pass counted, whatever its labels: each end is counted exactly once."""
    return sum(sample.value for metric in REGISTRY.collect() for sample in metric.samples if sample.name == COUNTER)


def _count(action: str, result: str) -> float:
    return REGISTRY.get_sample_value(COUNTER, {"action": action, "result": result}) or 0.0


def _results() -> dict[str, float]:
    """controller_runtime_reconcile_total by result, and (as "errors_total") the errors counter."""
    counts = {
        str(r): REGISTRY.get_sample_value(RESULTS, {"controller": CONTROLLER, "result": r}) for r in ReconcileResult
    }
    counts["errors_total"] = REGISTRY.get_sample_value(ERRORS, {"controller": CONTROLLER})
    return {key: value or 0.0 for key, value in counts.items()}


@pytest.mark.parametrize(("run", "action", "result", "_"), ROWS)
def test_every_pass_end_is_counted_once_with_its_action_and_result(
    run: Callable[[], Outcome], action: str, result: str, _: ReconcileResult
) -> None:
    before, every_before = _count(action, result), _total()

    outcome = run()

    assert (outcome.decision.reason, _count(action, result) - before, _total() - every_before) == (result, 1.0, 1.0)


@pytest.mark.parametrize(("run", "_action", "_reason", "result"), ROWS)
def test_every_pass_end_counts_one_controller_runtime_reconcile_with_its_result(
    run: Callable[[], Outcome], _action: str, _reason: str, result: ReconcileResult
) -> None:
    """Acceptance 4 of issue 25: +1 on exactly the expected result (and on errors_total exactly for an error)."""
    before = _results()

    run()

    after = _results()
    expected = {key: 0.0 for key in before} | {str(result): 1.0, "errors_total": float(result == ERROR)}
    assert {key: after[key] - before[key] for key in before} == expected


def test_a_resumed_active_pass_is_counted_but_writes_nothing_and_posts_nothing() -> None:
    outcome = passes.resumed_pass(DESIRED, RESUMED_FROM)

    assert outcome.status == {} and outcome.events == [] and outcome.requeue is None


def _decision(step: Step, phase: Phase, reason: str, **how: Any) -> Decision:
    return Decision(step, phase, reason, "", **how)


@pytest.mark.parametrize(
    ("decision", "result"),
    [
        pytest.param(_decision(Step.WAIT, Phase.ACTIVE, "LimitExceeded", requeue=2.0, synced=False), REQUEUE_AFTER),
        pytest.param(_decision(Step.RELEASE, Phase.DELETING, "OwnedByOtherCluster"), SUCCESS, id="release-other"),
        pytest.param(_decision(Step.RELEASE, Phase.DELETING, "Deleted"), SUCCESS, id="release-deleted"),
        pytest.param(_decision(Step.CONFLICT, Phase.FAILED, "OwnedByOtherCluster", requeue=300.0), ERROR),
        pytest.param(_decision(Step.DELETE_FAILED, Phase.CREATING, "Retrying", requeue=2.0), REQUEUE_AFTER),
        pytest.param(_decision(Step.WAIT, Phase.CREATING, "RemoteDeleting", requeue=5.0, warning=True), REQUEUE_AFTER),
        pytest.param(_decision(Step.SYNC, Phase.ACTIVE, "RestartForbidden", requeue=60.0, synced=False), ERROR),
        pytest.param(_decision(Step.PAUSE, Phase.ACTIVE, "Paused", synced=False), SUCCESS, id="paused-active"),
        pytest.param(_decision(Step.CREATE, Phase.CREATING, "Creating", requeue=0.0), REQUEUE, id="at-once"),
    ],
)
def test_pass_ends_the_pass_table_does_not_reach_map_to_their_result(
    decision: Decision, result: ReconcileResult
) -> None:
    assert reconcile_result(decision) == result


def test_an_error_that_is_requeued_counts_a_work_queue_retry_and_a_settled_error_does_not() -> None:
    labels = {"controller": CONTROLLER, "name": CONTROLLER}
    before = REGISTRY.get_sample_value("workqueue_retries_total", labels) or 0.0

    live(World(fail=_fail("CreateEventTracker", errors.AccessDenied("AccessDeniedException", "", ""))))()
    live(World(tracker="CREATE FAILED"))()  # an error with no requeue: looked at again at resync only

    assert (REGISTRY.get_sample_value("workqueue_retries_total", labels) or 0.0) - before == 1.0
