"""One status board per (account, region): a single ListEventTrackers watches every tracker in transition.

AWS offers no watch on tracker status, and each waiting resource polling on
its own costs one Describe per resource per poll, all against the account's
shared request limit. The board replaces that: while any resource follows a
tracker in a transitional state (CREATE/DELETE PENDING/IN_PROGRESS), one
ListEventTrackers without a dataset group filter (every tracker of the
region, 100 per page) runs about every second, and a resource whose tracker
changed state (or disappeared) is woken at once to reconcile. Resources not
in transition cost nothing: with no follower the board does not poll.

The same table answers "what state is tracker X in?" for many resources at
once (`lookup`): after a restart, N resources read one list instead of making
N Describes. A lookup asks for a list newer than a moment, and concurrent
lookups share one list.

The list function and the wake callback are injected, so the board is tested
with in-memory fakes; it never touches Kubernetes or boto3 itself.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from personalize_operator.api import arns
from personalize_operator.aws.client import TrackerClient
from personalize_operator.aws.errors import AccessDenied
from personalize_operator.aws.ratelimit import BudgetWait
from personalize_operator.aws.tracker import (
    ACTIVE,
    GONE,
    PAGE_SIZE,
    TRANSITIONAL_STATES,
    RemoteTracker,
    Sighting,
)

log = logging.getLogger(__name__)

# A list this recent may stand in for a Describe. Generous on purpose: in a burst the woken pass may wait
# for a worker thread and the list's pages for tokens; ACTIVE does not change by itself, and a status in
# transition read a little late only means one more wake-up by the next list.
BOARD_FRESHNESS_SECONDS = 30.0


@dataclass(frozen=True)
class _Follow:
    arn: str
    status: str  # the status the follower last saw; a different one wakes it


ListTrackers = Callable[[], Iterable[Sighting]]
Wake = Callable[[str], None]
# The account's call budget as the board sees it: (its rate, whether passes wait for it).
BudgetState = Callable[[], tuple[float, bool]]

MAX_PAGES_PER_SECOND = 2.0
# While passes wait for the call budget (a burst of creates at the account's limit), the board takes this share
# of it: every page it lists is a create that waits, and a tracker's Secret only waits for the list that shows
# it ACTIVE. Measured at 10 calls/s: lists of 2 pages every second took 19 % of the calls of a 200 burst.
CONTENDED_SHARE = 0.05
MIN_PAGES_PER_SECOND = 0.25  # never slower than a list of one page every 4 s
RECHECK_SECONDS = 0.5  # a pause in progress is looked at again this often (the budget may no longer be contended)


def pages_per_second(budget_rate: float, contended: bool, max_pages: float = MAX_PAGES_PER_SECOND) -> float:
    """How many pages a second the board may list: `max_pages`, or its share of a budget other passes wait for."""
    if not contended:
        return max_pages
    return min(max_pages, max(MIN_PAGES_PER_SECOND, CONTENDED_SHARE * budget_rate))


class StatusBoard:
    """The trackers of one region as last listed, and the resources waiting on them; thread safe.

    A tracker that finished its transition (or is gone) wakes its follower with `wake`; one that only
    moved a step (CREATE PENDING -> IN_PROGRESS, shown in status) with `step`, a wake-up that may wait
    behind others (runtime/workqueue.py's lanes).

    `follow(uid, arn, status)` starts (lazily) a poller thread that lists
    every `interval` seconds while anyone follows, but never more than
    `max_pages_per_second` pages per second on average (a region with 1,000
    trackers lists 10 pages, so every 5 s at 2/s; fewer while passes wait
    for the call budget, `budget` tells); after a failed list it
    waits twice as long, up to `max_backoff`.
    """

    def __init__(
        self,
        list_trackers: ListTrackers,
        wake: Wake,
        *,
        step: Wake | None = None,
        interval: float = 1.0,
        max_pages_per_second: float = MAX_PAGES_PER_SECOND,
        budget: BudgetState | None = None,
        max_backoff: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "status-board",
    ) -> None:
        self._list = list_trackers
        self._wake = wake
        self._step = step or wake
        self._interval = interval
        self._max_pages_per_second = max_pages_per_second
        self._budget = budget or (lambda: (math.inf, False))
        self._max_backoff = max_backoff
        self._clock = clock
        self._name = name
        self._lock = threading.Lock()  # guards the fields below
        self._changed = threading.Condition(self._lock)
        self._refreshing = threading.Lock()  # one list at a time; waiting lookups share its result
        self._table: dict[str, Sighting] = {}
        self._listed_at: float | None = None  # when the last complete list started (before any page was asked)
        self._answered_at: float | None = None  # when its first page arrived
        self._followers: dict[str, _Follow] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.lists = 0  # complete lists made (for tests and benchmarks)

    # -- following ----------------------------------------------------------------------

    def follow(self, uid: str, arn: str, status: str) -> None:
        """Wake `uid` as soon as tracker `arn` is seen in a status other than `status` (or gone)."""
        with self._lock:
            self._followers[uid] = _Follow(arn=arn, status=status)
            self._start_poller()
            self._changed.notify_all()

    def forget(self, uid: str) -> None:
        """`uid` no longer waits (it reconciled, or was deleted)."""
        with self._lock:
            self._followers.pop(uid, None)

    def following(self) -> dict[str, str]:
        """uid -> ARN of every follower."""
        with self._lock:
            return {uid: follow.arn for uid, follow in self._followers.items()}

    # -- reading ------------------------------------------------------------------------

    def lookup(self, arn: str, *, newer_than: float) -> Sighting | None:
        """The tracker as seen by a list that started at or after `newer_than` (listing if need be); None: gone.

        Raises whatever the list function raises (the caller's AWS error handling applies).
        """
        self._listed_since(newer_than)
        with self._lock:
            return self._table.get(arn)

    def named(self, name: str, *, within: float) -> Sighting | None:
        """The tracker called `name` (unique per account and region) in a list at most `within` seconds old."""
        self._listed_since(self._clock() - within)
        with self._lock:
            return next((seen for seen in self._table.values() if seen.name == name), None)

    def _listed_since(self, newer_than: float) -> None:
        """List unless the last list started at or after `newer_than`; concurrent callers share one list."""
        with self._refreshing:
            with self._lock:
                fresh = self._listed_at is not None and self._listed_at >= newer_than
            if not fresh:
                self._refresh_locked()

    def recent(self, arn: str, *, within: float) -> Sighting | None:
        """The tracker as the last list saw it, if its first page came less than `within` seconds ago; never lists."""
        with self._lock:
            if self._answered_at is None or self._clock() - self._answered_at > within:
                return None
            return self._table.get(arn)

    def refresh(self) -> None:
        """List every tracker once, update the table and wake the followers whose tracker moved."""
        with self._refreshing:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        started = self._clock()
        sightings = iter(self._list())
        first = next(sightings, None)
        answered = self._clock()  # the first page's data is at most this old (the request may have queued for a token)
        table = {sighting.arn: sighting for sighting in ([first] if first else [])}
        table.update((sighting.arn, sighting) for sighting in sightings)
        with self._lock:
            self._table = table
            self._listed_at = started
            self._answered_at = answered
            self.lists += 1
            seen = {
                uid: table[follow.arn].status if follow.arn in table else GONE
                for uid, follow in self._followers.items()
            }
            moved = {uid: status for uid, status in seen.items() if status != self._followers[uid].status}
            for uid, status in moved.items():
                if status in TRANSITIONAL_STATES:  # a step: still followed, so the end wakes it even before its pass
                    self._followers[uid] = _Follow(arn=self._followers[uid].arn, status=status)
                else:
                    del self._followers[uid]
        for uid, status in moved.items():
            (self._step if status in TRANSITIONAL_STATES else self._wake)(uid)

    # -- the poller ---------------------------------------------------------------------

    def _start_poller(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._poll, name=self._name, daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        """While anyone follows: wait a pause (the follower has just looked itself), then list.

        The pause is looked at again every RECHECK_SECONDS while it lasts: it follows the call budget, and the
        moment a burst's last creates are out the board goes back to listing every second (measured: a pause
        set while contended held the last Secrets of a burst back by 6 s).
        """
        failed: float | None = None  # after a failed list: its own pause, doubling
        pause = self._interval
        while True:
            with self._lock:
                while not self._followers and not self._stopped:
                    self._changed.wait()
                started = self._clock()  # new followers do not cut the pause short: one list serves them all
                while not self._stopped:
                    pause = failed if failed is not None else self._interval_locked()
                    if (left := started + pause - self._clock()) <= 0:
                        break
                    self._changed.wait(min(left, RECHECK_SECONDS))
                if self._stopped:
                    return
                if not self._followers:
                    continue
            try:
                self.refresh()
                failed = None
            except Exception as error:  # keep polling: a throttled or failed list is retried later
                failed = min(self._max_backoff, pause * 2)
                log.warning("%s: listing event trackers failed (%s); retrying in %.0f s", self._name, error, failed)
                if isinstance(error, AccessDenied):
                    self._wake_all()

    def _wake_all(self) -> None:
        """A refused list waits for an admin: wake every follower, so its resource shows the refusal itself."""
        with self._lock:
            woken = list(self._followers)
            self._followers.clear()
        for uid in woken:
            self._wake(uid)

    def poll_interval(self) -> float:
        """Seconds between lists: `interval`, stretched so that the pages stay within the board's share of calls."""
        with self._lock:
            return self._interval_locked()

    def _interval_locked(self) -> float:
        pages = max(1, math.ceil(len(self._table) / PAGE_SIZE))
        rate, contended = self._budget()  # the call budget's own lock: it never calls the board
        return max(self._interval, pages / pages_per_second(rate, contended, self._max_pages_per_second))

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)


