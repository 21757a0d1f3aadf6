"""The status state machine over HTTP, on a real (short) clock, and the rules that depend on status."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from personalize_emulator.testing import Emulator
from support.aws_answers import OK, answer, refusal
from support.wait import wait_for

Unique = Callable[[str], str]
DELAY = 0.4
SLOW_DELAY = 0.8  # where a test must act within one transition


def _watch(read: Callable[[], str | None], *, until: Callable[[str | None], bool], timeout: float) -> list[str | None]:
    """The distinct statuses `read` returns, in order, until `until` holds."""
    seen: list[str | None] = []

    def step() -> bool:
        status = read()
        if not seen or seen[-1] != status:
            seen.append(status)
        return until(status)

    wait_for(step, timeout=timeout, interval=0.03, what="the status sequence to complete")
    return seen


def _stays(predicate: Callable[[], bool], *, seconds: float) -> None:
    """Assert `predicate` holds at every look for `seconds` (the converse of wait_for)."""
    deadline = time.monotonic() + seconds
    looks = 0
    while time.monotonic() < deadline or looks < 2:
        assert predicate(), f"stopped holding after {looks} looks"
        looks += 1
        time.sleep(0.05)


class TestFullLifecycleWithDelay:
    """A tracker walks CREATE PENDING > CREATE IN_PROGRESS > ACTIVE, then DELETE PENDING > DELETE IN_PROGRESS > gone."""

    def test_statuses_follow_aws_order_and_timing(
        self, personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
    ) -> None:
        emulator.admin.configure(transition_delay=DELAY)
        started = time.monotonic()
        arn = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)["eventTrackerArn"]

        def status() -> str | None:
            try:
                return str(personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"])
            except ClientError as error:
                if error.response["Error"]["Code"] == "ResourceNotFoundException":
                    return None
                raise

        created = _watch(status, until=lambda s: s == "ACTIVE", timeout=30)
        assert created == ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]
        assert time.monotonic() - started >= 2 * DELAY - 0.05

        personalize.delete_event_tracker(eventTrackerArn=arn)
        deleted = _watch(status, until=lambda s: s is None, timeout=30)
        assert deleted == ["DELETE PENDING", "DELETE IN_PROGRESS", None]

    def test_dataset_groups_follow_the_same_clock(self, personalize: Any, emulator: Emulator, unique: Unique) -> None:
        emulator.admin.configure(transition_delay=DELAY)
        arn = personalize.create_dataset_group(name=unique("dg"))["datasetGroupArn"]
        read = lambda: str(personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"])  # noqa: E731
        assert _watch(read, until=lambda s: s == "ACTIVE", timeout=30) == [
            "CREATE PENDING",
            "CREATE IN_PROGRESS",
            "ACTIVE",
        ]


class TestDeleteWhileCreating:
    """A tracker that is still being created cannot be deleted; once ACTIVE it can."""

    def test_delete_is_refused_until_active(
        self, personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
    ) -> None:
        name = unique("held")
        emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=name)
        arn = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group)["eventTrackerArn"]
        assert personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"] == "CREATE IN_PROGRESS"

        assert refusal(lambda: personalize.delete_event_tracker(eventTrackerArn=arn))[0] == "ResourceInUseException"

        emulator.admin.release(name_pattern=name)
        assert personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"] == "ACTIVE"
        personalize.delete_event_tracker(eventTrackerArn=arn)

    def test_a_tracker_being_deleted_cannot_be_deleted_again(
        self, personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
    ) -> None:
        name = unique("t")
        arn = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group)["eventTrackerArn"]
        emulator.admin.hold("DELETE IN_PROGRESS", arn=arn)
        personalize.delete_event_tracker(eventTrackerArn=arn)
        assert refusal(lambda: personalize.delete_event_tracker(eventTrackerArn=arn))[0] == "ResourceInUseException"


class TestHolds:
    """Holds keep a resource in a status until released; the next transition takes a full delay after release."""

    def test_release_restarts_the_clock(
        self, personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
    ) -> None:
        emulator.admin.configure(transition_delay=SLOW_DELAY)
        name = unique("t")
        hold = emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=name)
        arn = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group)["eventTrackerArn"]
        read = lambda: personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"]  # noqa: E731
        wait_for(lambda: read() == "CREATE IN_PROGRESS", timeout=30, what="CREATE IN_PROGRESS")
        # For longer than the rest of the lifecycle would take, the hold must win.
        _stays(lambda: read() == "CREATE IN_PROGRESS", seconds=2.5 * SLOW_DELAY)

        released = emulator.admin.release(hold_id=hold["id"])
        assert [h["id"] for h in released] == [hold["id"]]
        assert read() == "CREATE IN_PROGRESS"  # not ACTIVE at once: a full transition is still due
        wait_for(lambda: read() == "ACTIVE", timeout=30, what="ACTIVE after release")

    def test_a_hold_does_not_act_retroactively(
        self, personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
    ) -> None:
        arn = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)["eventTrackerArn"]
        emulator.admin.hold("CREATE PENDING")
        assert personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"] == "ACTIVE"


class TestPlannedFailures:
    """Creation of matching names ends in CREATE FAILED with the given reason."""

    def test_tracker_creation_fails(self, personalize: Any, emulator: Emulator, dataset_group: str) -> None:
        emulator.admin.fail_creation(name_pattern="doomed-.*", reason="Simulated failure")
        arn = personalize.create_event_tracker(name="doomed-1", datasetGroupArn=dataset_group)["eventTrackerArn"]
        assert personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"] == "CREATE FAILED"
        tracker = emulator.admin.tracker(arn=arn)
        assert tracker is not None
        assert tracker["failureReason"] == "Simulated failure"
        personalize.delete_event_tracker(eventTrackerArn=arn)  # a failed tracker can (and must) be deleted

    def test_dataset_group_creation_fails_with_reason(self, personalize: Any, emulator: Emulator) -> None:
        emulator.admin.fail_creation(name_pattern="broken", reason="No KMS access", kind="dataset-group")
        arn = personalize.create_dataset_group(name="broken")["datasetGroupArn"]
        group = personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
        assert (group["status"], group["failureReason"]) == ("CREATE FAILED", "No KMS access")

    def test_names_that_do_not_match_are_unaffected(
        self, personalize: Any, emulator: Emulator, dataset_group: str
    ) -> None:
        emulator.admin.fail_creation(name_pattern="doomed-.*", reason="x")
        arn = personalize.create_event_tracker(name="fine-1", datasetGroupArn=dataset_group)["eventTrackerArn"]
        assert personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]["status"] == "ACTIVE"


class TestOneTrackerPerDatasetGroup:
    """AWS allows one event tracker per dataset group; the emulator must refuse the second."""

    def test_second_tracker_is_refused_naming_the_first(
        self, personalize: Any, dataset_group: str, unique: Unique
    ) -> None:
        first = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)["eventTrackerArn"]
        code, message = refusal(
            lambda: personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)
        )
        assert code == "ResourceAlreadyExistsException" and first in message

    def test_the_slot_frees_once_the_tracker_is_gone(
        self, personalize: Any, dataset_group: str, unique: Unique
    ) -> None:
        first = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)["eventTrackerArn"]
        personalize.delete_event_tracker(eventTrackerArn=first)
        personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)

    def test_tracker_names_are_unique_per_account_and_region(
        self, personalize: Any, dataset_group: str, unique: Unique
    ) -> None:
        other_group = personalize.create_dataset_group(name=unique("dg"))["datasetGroupArn"]
        personalize.create_event_tracker(name="shared", datasetGroupArn=dataset_group)
        assert (
            refusal(lambda: personalize.create_event_tracker(name="shared", datasetGroupArn=other_group))[0]
            == "ResourceAlreadyExistsException"
        )

    def test_concurrent_creates_in_one_group_yield_exactly_one_tracker(
        self, emulator: Emulator, dataset_group: str
    ) -> None:
        import concurrent.futures

        def create(i: int) -> str:
            client = emulator.client()
            return answer(lambda: client.create_event_tracker(name=f"racer-{i}", datasetGroupArn=dataset_group))[0]

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(create, range(8)))
        assert sorted(outcomes) == ["ResourceAlreadyExistsException"] * 7 + [OK]


class TestDatasetGroupRules:
    def test_a_dataset_group_with_a_tracker_cannot_be_deleted(
        self, personalize: Any, dataset_group: str, unique: Unique
    ) -> None:
        tracker = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)["eventTrackerArn"]
        code, message = refusal(lambda: personalize.delete_dataset_group(datasetGroupArn=dataset_group))
        assert code == "ResourceInUseException" and tracker in message

    def test_dataset_group_names_are_unique(self, personalize: Any, unique: Unique) -> None:
        name = unique("dg")
        personalize.create_dataset_group(name=name)
        assert refusal(lambda: personalize.create_dataset_group(name=name))[0] == "ResourceAlreadyExistsException"


class TestOutOfBand:
    def test_a_tracker_deleted_out_of_band_is_not_found(
        self, personalize: Any, emulator: Emulator, dataset_group: str, unique: Unique
    ) -> None:
        arn = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=dataset_group)["eventTrackerArn"]
        emulator.admin.delete_out_of_band(arn)
        assert (
            refusal(lambda: personalize.describe_event_tracker(eventTrackerArn=arn))[0] == "ResourceNotFoundException"
        )
        assert emulator.admin.tracker(arn=arn) is None
