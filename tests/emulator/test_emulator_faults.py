"""Injected faults, as boto3 (standard retry mode) experiences them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from personalize_emulator.faults import FaultInjector, FaultKind, FaultRule
from personalize_emulator.testing import Emulator
from support.aws_answers import OK, answer

ClientFactory = Callable[..., Any]
ONE_ATTEMPT = {"retries": {"mode": "standard", "total_max_attempts": 1}}


class TestThrottling:
    def test_boto3_retries_throttling_and_then_succeeds(self, personalize: Any, emulator: Emulator) -> None:
        emulator.admin.throttle(count=2, operations=["ListDatasetGroups"])
        response = personalize.list_dataset_groups()
        assert response["ResponseMetadata"]["RetryAttempts"] == 2
        assert emulator.admin.calls()["ListDatasetGroups"] == 3

    def test_persistent_throttling_surfaces_after_the_retries(self, personalize: Any, emulator: Emulator) -> None:
        emulator.admin.throttle()
        with pytest.raises(ClientError) as throttled:
            personalize.list_dataset_groups()
        assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
        assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert emulator.admin.calls()["ListDatasetGroups"] == 3  # AWS_MAX_ATTEMPTS

    def test_faults_limited_to_operations_spare_the_others(
        self, personalize: Any, emulator: Emulator, dataset_group: str
    ) -> None:
        emulator.admin.throttle(operations=["DescribeEventTracker"])
        arn = personalize.create_event_tracker(name="spared", datasetGroupArn=dataset_group)["eventTrackerArn"]
        with pytest.raises(ClientError) as throttled:
            personalize.describe_event_tracker(eventTrackerArn=arn)
        assert throttled.value.response["Error"]["Code"] == "ThrottlingException"


class TestInternalFailure:
    def test_a_500_reaches_the_caller_as_internal_failure(self, make_client: ClientFactory, emulator: Emulator) -> None:
        emulator.admin.internal_failure(operations=["ListDatasetGroups"])
        with pytest.raises(ClientError) as failed:
            make_client(**ONE_ATTEMPT).list_dataset_groups()
        assert failed.value.response["Error"]["Code"] == "InternalFailure"
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500

    def test_a_single_500_is_retried_away(self, personalize: Any, emulator: Emulator) -> None:
        emulator.admin.internal_failure(count=1)
        assert personalize.list_dataset_groups()["ResponseMetadata"]["RetryAttempts"] == 1


class TestAnyError:
    @pytest.mark.parametrize(
        ("code", "status"),
        [
            pytest.param("AccessDeniedException", 403, id="access-denied"),
            pytest.param("ExpiredTokenException", 400, id="expired-token"),
            pytest.param("SomethingNobodyKnows", 400, id="unknown-code"),
            pytest.param("LimitExceededException", 400, id="limit-exceeded"),
        ],
    )
    def test_an_error_fault_answers_the_code_and_status_asked_for(
        self, make_client: ClientFactory, emulator: Emulator, code: str, status: int
    ) -> None:
        emulator.admin.error(code, status, operations=["ListDatasetGroups"])
        with pytest.raises(ClientError) as failed:
            make_client(**ONE_ATTEMPT).list_dataset_groups()
        assert failed.value.response["Error"]["Code"] == code
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == status

    def test_an_error_fault_spares_other_operations(self, personalize: Any, emulator: Emulator) -> None:
        emulator.admin.error("AccessDeniedException", 403, operations=["CreateEventTracker"])
        assert personalize.list_dataset_groups()["ResponseMetadata"]["HTTPStatusCode"] == 200


class TestLatency:
    def test_latency_beyond_the_read_timeout_is_a_read_timeout(
        self, make_client: ClientFactory, emulator: Emulator
    ) -> None:
        emulator.admin.latency(1.5, operations=["ListDatasetGroups"])
        client = make_client(read_timeout=0.3, **ONE_ATTEMPT)
        with pytest.raises(ReadTimeoutError):
            client.list_dataset_groups()

    def test_latency_within_the_timeout_only_slows_down(self, personalize: Any, emulator: Emulator) -> None:
        import time

        emulator.admin.latency(0.3, count=1)
        started = time.monotonic()
        personalize.list_dataset_groups()
        assert time.monotonic() - started >= 0.3


class TestDroppedConnections:
    def test_a_dropped_connection_is_a_botocore_connection_error(
        self, make_client: ClientFactory, emulator: Emulator
    ) -> None:
        emulator.admin.drop_connections(operations=["ListDatasetGroups"])
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            make_client(**ONE_ATTEMPT).list_dataset_groups()

    def test_one_dropped_connection_is_retried_away(self, personalize: Any, emulator: Emulator) -> None:
        emulator.admin.drop_connections(count=1)
        assert personalize.list_dataset_groups()["ResponseMetadata"]["RetryAttempts"] == 1
        assert emulator.admin.calls()["ListDatasetGroups"] == 2


class TestDeterminism:
    """With a seed, a fractional fault rate hits the same calls every run."""

    @staticmethod
    def _outcomes(emulator: Emulator, client: Any) -> list[str]:
        emulator.admin.reset()
        emulator.admin.throttle(rate=0.5)
        return [answer(client.list_dataset_groups)[0] for _ in range(24)]

    def test_the_same_seed_throttles_the_same_calls(self, make_client: ClientFactory, emulator: Emulator) -> None:
        client = make_client(**ONE_ATTEMPT)
        first = self._outcomes(emulator, client)
        second = self._outcomes(emulator, client)
        assert first == second
        assert OK in first
        assert "ThrottlingException" in first

    def test_the_injector_is_reproducible_from_its_seed(self) -> None:
        def run(seed: int) -> list[bool]:
            injector = FaultInjector(seed)
            injector.add(FaultRule(kind=FaultKind.INTERNAL, rate=0.3))
            return [injector.pick("Op") is not None for _ in range(200)]

        assert run(7) == run(7)
        assert run(7) != run(8)
        assert 30 < sum(run(7)) < 90

    def test_count_limits_how_often_a_rule_fires(self) -> None:
        injector = FaultInjector(0)
        injector.add(FaultRule(kind=FaultKind.THROTTLE, count=2, operations=frozenset({"A"})))
        assert [injector.pick(op) is not None for op in ["B", "A", "A", "A"]] == [False, True, True, False]

    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"kind": "throttle", "rate": 1.5}, id="rate-above-one"),
            pytest.param({"kind": "latency"}, id="latency-without-seconds"),
            pytest.param({"kind": "explode"}, id="unknown-kind"),
            pytest.param({"kind": "drop", "count": -1}, id="negative-count"),
            pytest.param({"kind": "error"}, id="error-without-code"),
            pytest.param({"kind": "error", "code": "X", "status": 99}, id="error-status-not-http"),
        ],
    )
    def test_nonsense_rules_are_refused(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            FaultRule(**options)