class Boards:
    """One board per (region, identity): an identity is one account (the operator's own, or a tenancy role)."""

    def __init__(
        self,
        list_for: Callable[[str, Any], ListTrackers],
        wake: Wake,
        *,
        step: Wake | None = None,
        interval: float = 1.0,
        budget_for: Callable[[str, Any], BudgetState] | None = None,
    ) -> None:
        self._list_for = list_for
        self._wake = wake
        self._step = step
        self._interval = interval
        self._budget_for = budget_for
        self._boards: dict[tuple[str, Any], StatusBoard] = {}
        self._lock = threading.Lock()

    def for_region(self, region: str, identity: Any = None) -> StatusBoard:
        """The board of `region` as seen by `identity` (hashable; None: the operator's own)."""
        key = (region, identity)
        with self._lock:
            if key not in self._boards:
                self._boards[key] = StatusBoard(
                    self._list_for(region, identity),
                    self._wake,
                    step=self._step,
                    interval=self._interval,
                    budget=self._budget_for(region, identity) if self._budget_for else None,
                    name=f"status-board-{region}",
                )
            return self._boards[key]

    def forget(self, uid: str) -> None:
        with self._lock:
            boards = list(self._boards.values())
        for board in boards:
            board.forget(uid)

    def stop(self) -> None:
        with self._lock:
            boards = list(self._boards.values())
        for board in boards:
            board.stop()


