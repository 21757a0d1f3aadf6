"""Status rendering is a pure function of the decision: conditions, identity, the forgotten ARN."""

from __future__ import annotations

from personalize_operator.reconciler.decide import Decision, Phase, Recorded, Step
from personalize_operator.reconciler.status import render, render_invalid
from support.builders import ARN, desired, remote_tracker

NOW = "2026-11-27T10:00:00Z"
DESIRED = desired(uid="u", generation=3, tags={})
ACTIVE = remote_tracker("ACTIVE", tags={})


def conditions_by_type(status: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["type"]: c for c in status["conditions"]}  # type: ignore[index, union-attr]


def test_active_is_ready_and_synced_with_identity_and_secret_name() -> None:
    decision = Decision(Step.SYNC, Phase.ACTIVE, "Active", "event tracker storefront is ACTIVE")
    status = render(DESIRED, Recorded(), decision, ACTIVE, [], NOW)
    found = conditions_by_type(status)
    assert found["Ready"]["status"] == "True" and found["Synced"]["status"] == "True"
    assert found["Ready"]["observedGeneration"] == 3
    assert status["eventTrackerArn"] == ARN and status["accountId"] == "111122223333"
    assert status["secretName"] == "storefront-tracking" and status["region"] == "eu-west-1"
    assert "secret-id" not in repr(status)


def test_a_failed_pass_says_why_in_synced() -> None:
    decision = Decision(Step.WAIT, Phase.PENDING, "AccessDenied", "not allowed", synced=False)
    found = conditions_by_type(render(DESIRED, Recorded(), decision, None, [], NOW))
    assert (found["Synced"]["status"], found["Synced"]["reason"], found["Synced"]["message"]) == (
        "False",
        "AccessDenied",
        "not allowed",
    )
    assert found["Ready"]["status"] == "False"


def test_a_tracker_known_gone_is_forgotten() -> None:
    decision = Decision(Step.CONFLICT, Phase.FAILED, "Conflict", "taken", forget_arn=True)
    status = render(DESIRED, Recorded(arn=ARN), decision, None, [], NOW)
    assert status["eventTrackerArn"] is None and status["awsStatus"] is None and status["createRequested"] is None


def test_without_a_tracker_the_identity_is_left_as_it_was() -> None:
    decision = Decision(Step.PAUSE, Phase.ACTIVE, "Paused", "paused", synced=False)
    status = render(DESIRED, Recorded(arn=ARN), decision, None, [], NOW)
    assert "eventTrackerArn" not in status


def test_last_transition_time_moves_only_when_a_condition_flips() -> None:
    first = render(DESIRED, Recorded(), Decision(Step.WAIT, Phase.CREATING, "Creating", "m"), None, [], NOW)
    later = render(
        DESIRED, Recorded(), Decision(Step.WAIT, Phase.CREATING, "Creating", "m2"), None, first["conditions"], "LATER"
    )
    assert conditions_by_type(later)["Ready"]["lastTransitionTime"] == NOW
    active = render(
        DESIRED, Recorded(), Decision(Step.SYNC, Phase.ACTIVE, "Active", "m"), ACTIVE, later["conditions"], "LATEST"
    )
    assert conditions_by_type(active)["Ready"]["lastTransitionTime"] == "LATEST"


def test_an_invalid_spec_touches_no_identity() -> None:
    decision = Decision(Step.REPORT_FAILED, Phase.FAILED, "InvalidSpec", "invalid spec: x", synced=False)
    status = render_invalid(decision, 4, [], NOW)
    assert set(status) == {"phase", "observedGeneration", "conditions"}
    assert conditions_by_type(status)["Ready"]["reason"] == "InvalidSpec"


def test_the_account_is_the_one_the_tracker_carries_and_arns_are_read_by_botocore() -> None:
    from personalize_operator.api import arns
    from personalize_operator.reconciler.status import identity

    arn = "arn:aws:personalize:eu-west-1:111111111111:event-tracker/0f3c"
    assert identity(remote_tracker(arn=arn, account_id="222222222222"))["accountId"] == "222222222222"
    assert arns.account_of(arn) == "111111111111" and arns.region_of(arn) == "eu-west-1"
    assert arns.partition_of("arn:aws-cn:personalize:cn-north-1:1:dataset-group/x") == "aws-cn"
    assert arns.account_of("not-an-arn") == "" and arns.region_of("") == ""
