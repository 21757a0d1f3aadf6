"""The status board: one list feeds every follower, wakes those whose tracker moved, and idles otherwise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from personalize_operator.aws.errors import AccessDenied
from personalize_operator.aws.ratelimit import BudgetWait
from personalize_operator.aws.statusboard import Boards, BoardTrackers, StatusBoard, pages_per_second
from personalize_operator.aws.tracker import GONE, Sighting, is_transitional
from support.builders import tracker_arn
from support.fakes import FakeRegion, Woken


@pytest.fixture
def region() -> FakeRegion:
    return FakeRegion()


@pytest.fixture
def woken() -> Woken:
    return Woken()


@pytest.fixture
def board(region: FakeRegion, woken: Woken) -> Iterator[StatusBoard]:
    """A board whose poller waits a minute: the test drives `refresh` itself."""
    board = StatusBoard(region.list, woken, interval=60)
    yield board
    board.stop()


class TestRefresh:
    @pytest.mark.parametrize(
        ("followed", "listed", "wakes", "still_followed"),
        [
            pytest.param("CREATE PENDING", "ACTIVE", True, False, id="changed-status-wakes-once-and-is-dropped"),
            pytest.param("CREATE IN_PROGRESS", "CREATE IN_PROGRESS", False, True, id="not-moved-keeps-waiting"),
            pytest.param("DELETE IN_PROGRESS", None, True, False, id="disappeared-wakes"),
            # a step wakes (status shows it) and stays followed, so its end wakes the resource again
            pytest.param("CREATE PENDING", "CREATE IN_PROGRESS", True, True, id="every-step-wakes-and-keeps-following"),
        ],
    )
    def test_a_follower_is_woken_once_when_its_tracker_moved_and_only_then(
        self,
        board: StatusBoard,
        region: FakeRegion,
        woken: Woken,
        followed: str,
        listed: str | None,
        wakes: bool,
        still_followed: bool,
    ) -> None:
        arn = region.set("a", followed)
        board.follow("uid-a", arn, followed)
        if listed is None:
            region.remove("a")
        else:
            region.set("a", listed)
        board.refresh()
        board.refresh()
        assert woken.uids == (["uid-a"] if wakes else [])
        assert board.following() == ({"uid-a": arn} if still_followed else {})

    def test_one_list_serves_every_follower(self, board: StatusBoard, region: FakeRegion, woken: Woken) -> None:
        arns = [region.set(str(i), "CREATE PENDING") for i in range(50)]
        for i, arn in enumerate(arns):
            board.follow(f"uid-{i}", arn, "CREATE PENDING")
        for i in range(0, 50, 2):
            region.set(str(i), "ACTIVE")
        board.refresh()
        assert region.calls == 1
        assert sorted(woken.uids) == sorted(f"uid-{i}" for i in range(0, 50, 2))

    def test_a_step_wakes_through_step_and_a_finished_transition_through_wake(
        self, region: FakeRegion, woken: Woken
    ) -> None:
        """A step only shown in status may wait behind urgent wake-ups (a tracker ready for its Secret)."""
        stepped = Woken()
        board = StatusBoard(region.list, woken, step=stepped, interval=60)
        creating = region.set("a", "CREATE IN_PROGRESS")
        ready = region.set("b", "ACTIVE")
        gone = region.set("c", "DELETE IN_PROGRESS")
        board.follow("uid-a", creating, "CREATE PENDING")
        board.follow("uid-b", ready, "CREATE IN_PROGRESS")
        board.follow("uid-c", gone, "DELETE IN_PROGRESS")
        region.remove("c")
        board.refresh()
        assert stepped.uids == ["uid-a"] and sorted(woken.uids) == ["uid-b", "uid-c"]
        assert board.following() == {"uid-a": creating}  # still followed: its end wakes it even if its pass waits
        region.set("a", "ACTIVE")
        board.refresh()
        assert woken.uids[-1] == "uid-a" and board.following() == {}
        board.stop()

    def test_following_again_replaces_the_status_waited_on(
        self, board: StatusBoard, region: FakeRegion, woken: Woken
    ) -> None:
        arn = region.set("a", "ACTIVE")
        board.follow("uid-a", arn, "CREATE PENDING")
        board.follow("uid-a", arn, "ACTIVE")
        board.refresh()
        assert woken.uids == []

    def test_a_forgotten_follower_is_not_woken(self, board: StatusBoard, region: FakeRegion, woken: Woken) -> None:
        arn = region.set("a", "CREATE PENDING")
        board.follow("uid-a", arn, "CREATE PENDING")
        board.forget("uid-a")
        region.set("a", "ACTIVE")
        board.refresh()
        assert woken.uids == []


class TestLookup:
    def test_lookups_newer_than_one_moment_share_one_list(self, board: StatusBoard, region: FakeRegion) -> None:
        arns = [region.set(str(i), "ACTIVE") for i in range(300)]
        moment = time.monotonic()
        threads = [threading.Thread(target=board.lookup, args=(arn,), kwargs={"newer_than": moment}) for arn in arns]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert region.calls == 1
        assert board.lookup(arns[7], newer_than=moment) == Sighting(arn=arns[7], name="7", status="ACTIVE")

    def test_a_lookup_newer_than_the_last_list_lists_again(self, board: StatusBoard, region: FakeRegion) -> None:
        arn = region.set("a", "CREATE PENDING")
        board.lookup(arn, newer_than=0)
        region.set("a", "ACTIVE")
        assert board.lookup(arn, newer_than=time.monotonic()).status == "ACTIVE"
        assert region.calls == 2

    def test_a_tracker_not_listed_is_none(self, board: StatusBoard) -> None:
        assert board.lookup(tracker_arn("missing"), newer_than=0) is None

    def test_a_failed_list_reaches_the_caller(self, board: StatusBoard, region: FakeRegion) -> None:
        region.fail = True
        with pytest.raises(RuntimeError, match="LimitExceeded"):
            board.lookup(tracker_arn("a"), newer_than=0)


class TestPoller:
    @pytest.fixture
    def polling(self, region: FakeRegion, woken: Woken) -> Iterator[StatusBoard]:
        board = StatusBoard(region.list, woken, interval=0.05, max_pages_per_second=100)
        yield board
        board.stop()

    def test_no_follower_no_polling(self, polling: StatusBoard, region: FakeRegion) -> None:
        arn = region.set("a", "CREATE PENDING")
        polling.follow("uid-a", arn, "CREATE PENDING")
        polling.forget("uid-a")
        time.sleep(0.3)
        assert region.calls <= 1  # at most the list that was due when the follower left

    def test_the_poller_wakes_a_follower_soon_after_its_tracker_moves_and_then_idles(
        self, polling: StatusBoard, region: FakeRegion, woken: Woken
    ) -> None:
        arn = region.set("a", "CREATE PENDING")
        polling.follow("uid-a", arn, "CREATE PENDING")
        time.sleep(0.2)
        assert region.calls >= 2 and woken.uids == []
        region.set("a", "ACTIVE")
        assert woken.event.wait(5)
        calls = region.calls
        time.sleep(0.3)
        assert region.calls == calls

    def test_the_poller_survives_failed_lists_and_backs_off(self, region: FakeRegion, woken: Woken) -> None:
        board = StatusBoard(region.list, woken, interval=0.05, max_pages_per_second=100, max_backoff=0.2)
        try:
            arn = region.set("a", "CREATE PENDING")
            region.fail = True
            board.follow("uid-a", arn, "CREATE PENDING")
            time.sleep(0.7)
            assert 2 <= region.calls <= 6  # 0.05, 0.1, 0.2, 0.2 ... apart, not every 0.05 s
            region.fail = False
            region.set("a", "ACTIVE")
            assert woken.event.wait(5)
        finally:
            board.stop()

    def test_a_refused_list_wakes_every_follower_so_each_resource_shows_the_refusal(
        self, region: FakeRegion, woken: Woken
    ) -> None:
        """Without ListEventTrackers the board never sees a change: waiting on it would hide the AccessDenied."""
        denied = AccessDenied("AccessDeniedException", "not authorized", "ListEventTrackers")
        board = StatusBoard(lambda: (_ for _ in ()).throw(denied), woken, interval=0.05, max_backoff=0.2)
        try:
            board.follow("uid-a", region.set("a", "CREATE PENDING"), "CREATE PENDING")
            board.follow("uid-b", region.set("b", "CREATE PENDING"), "CREATE PENDING")
            wait = time.monotonic() + 5
            while len(woken.uids) < 2 and time.monotonic() < wait:
                time.sleep(0.02)
            assert sorted(woken.uids) == ["uid-a", "uid-b"]
            assert board.following() == {}
        finally:
            board.stop()

    def test_many_pages_stretch_the_interval_to_the_call_rate(self, region: FakeRegion, woken: Woken) -> None:
        board = StatusBoard(region.list, woken, interval=1.0, max_pages_per_second=2.0)
        for i in range(1000):
            region.set(str(i), "ACTIVE")
        assert board.poll_interval() == 1.0  # nothing listed yet: one page assumed
        board.refresh()
        assert board.poll_interval() == 5.0  # 10 pages at 2 per second

    def test_while_passes_wait_for_the_budget_the_board_lists_less(self, region: FakeRegion, woken: Woken) -> None:
        state = [(10.0, True)]
        board = StatusBoard(region.list, woken, interval=1.0, budget=lambda: state[0])
        for i in range(200):
            region.set(str(i), "CREATE PENDING")
        board.refresh()
        assert board.poll_interval() == 4.0  # 2 pages at 5 % of 10 calls/s
        state[0] = (10.0, False)
        assert board.poll_interval() == 1.0  # the burst's creates are out: every second again


def test_a_pause_set_while_contended_ends_when_the_contention_does(region: FakeRegion, woken: Woken) -> None:
    """The burst's last creates are out: the board lists within a recheck, not after the long pause."""
    state = [(1.0, True)]  # one page every 4 s
    board = StatusBoard(region.list, woken, interval=0.05, budget=lambda: state[0])
    try:
        board.follow("uid-a", region.set("a", "CREATE PENDING"), "CREATE PENDING")
        time.sleep(0.3)
        assert region.calls == 0  # still in the contended pause
        state[0] = (1.0, False)
        deadline = time.monotonic() + 2.0
        while region.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert region.calls >= 1
    finally:
        board.stop()