class BoardTrackers:
    """A region's tracker client whose `describe` is answered from a recent board list when the list says
    enough: a tracker in transition (its status is all a waiting pass needs), or one this process created
    that the list shows ACTIVE (the create answer holds its trackingId). Everything else goes to AWS."""

    def __init__(self, inner: TrackerClient, board: StatusBoard, dataset_group_arn: str) -> None:
        self._inner = inner
        self._board = board
        self._dataset_group_arn = dataset_group_arn

    def describe(self, arn: str, *, with_tags: bool = False) -> RemoteTracker | None:
        seen = None if with_tags else self._board.recent(arn, within=BOARD_FRESHNESS_SECONDS)
        account_id = arns.account_of(arn)
        if seen is not None and seen.status in TRANSITIONAL_STATES:
            return RemoteTracker(
                arn=arn,
                name=seen.name,
                status=seen.status,
                dataset_group_arn=self._dataset_group_arn,
                account_id=account_id,
            )
        created = self._inner.created(arn) if seen is not None and seen.status == ACTIVE else None
        if created is None:
            return self._inner.describe(arn, with_tags=with_tags)
        self._inner.forget_created(arn)
        tracking_id, dataset_group_arn = created
        return RemoteTracker(
            arn=arn,
            name=seen.name if seen else "",
            status=ACTIVE,
            dataset_group_arn=dataset_group_arn,
            account_id=account_id,
            tracking_id=tracking_id,
        )

    def may_exist(self, name: str) -> bool:
        """Whether the region holds a tracker of this name, from a list at most BOARD_FRESHNESS_SECONDS old.

        One list answers every resource of a burst. A tracker made since that list is met by the Create's
        AlreadyExists instead (one refused call, never a second tracker: one tracker per dataset group).
        """
        try:
            return self._board.named(name, within=BOARD_FRESHNESS_SECONDS) is not None
        except BudgetWait:
            raise  # the pass waits for its turn in the call budget, then looks the same way
        except Exception as error:  # throttled, unreachable: look the expensive way
            log.info(
                "status board unavailable for a name lookup (%s); looking in the dataset group", type(error).__name__
            )
            return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
