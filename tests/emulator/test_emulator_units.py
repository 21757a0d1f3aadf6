"""Pure pieces of the emulator, without HTTP: pattern translation, lifecycle, validation messages, tokens, auth."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from personalize_emulator import errors, patterns, protocol, validation
from personalize_emulator.clock import ManualClock
from personalize_emulator.config import EmulatorConfig
from personalize_emulator.lifecycle import Lifecycle, Status
from personalize_emulator.pagination import Paginator
from personalize_emulator.rules import Hold, Kind, Selector
from personalize_emulator.state import Caller, Store

MODEL = botocore.session.get_session().get_service_model("personalize")
ARN = r"arn:([a-z\d-]+):personalize:.*:.*:.+"
CALLER = Caller(account_id="123456789012", region="us-east-1")


class TestJavaPatterns:
    """AWS checks patterns with java.util.regex and whole-value matching."""

    @pytest.mark.parametrize(
        ("pattern", "value", "expected"),
        [
            pytest.param(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*", "a.b", False, id="whole-value-without-dollar"),
            pytest.param(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*", "a-b_c", True, id="name-ok"),
            pytest.param(ARN, "arn:a٣:personalize:r:a:x", False, id="d-is-ascii"),
            pytest.param(ARN, "arn:aws:personalize:r:a:x\r", False, id="dot-not-cr"),
            pytest.param(ARN, "arn:aws:personalize:r:a:x\u2028", False, id="dot-ls"),
            pytest.param(ARN, "arn:aws:personalize:r:a:x\t", True, id="dot-tab"),
            pytest.param(r"\p{ASCII}{0,3}", "abc", True, id="posix-ascii"),
            pytest.param(r"\p{ASCII}{0,3}", "é", False, id="posix-ascii-rejects"),
            pytest.param(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", "Grüße 東京 ٣\u2028", True, id="unicode-classes"),
            pytest.param(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", "a!b", False, id="unicode-classes-reject"),
            pytest.param(r"[\w]+", "é", False, id="w-is-ascii"),
            pytest.param(r"\Qa.b\E", "a.b", True, id="quoted"),
            pytest.param(r"\Qa.b\E", "axb", False, id="quoted-dot-is-literal"),
            pytest.param(r"[^\s]+", "ab", True, id="negated-class"),
        ],
    )
    def test_matches(self, pattern: str, value: str, expected: bool) -> None:
        assert patterns.matches(pattern, value) is expected

    @pytest.mark.parametrize("pattern", [r"[a-z&&[def]]", r"[a[b]]", r"[\D]", "[abc"])
    def test_unsupported_constructs_fail_loudly(self, pattern: str) -> None:
        with pytest.raises(patterns.UnsupportedPattern):
            patterns.translate(pattern)

    def test_every_pattern_of_both_models_translates(self) -> None:
        session = botocore.session.get_session()
        for service in ("personalize", "personalize-events"):
            model = session.get_service_model(service)
            for name in model.shape_names:
                pattern = model.shape_for(name).metadata.get("pattern")
                if pattern:
                    patterns.compile_java(pattern)


class TestLifecycle:
    """Status is a pure function of timestamps, holds and the delay."""

    @staticmethod
    def _never(_: Status) -> bool:
        return False

    @pytest.mark.parametrize(
        ("elapsed", "status"),
        [
            pytest.param(0.0, Status.CREATE_PENDING, id="at-creation"),
            pytest.param(0.99, Status.CREATE_PENDING, id="just-before-first"),
            pytest.param(1.0, Status.CREATE_IN_PROGRESS, id="first-transition"),
            pytest.param(1.99, Status.CREATE_IN_PROGRESS, id="just-before-second"),
            pytest.param(2.0, Status.ACTIVE, id="second-transition"),
            pytest.param(500.0, Status.ACTIVE, id="long-after"),
        ],
    )
    def test_creation(self, elapsed: float, status: Status) -> None:
        life = Lifecycle.created(100.0)
        life.advance(100.0 + elapsed, 1.0, self._never)
        assert life.status is status

    def test_looking_in_between_changes_nothing(self) -> None:
        watched, unwatched = Lifecycle.created(0.0), Lifecycle.created(0.0)
        for t in (0.3, 1.1, 1.7, 2.4):
            watched.advance(t, 1.0, self._never)
        unwatched.advance(2.4, 1.0, self._never)
        assert watched == unwatched

    def test_zero_delay_is_immediate(self) -> None:
        life = Lifecycle.created(5.0)
        life.advance(5.0, 0.0, self._never)
        assert life.status is Status.ACTIVE
        life.start_deletion(5.0)
        life.advance(5.0, 0.0, self._never)
        assert life.status is Status.GONE

    def test_a_planned_failure_ends_in_create_failed(self) -> None:
        life = Lifecycle.created(0.0, failure_reason="boom")
        life.advance(1.0, 1.0, self._never)
        assert life.visible_failure is None  # not failed yet
        life.advance(2.0, 1.0, self._never)
        assert (life.status, life.visible_failure) == (Status.CREATE_FAILED, "boom")

    def test_hold_and_release(self) -> None:
        life = Lifecycle.created(0.0)
        life.advance(10.0, 1.0, lambda s: s is Status.CREATE_IN_PROGRESS)
        assert life.status is Status.CREATE_IN_PROGRESS
        life.restart_clock(10.0)
        life.advance(10.5, 1.0, self._never)
        assert life.status is Status.CREATE_IN_PROGRESS
        life.advance(11.0, 1.0, self._never)
        assert life.status is Status.ACTIVE


class TestStoreOnAManualClock:
    def test_deletion_walks_to_gone(self) -> None:
        clock = ManualClock()
        store = Store(EmulatorConfig(transition_delay=2.0), clock=clock)
        group = store.create_dataset_group(CALLER, name="g", tags={})
        clock.advance(4.0)
        tracker = store.create_event_tracker(CALLER, name="t", dataset_group_arn=group.arn, tags={})
        clock.advance(4.0)
        store.delete_event_tracker(CALLER, tracker.arn)
        assert store.describe_event_tracker(CALLER, tracker.arn).status is Status.DELETE_PENDING
        clock.advance(2.0)
        assert store.describe_event_tracker(CALLER, tracker.arn).status is Status.DELETE_IN_PROGRESS
        clock.advance(2.0)
        with pytest.raises(errors.ApiError) as gone:
            store.describe_event_tracker(CALLER, tracker.arn)
        assert gone.value.code == "ResourceNotFoundException"

    def test_changing_the_delay_does_not_rewrite_the_past(self) -> None:
        clock = ManualClock()
        store = Store(EmulatorConfig(transition_delay=1.0), clock=clock)
        group = store.create_dataset_group(CALLER, name="g", tags={})
        clock.advance(1.5)
        store.configure(transition_delay=100.0)
        assert store.describe_dataset_group(CALLER, group.arn).status is Status.CREATE_IN_PROGRESS

    def test_a_hold_by_name_applies_to_resources_created_later(self) -> None:
        clock = ManualClock()
        store = Store(EmulatorConfig(transition_delay=0.0), clock=clock)
        store.hold(Hold(status=Status.CREATE_PENDING, selector=Selector(name_pattern="g-.*", kind=Kind.DATASET_GROUP)))
        held = store.create_dataset_group(CALLER, name="g-1", tags={})
        free = store.create_dataset_group(CALLER, name="h-1", tags={})
        assert store.describe_dataset_group(CALLER, held.arn).status is Status.CREATE_PENDING
        assert store.describe_dataset_group(CALLER, free.arn).status is Status.ACTIVE

    def test_tracking_ids_stay_out_of_reprs(self) -> None:
        store = Store(EmulatorConfig(transition_delay=0.0))
        group = store.create_dataset_group(CALLER, name="g", tags={})
        tracker = store.create_event_tracker(CALLER, name="t", dataset_group_arn=group.arn, tags={})
        assert tracker.tracking_id not in repr(tracker)


class TestValidationMessages:
    @staticmethod
    def _message(operation: str, params: dict[str, Any]) -> str:
        with pytest.raises(errors.ApiError) as raised:
            validation.validate(MODEL.operation_model(operation).input_shape, params)
        assert raised.value.code == "InvalidInputException"
        return raised.value.message

    def test_one_violation_reads_like_aws(self) -> None:
        message = self._message("CreateDatasetGroup", {"name": "a.b"})
        assert message == (
            "1 validation error detected: Value 'a.b' at 'name' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*"
        )

    def test_all_violations_of_a_value_are_listed(self) -> None:
        message = self._message("CreateDatasetGroup", {"name": ""})
        assert message.startswith("2 validation errors detected: ")
        assert "Member must have length greater than or equal to 1" in message
        assert "Member must satisfy regular expression pattern" in message

    def test_ranges_and_enums(self) -> None:
        assert "Member must have value less than or equal to 100" in self._message(
            "ListEventTrackers", {"maxResults": 101}
        )
        assert "Member must satisfy enum value set: [ECOMMERCE, VIDEO_ON_DEMAND]" in self._message(
            "CreateDatasetGroup", {"name": "n", "domain": "RETAIL"}
        )

    def test_sensitive_values_are_not_echoed(self) -> None:
        message = self._message(
            "CreateDatasetGroup", {"name": "n", "tags": [{"tagKey": "secret!", "tagValue": "hidden!"}]}
        )
        assert "Value at 'tags.1.member.tagKey'" in message
        assert "Value at 'tags.1.member.tagValue'" in message
        assert "secret" not in message
        assert "hidden" not in message

    @pytest.mark.parametrize(
        ("params", "path"),
        [
            pytest.param({"maxResults": True}, "maxResults", id="bool-for-integer"),
            pytest.param({"maxResults": 1.5}, "maxResults", id="float-for-integer"),
            pytest.param({"nextToken": 5}, "nextToken", id="number-for-string"),
            pytest.param({"datasetGroupArn": ["x"]}, "datasetGroupArn", id="array-for-string"),
        ],
    )
    def test_wrong_json_types_are_serialization_errors(self, params: dict[str, Any], path: str) -> None:
        with pytest.raises(errors.ApiError) as raised:
            validation.validate(MODEL.operation_model("ListEventTrackers").input_shape, params)
        assert raised.value.code == "SerializationException"
        assert f"'{path}'" in raised.value.message


class TestTokens:
    def test_tokens_resume_after_the_last_item(self) -> None:
        pages = Paginator()
        items = [(i, f"item{i}") for i in range(1, 6)]
        first = pages.page(items, query="q", token=None, size=2)
        second = pages.page(items, query="q", token=first.next_token, size=2)
        assert (first.items, second.items) == (["item1", "item2"], ["item3", "item4"])

    def test_tokens_survive_deletions_between_pages(self) -> None:
        pages = Paginator()
        first = pages.page([(1, "a"), (2, "b"), (3, "c")], query="q", token=None, size=2)
        assert pages.page([(1, "a"), (3, "c")], query="q", token=first.next_token, size=2).items == ["c"]

    def test_another_processes_token_is_invalid(self) -> None:
        token = Paginator().page([(1, "a"), (2, "b")], query="q", token=None, size=1).next_token
        with pytest.raises(errors.ApiError) as raised:
            Paginator().page([(1, "a")], query="q", token=token, size=1)
        assert raised.value.code == "InvalidNextTokenException"


class TestSigV4Scope:
    HEADER = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-central-1/personalize/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abcdef"
    )

    def test_the_region_comes_from_the_scope(self) -> None:
        scope = protocol.parse_scope({"authorization": self.HEADER, "x-amz-date": "x"}, service="personalize")
        assert (scope.region, scope.service) == ("eu-central-1", "personalize")

    @pytest.mark.parametrize(
        ("headers", "code"),
        [
            pytest.param({}, "MissingAuthenticationTokenException", id="no-header"),
            pytest.param({"authorization": "Bearer x", "x-amz-date": "x"}, "IncompleteSignatureException", id="bearer"),
            pytest.param({"authorization": HEADER}, "IncompleteSignatureException", id="no-date"),
            pytest.param(
                {"authorization": HEADER.replace("/personalize/", "/s3/"), "x-amz-date": "x"},
                "InvalidSignatureException",
                id="other-service",
            ),
            pytest.param(
                {"authorization": HEADER.replace("/eu-central-1", ""), "x-amz-date": "x"},
                "IncompleteSignatureException",
                id="short-scope",
            ),
        ],
    )
    def test_refusals(self, headers: dict[str, str], code: str) -> None:
        with pytest.raises(errors.ApiError) as raised:
            protocol.parse_scope(headers, service="personalize")
        assert (raised.value.code, raised.value.status) == (code, 403)


class TestConfig:
    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"account_id": "123"}, id="short-account"),
            pytest.param({"transition_delay": -1}, id="negative-delay"),
            pytest.param({"port": 70000}, id="port-out-of-range"),
            pytest.param({"tracker_quota": -1}, id="negative-quota"),
        ],
    )
    def test_bad_settings_are_refused(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            EmulatorConfig(**options)