@pytest.mark.parametrize(
    ("rate", "contended", "expected"),
    [
        pytest.param(10.0, False, 2.0, id="nobody waits: the board's own cap"),
        pytest.param(10.0, True, 0.5, id="passes wait: 5 % of the budget"),
        pytest.param(50.0, True, 2.0, id="a large budget: still the cap"),
        pytest.param(1.0, True, 0.25, id="a small budget: never slower than a page every 4 s"),
    ],
)
def test_pages_per_second(rate: float, contended: bool, expected: float) -> None:
    assert pages_per_second(rate, contended) == expected


class TestBoards:
    def test_one_board_per_region_each_with_its_own_list(self, woken: Woken) -> None:
        regions = {"us-east-1": FakeRegion(), "eu-west-1": FakeRegion()}
        boards = Boards(lambda region, identity: regions[region].list, woken)
        assert boards.for_region("us-east-1") is boards.for_region("us-east-1")
        boards.for_region("eu-west-1").refresh()
        assert regions["eu-west-1"].calls == 1 and regions["us-east-1"].calls == 0
        boards.stop()


@pytest.mark.parametrize(
    ("status", "transitional"),
    [
        ("CREATE PENDING", True),
        ("CREATE IN_PROGRESS", True),
        ("DELETE PENDING", True),
        ("DELETE IN_PROGRESS", True),
        ("ACTIVE", False),
        ("CREATE FAILED", False),
        (GONE, False),
    ],
)
def test_only_create_and_delete_in_flight_are_transitional(status: str, transitional: bool) -> None:
    assert is_transitional(status) is transitional


