"""The TPS limit: calls above N per second are refused as AWS refuses them, and boto3 sees AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from personalize_emulator.config import EmulatorConfig
from personalize_emulator.ratelimit import RateLimiter, rate_exceeded
from personalize_emulator.testing import Emulator
from support.aws_answers import OK, answer

ONE_ATTEMPT = {"retries": {"mode": "standard", "total_max_attempts": 1}}


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestRateLimiter:
    def test_calls_up_to_the_limit_within_one_second_are_admitted_and_the_next_refused(self) -> None:
        time = FakeTime()
        limiter = RateLimiter(limit=lambda: 3, now=time)
        assert [limiter.admit("personalize", "us-east-1", "Op") for _ in range(4)] == [True, True, True, False]
        assert limiter.refused() == {"Op": 1}

    def test_the_allowance_comes_back_as_the_second_slides(self) -> None:
        time = FakeTime()
        limiter = RateLimiter(limit=lambda: 2, now=time)
        limiter.admit("personalize", "r", "Op")
        time.now += 0.5
        limiter.admit("personalize", "r", "Op")
        assert not limiter.admit("personalize", "r", "Op")
        time.now += 0.5  # the first call leaves the window
        assert limiter.admit("personalize", "r", "Op")
        assert not limiter.admit("personalize", "r", "Op")

    def test_refused_calls_do_not_use_up_the_allowance(self) -> None:
        time = FakeTime()
        limiter = RateLimiter(limit=lambda: 1, now=time)
        limiter.admit("personalize", "r", "Op")
        for _ in range(10):
            time.now += 0.05
            limiter.admit("personalize", "r", "Op")
        time.now = 101.0
        assert limiter.admit("personalize", "r", "Op")

    def test_regions_and_apis_have_separate_allowances(self) -> None:
        limiter = RateLimiter(limit=lambda: 1, now=FakeTime())
        assert limiter.admit("personalize", "us-east-1", "Op")
        assert limiter.admit("personalize", "eu-west-1", "Op")
        assert limiter.admit("personalize-events", "us-east-1", "PutEvents")
        assert not limiter.admit("personalize", "us-east-1", "Op")

    def test_zero_means_no_limit(self) -> None:
        limiter = RateLimiter(limit=lambda: 0, now=FakeTime())
        assert all(limiter.admit("personalize", "r", "Op") for _ in range(1000))

    def test_the_control_plane_answers_limit_exceeded_and_events_answer_throttling(self) -> None:
        assert rate_exceeded("personalize").code == "LimitExceededException"
        assert rate_exceeded("personalize-events").code == "ThrottlingException"
        assert rate_exceeded("personalize").status == rate_exceeded("personalize-events").status == 400

    def test_a_negative_limit_is_refused_at_configuration(self) -> None:
        with pytest.raises(ValueError, match="tps_limit"):
            EmulatorConfig(tps_limit=-1)


class TestOverHttp:
    def test_a_burst_above_the_limit_gets_limit_exceeded_with_awss_message(
        self, make_client: Any, emulator: Emulator
    ) -> None:
        emulator.admin.configure(tps_limit=5)
        client = make_client(**ONE_ATTEMPT)
        answers = [answer(client.list_dataset_groups) for _ in range(8)]
        codes = [code for code, _ in answers]
        message = next((message for code, message in answers if code != OK), "")
        assert codes.count(OK) >= 5  # the window may slide during the loop on a slow machine
        assert "LimitExceededException" in codes
        assert message == "The limit on the number of requests per second has been exceeded."
        refused = emulator.admin.rate_limited()
        assert refused["ListDatasetGroups"] == codes.count("LimitExceededException")
        assert emulator.admin.calls()["ListDatasetGroups"] == 8  # refused calls are calls too

    def test_put_events_above_the_limit_gets_throttling(
        self, make_client: Any, emulator: Emulator, dataset_group: str
    ) -> None:
        personalize = make_client()
        arn = personalize.create_event_tracker(name="limited", datasetGroupArn=dataset_group)["eventTrackerArn"]
        tracking_id = personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["trackingId"]
        emulator.admin.configure(tps_limit=1)
        events = make_client("personalize-events", **ONE_ATTEMPT)
        event = {"eventType": "click", "sentAt": 1700000000}
        events.put_events(trackingId=tracking_id, sessionId="s", eventList=[event])
        with pytest.raises(ClientError) as throttled:
            events.put_events(trackingId=tracking_id, sessionId="s", eventList=[event])
        assert throttled.value.response["Error"]["Code"] == "ThrottlingException"

    def test_boto3_standard_retries_get_through_a_momentary_limit(self, make_client: Any, emulator: Emulator) -> None:
        emulator.admin.configure(tps_limit=2)
        client = make_client(retries={"mode": "standard", "total_max_attempts": 5})
        for _ in range(4):
            client.list_dataset_groups()
        assert emulator.admin.rate_limited().get("ListDatasetGroups", 0) >= 1

    def test_the_limit_is_set_and_shown_by_the_admin_config_and_cleared_by_reset(self, emulator: Emulator) -> None:
        assert emulator.admin.configure(tps_limit=7)["tpsLimit"] == 7
        assert emulator.admin.config()["tpsLimit"] == 7
        emulator.admin.reset()
        assert emulator.admin.config()["tpsLimit"] == 0
        assert emulator.admin.rate_limited() == {}
