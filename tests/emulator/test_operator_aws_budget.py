"""The operator's AWS client against the emulator: every attempt, retries included, takes a token
from its account and region's budget, which backs off on the emulator's rate limit; a pass's first call
on an empty budget is sent back unsent; the connection pool fits the workers."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from personalize_emulator.testing import Emulator
from personalize_operator.aws.client import ClientPool
from personalize_operator.aws.ratelimit import BudgetWait, CallBudget, parkable_pass


@pytest.fixture
def aws_env(emulator: Emulator) -> None:
    """The reset session emulator, with this process's AWS variables pointing at it."""


def test_calls_beyond_the_burst_are_spaced_at_the_ceiling(aws_env: None) -> None:
    pool = ClientPool(call_rate_ceiling=20, burst=1)
    client = pool.for_region("us-east-1")
    started = time.monotonic()
    for _ in range(11):
        client._call("ListDatasetGroups")
    assert time.monotonic() - started >= 10 / 20 * 0.9


def test_botocore_retries_wait_for_tokens_too(
    aws_env: None, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[float] = []
    before_send = CallBudget.before_send

    def counted(self: CallBudget, **kwargs: object) -> None:
        taken.append(self.rate)
        before_send(self, **kwargs)

    monkeypatch.setattr(CallBudget, "before_send", counted)
    emulator.admin.internal_failure(count=2, operations=["ListDatasetGroups"])
    ClientPool(call_rate_ceiling=10, burst=1, max_attempts=3).for_region("us-east-1")._call("ListDatasetGroups")
    assert emulator.admin.calls()["ListDatasetGroups"] == 3 and len(taken) == 3  # one token per attempt


def test_regions_have_separate_budgets(aws_env: None) -> None:
    pool = ClientPool(call_rate_ceiling=2, call_rate_floor=1, burst=1)
    pool.for_region("us-east-1")._call("ListDatasetGroups")
    started = time.monotonic()
    pool.for_region("eu-west-1")._call("ListDatasetGroups")
    assert time.monotonic() - started < 0.4


def test_the_emulator_s_limit_cuts_the_budget_to_what_it_accepted(aws_env: None, emulator: Emulator) -> None:
    """LimitExceededException (read by botocore's throttling detector) cuts the rate to what AWS accepted,
    and botocore's retry of the refused call waits for the budget and gets through."""
    emulator.admin.configure(tps_limit=5)
    client = (pool := ClientPool(call_rate_ceiling=40, call_rate_floor=1, burst=1)).for_region("us-east-1")
    with concurrent.futures.ThreadPoolExecutor(20) as threads:
        list(threads.map(lambda _: client._call("ListDatasetGroups"), range(20)))  # none raises
    assert emulator.admin.rate_limited().get("ListDatasetGroups", 0) >= 1
    assert pool.budget("us-east-1").curve.w_max <= 5  # back to what the emulator accepted, not to our ceiling


def test_a_pass_s_first_call_on_an_empty_budget_goes_back_unsent(aws_env: None, emulator: Emulator) -> None:
    pool = ClientPool(call_rate_ceiling=1, call_rate_floor=1, burst=1)
    client = pool.for_region("us-east-1")
    client._call("ListDatasetGroups")
    before = emulator.admin.calls().get("ListDatasetGroups", 0)
    with parkable_pass(), pytest.raises(BudgetWait) as parked:
        client._call("ListDatasetGroups")
    assert 0 < parked.value.seconds <= 1.1
    assert emulator.admin.calls().get("ListDatasetGroups", 0) == before  # nothing was sent


def test_the_connection_pool_holds_one_connection_per_worker() -> None:
    client = ClientPool(max_pool_connections=37).for_region("us-east-1").client
    assert client.meta.config.max_pool_connections == 37


def test_sightings_list_every_tracker_of_the_region_across_pages(aws_env: None, emulator: Emulator) -> None:
    emulator.admin.configure(tracker_quota=300)
    personalize = emulator.client()
    for i in range(150):
        group = personalize.create_dataset_group(name=f"board-{i}")["datasetGroupArn"]
        personalize.create_event_tracker(name=f"board-{i}", datasetGroupArn=group)
    emulator.admin.reset_calls()
    seen = list(ClientPool(call_rate_ceiling=100, burst=10).for_region("us-east-1").sightings())
    assert len(seen) == 150 and {s.status for s in seen} == {"ACTIVE"}
    assert emulator.admin.calls() == {"ListEventTrackers": 2}


def test_the_create_answer_keeps_the_tracking_id_in_the_client_only(aws_env: None, emulator: Emulator) -> None:
    personalize = emulator.client()
    group = personalize.create_dataset_group(name="kept")["datasetGroupArn"]
    client = ClientPool().for_region("us-east-1")
    arn = client.create(name="kept", dataset_group_arn=group, tags={})
    kept = client.created(arn)
    assert kept is not None and kept[1] == group
    assert kept[0] == emulator.admin.tracker(arn=arn)["trackingId"]
    assert "trackingId" not in repr(client) and kept[0] not in repr(client)
    client.forget_created(arn)
    assert client.created(arn) is None
