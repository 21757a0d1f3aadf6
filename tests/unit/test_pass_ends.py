"""Every way a pass can end is counted once in personalize_operator_reconciles_total, by action and result.

One row per kind of pass end: driven through the reconciler's real entry points (reconcile, finalize and the
passes module's invalid/forbidden/resumed ends) with in-memory fakes of our own edges. Before the one
function that ends every pass (reconciler/outcome.conclude), InvalidSpec, Forbidden and a resumed Active
were never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pydantic
import pytest
from prometheus_client import REGISTRY

from personalize_operator.api.model import EventTrackerSpec
from personalize_operator.api.names import UID_TAG
from personalize_operator.aws import errors
from personalize_operator.aws.tenancy import Refusal
from personalize_operator.reconciler import inputs, passes
from personalize_operator.reconciler.decide import Desired, Recorded
from personalize_operator.reconciler.outcome import Outcome
from personalize_operator.reconciler.reconcile import Context, finalize, reconcile
from support.builders import desired
from support.fakes import FakeOwners, FakeSecrets, FakeTrackers

COUNTER = "personalize_operator_reconciles_total"
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
    pytest.param(live(World(tracker="ACTIVE")), "Sync", "Active", id="active"),
    pytest.param(lambda: passes.resumed_pass(DESIRED, RESUMED_FROM), "Sync", "Active", id="resumed-active"),
    pytest.param(live(World()), "Create", "Creating", id="creating"),
    pytest.param(live(World(tracker="CREATE IN_PROGRESS")), "Wait", "Creating", id="waiting-on-aws"),
    pytest.param(live(World(tracker="CREATE FAILED")), "ReportFailed", "CreateFailed", id="create-failed"),
    pytest.param(live(World(foreign="ACTIVE", recorded_phase="Pending")), "Conflict", "Conflict", id="conflict"),
    pytest.param(
        live(World(foreign="ACTIVE", foreign_alive=False, desired=replace(DESIRED, adopt=True))),
        "Adopt",
        "Adopting",
        id="adopting",
    ),
    pytest.param(live(World(tracker="ACTIVE", secret_conflict=True)), "Wait", "SecretConflict", id="secret-conflict"),
    pytest.param(
        live(World(tracker="ACTIVE", secret_broken=True)), "Wait", "SecretNotWritten", id="secret-not-written"
    ),
    pytest.param(_invalid, "ReportFailed", "InvalidSpec", id="invalid-spec"),
    pytest.param(
        lambda: passes.forbidden_pass(BODY, DESIRED, Refusal("namespace shop has no entry in the tenancy map")),
        "ReportFailed",
        "Forbidden",
        id="forbidden",
    ),
    pytest.param(live(World(desired=replace(DESIRED, paused=True))), "Pause", "Paused", id="paused"),
    *(
        pytest.param(
            live(World(fail=_fail("CreateEventTracker", kind(code, "refused", "Create")))), step, reason, id=code
        )
        for kind, code, step, reason in [
            (errors.AccessDenied, "AccessDeniedException", "Wait", "AccessDenied"),
            (errors.Throttled, "ThrottlingException", "Wait", "Throttled"),
            (errors.Retryable, "ServiceUnavailable", "Wait", "AWSUnavailable"),
            (errors.NotFound, "ResourceNotFoundException", "Wait", "DatasetGroupNotFound"),
            (errors.AlreadyExists, "ResourceAlreadyExistsException", "Conflict", "NameConflict"),
            (errors.InvalidInput, "InvalidInputException", "ReportFailed", "InvalidSpec"),
            (errors.TooManyTags, "TooManyTagsException", "ReportFailed", "TooManyTags"),
        ]
    ),
    pytest.param(deleting(World(tracker="ACTIVE")), "finalize-Delete", "Deleting", id="deletion-delete"),
    pytest.param(deleting(World(tracker="DELETE IN_PROGRESS")), "finalize-Wait", "Deleting", id="deletion-wait"),
    pytest.param(deleting(World()), "finalize-Release", "NeverCreated", id="deletion-release"),
    pytest.param(
        deleting(World(tracker="ACTIVE", desired=replace(DESIRED, retain=True))),
        "finalize-ReleaseRetained",
        "Retained",
        id="deletion-retain",
    ),
    pytest.param(
        deleting(
            World(tracker="ACTIVE", fail=_fail("DeleteEventTracker", errors.InUse("ResourceInUseException", "", "")))
        ),
        "finalize-Wait",
        "ResourceInUse",
        id="deletion-in-use",
    ),
]


def _total() -> float:
    """Every pass counted, whatever its labels: each end is counted exactly once."""
    return sum(sample.value for metric in REGISTRY.collect() for sample in metric.samples if sample.name == COUNTER)


def _count(action: str, result: str) -> float:
    return REGISTRY.get_sample_value(COUNTER, {"action": action, "result": result}) or 0.0


@pytest.mark.parametrize(("run", "action", "result"), ROWS)
def test_every_pass_end_is_counted_once_with_its_action_and_result(
    run: Callable[[], Outcome], action: str, result: str
) -> None:
    before, every_before = _count(action, result), _total()

    outcome = run()

    assert (outcome.decision.reason, _count(action, result) - before, _total() - every_before) == (result, 1.0, 1.0)


def test_a_resumed_active_pass_is_counted_but_writes_nothing_and_posts_nothing() -> None:
    outcome = passes.resumed_pass(DESIRED, RESUMED_FROM)

    assert outcome.status == {} and outcome.events == [] and outcome.requeue is None