def test_recent_counts_from_the_first_page_not_from_a_wait_for_a_token() -> None:
    now = [100.0]

    def slow_list() -> Iterator[Sighting]:
        now[0] += 5.0  # the first page waited 5 s for a token of the call budget
        yield Sighting(arn=tracker_arn("a"), name="a", status="ACTIVE")

    board = StatusBoard(slow_list, lambda uid: None, interval=60, clock=lambda: now[0])
    board.refresh()
    assert board.recent(tracker_arn("a"), within=1.0) is not None
    now[0] += 2.0
    assert board.recent(tracker_arn("a"), within=1.0) is None
    assert board.lookup(tracker_arn("a"), newer_than=100.0) is not None  # the list started at 100: no new list


class TestNameLookup:
    """BoardTrackers.may_exist: does a new resource look for its tracker before creating (a restore)?"""

    def test_one_list_answers_every_name_of_a_burst(self, board: StatusBoard, region: FakeRegion) -> None:
        region.set("restored", "ACTIVE")
        trackers = BoardTrackers(object(), board, "dataset-group")  # type: ignore[arg-type]
        assert trackers.may_exist("restored") and not trackers.may_exist("new")
        assert region.calls == 1  # not one list (nor one dataset group listing) per resource

    def test_a_failed_list_says_look_the_expensive_way(self, region: FakeRegion, woken: Woken) -> None:
        region.fail = True
        trackers = BoardTrackers(object(), StatusBoard(region.list, woken, interval=60), "dataset-group")  # type: ignore[arg-type]
        assert trackers.may_exist("new")

    def test_an_empty_call_budget_sends_the_pass_back(self, woken: Woken) -> None:
        def empty() -> Iterator[Sighting]:
            raise BudgetWait(0.5)

        trackers = BoardTrackers(object(), StatusBoard(empty, woken, interval=60), "dataset-group")  # type: ignore[arg-type]
        with pytest.raises(BudgetWait):
            trackers.may_exist("new")
