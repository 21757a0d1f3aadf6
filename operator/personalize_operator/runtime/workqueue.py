"""When each resource's next pass runs: one task and one heap for all of them.

A kopf daemon per resource made kopf keep each object's whole body (about
15 KB with its managedFields) and some 15 KB of tasks and flags for as long
as the resource lived: 1,000 Active resources cost 157 MB resident. Here a
resource between passes is a small entry in a heap of due times; one task
starts the passes that are due, at most `concurrency` at once, and sleeps
until the next is due or a wake-up comes.

A pass returns the seconds until the next one, or None when the resource is
gone or being deleted (kopf's delete handler takes over). `wake` may be
called from any thread (the Secret watch, the status boards, the tenancy
map); a wake during a pass runs the resource again right after it, so no
change is missed.

Order (docs/design.md section 3): passes that are due wait for a free slot in
four lanes. A pass the AWS call budget sent back goes first when its turn
comes: its token is kept for it, and a turn missed is a call lost for the
whole burst (measured at 10 calls/s: while 48 Secrets were written, 1 create
went out in a second); there are never more of them than the budget's rate.
Wake-ups (something finished: a tracker turned ACTIVE, a Secret was
damaged, the spec changed) go next, before passes that merely came due (first
passes, requeues, resyncs), so a Secret whose tracker is ready is not written
behind a burst of creates; a status-board step (CREATE PENDING -> IN_PROGRESS,
only shown in status) goes last, when no other pass waits: in a burst it would cost a read and a status
write per resource ahead of creates, and the end of the transition replaces it.
Within a lane, earliest due first.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from personalize_operator.runtime.queuemetrics import QueueMetrics

log = logging.getLogger(__name__)

TURN, WAKE, DUE, STEP = 0, 1, 2, 3  # lanes: a call budget's turns first, then wake-ups; steps last


@dataclass
class Attempts:
    """Consecutive passes that ended in the same state: the `retry` that backoff grows with."""

    count: int = 0
    last: tuple[str, str, object] | None = None

    def after(self, phase: str, reason: str, generation: object, requeued: bool) -> int:
        """Record a pass; the next pass's retry number (0 once the state or spec changed, or it settled)."""
        state = (phase, reason, generation)
        self.count = self.count + 1 if requeued and state == self.last else 0
        self.last = state
        return self.count

    def reset(self) -> None:
        self.count, self.last = 0, None


@dataclass(frozen=True)
class Woken:
    """A wake-up that came while the resource's pass ran: applied when the pass ends."""

    lane: int
    due: float
    board: bool  # from a status board (the news a pass that stopped waiting has already acted on)


@dataclass(eq=False)
class Entry:
    """One resource: where it is, and what its passes remember between them."""

    namespace: str
    name: str
    attempts: Attempts = field(default_factory=Attempts)
    first: bool = True  # its first pass in this process (reconciler/resume.py resumes it from the status board)
    finalizer_waits: int = 0
    budget: Any = None  # the AWS call budget its last pass was sent back by (reconciler/passes.live_pass)
    awaiting_finalizer: bool = False  # its pass waits for kopf's finalizer: the watch event that shows it wakes it
    ticket: int = -1  # the heap item that is current; older items for this uid are skipped
    due: float = 0.0  # when the current heap item is due (loop time)
    running: bool = False
    lane: int = DUE  # the lane of the current heap item
    woken: list[Woken] = field(default_factory=list)  # wake-ups that came during its pass

    def drop_board_wakes(self) -> None:
        """Its pass ended no longer waiting on a transition: what the status board said meanwhile, it has seen
        (measured: an Active pass run again for a wake-up it had already acted on cost a Describe and a
        ListTagsForResource)."""
        self.woken = [woken for woken in self.woken if not woken.board]


PassFn = Callable[[str, Entry], Awaitable[float | None]]


def ready_key(lane: int, due: float, ticket: int) -> tuple[int, float, int]:
    """The order passes that are due get a slot in: by lane (turns, wake-ups, dues, steps), then earliest due, then
    first scheduled."""
    return (lane, due, ticket)


def lane_after_pass(sent_back: bool) -> int:
    """The lane of a resource's next pass when its pass ends: its turn in the call budget (`sent_back`: the budget
    sent the pass back until a token is free for it), or a pass that comes due."""
    return TURN if sent_back else DUE


def wake_moves(lane: int, due: float, current_lane: int, current_due: float) -> bool:
    """Whether a wake-up in `lane` at `due` reschedules a resource: not when its pass is already due as soon, in
    a lane that goes as early (a status-board step never pushes a due wake-up or first pass back)."""
    return not (current_due <= due and current_lane <= lane)


class Scheduler:
    """uid -> Entry, and the one task that runs passes when they are due."""

    def __init__(self, *, concurrency: int, on_forget: Callable[[str], None] = lambda _: None) -> None:
        self._concurrency = concurrency
        self._on_forget = on_forget  # the status boards stop following a forgotten resource
        self._entries: dict[str, Entry] = {}
        self._fingerprints: dict[str, tuple[Any, ...]] = {}
        self._heap: list[tuple[float, int, str, int]] = []  # (due, ticket, uid, lane): not yet due
        self._ready: list[tuple[tuple[int, float, int], str]] = []  # due, waiting for a slot, in ready_key order
        self._free = concurrency
        self._tickets = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._due: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._passes: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()  # _entries is read by wake() from other threads
        self._metrics = QueueMetrics(concurrency, clock=self._now, waiting=self.waiting)

    # -- in the event loop ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self, run_pass: PassFn) -> None:
        """Start the task; it and its passes inherit the caller's context (kopf's Event poster lives there)."""
        self._loop = asyncio.get_running_loop()
        self._due = asyncio.Event()
        self._task = self._loop.create_task(self._run(run_pass), name="personalize-scheduler")

    async def stop(self) -> None:
        """Cancel the task and the passes' waits; a pass already in its thread still finishes there."""
        tasks = [task for task in (self._task, *self._passes) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def track(self, uid: str, namespace: str, name: str, *, awaiting_finalizer: float | None = None) -> bool:
        """Seen (again) by kopf: a resource not yet tracked gets its first pass at once; True when new.

        `awaiting_finalizer`: kopf has not added the finalizer yet; the first pass waits for `finalizer_added`,
        or at most these seconds (a pass without it only reads the object and waits: a request for nothing).
        """
        with self._lock:
            if uid in self._entries:
                return False
            entry = self._entries[uid] = Entry(namespace=namespace, name=name)
            entry.awaiting_finalizer = awaiting_finalizer is not None
        self._schedule(uid, entry, awaiting_finalizer or 0.0)
        return True

    def finalizer_added(self, uid: str) -> bool:
        """kopf's finalizer is on the object: a pass waiting for it runs now, in the lane of passes that came
        due (a first pass is not a wake-up); False when none waited."""
        with self._lock:
            entry = self._entries.get(uid)
            if entry is None or not entry.awaiting_finalizer:
                return False
            entry.awaiting_finalizer = False
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_now, uid, DUE)
        return True

    def forget(self, uid: str) -> None:
        with self._lock:
            known = self._entries.pop(uid, None) is not None
            self._fingerprints.pop(uid, None)
        if known:
            self._on_forget(uid)

    def changed(self, uid: str, fingerprint: tuple[Any, ...]) -> bool:
        """Record what the resource looks like; True when it differs from what was seen before."""
        with self._lock:
            before = self._fingerprints.get(uid)
            self._fingerprints[uid] = fingerprint
        return before is not None and before != fingerprint

    def _schedule(self, uid: str, entry: Entry, delay: float, lane: int = DUE) -> None:
        assert self._loop is not None and self._due is not None, "start() first"
        entry.ticket, entry.due, entry.lane = next(self._tickets), self._loop.time() + max(0.0, delay), lane
        heapq.heappush(self._heap, (entry.due, entry.ticket, uid, lane))
        self._metrics.added()
        self._due.set()

    def _wake_now(self, uid: str, lane: int = WAKE, after: float = 0.0, board: bool = False) -> None:
        entry = self._entries.get(uid)
        if entry is None:
            return
        if entry.running:  # applied when the pass ends (it may reschedule sooner)
            entry.woken.append(Woken(lane, self._now() + after, board))
            return
        if not wake_moves(lane, self._now() + after, entry.lane, entry.due):
            return
        entry.attempts.reset()
        self._schedule(uid, entry, after, lane)

    async def _run(self, run_pass: PassFn) -> None:
        assert self._loop is not None and self._due is not None
        while True:
            self._due.clear()  # before looking: a wake or a freed slot from now on sets it again
            now = self._loop.time()
            while self._heap and self._heap[0][0] <= now:
                due, ticket, uid, lane = heapq.heappop(self._heap)
                heapq.heappush(self._ready, (ready_key(lane, due, ticket), uid))
            while self._ready and self._free > 0:
                (_, _, ticket), uid = heapq.heappop(self._ready)
                entry = self._entries.get(uid)
                if entry is None or entry.ticket != ticket or entry.running:
                    continue  # forgotten, rescheduled since, or running (its end reschedules it)
                self._free -= 1
                entry.running = True
                entry.awaiting_finalizer = False  # the pass reads the object: the finalizer event wakes nothing
                task = self._loop.create_task(self._one(run_pass, uid, entry))
                self._passes.add(task)
                task.add_done_callback(self._passes.discard)
            wait = self._heap[0][0] - self._loop.time() if self._heap else None
            try:
                async with asyncio.timeout(wait):
                    await self._due.wait()
            except TimeoutError:
                pass

    async def _one(self, run_pass: PassFn, uid: str, entry: Entry) -> None:
        assert self._due is not None
        try:
            self._metrics.started(uid, entry.due)
            delay = await run_pass(uid, entry)
        except Exception:  # the pass function explains its own failures; this is a bug: try again later
            log.exception("a pass of %s/%s failed unexpectedly", entry.namespace, entry.name)
            delay = 30.0
        finally:
            self._metrics.finished(uid)
            entry.running = False
            self._free += 1
            self._due.set()
        if self._entries.get(uid) is not entry:
            return  # forgotten while it ran
        if delay is None:
            self.forget(uid)
            return
        woken, entry.woken = entry.woken, []
        self._schedule(uid, entry, delay, lane_after_pass(entry.budget is not None))
        for wake in woken:  # run again right after it (a step: when due), unless due sooner anyway
            self._wake_now(uid, wake.lane, max(0.0, wake.due - self._now()))

    # -- from any thread -------------------------------------------------------------------------------

    def wake(self, uid: str, *, urgent: bool = True, after: float = 0.0, board: bool = False) -> bool:
        """Run the resource's next pass now, or `after` seconds (not `urgent`: a step, once no other pass waits),
        unless it is due sooner anyway; `board`: the news is a status board's. False when no resource with that
        uid is tracked."""
        with self._lock:
            known = uid in self._entries
        if not known or self._loop is None:
            return False
        self._loop.call_soon_threadsafe(self._wake_now, uid, WAKE if urgent else STEP, after, board)
        return True

    def wake_all(self) -> int:
        """Wake every resource (for example after the tenancy map changed); returns how many."""
        with self._lock:
            uids = list(self._entries)
        return sum(self.wake(uid) for uid in uids)

    def waiting(self) -> int:
        """Passes due and not started (waiting for a free worker): the work queue's depth."""
        now = self._now()
        with self._lock:
            return sum(1 for entry in self._entries.values() if not entry.running and entry.due <= now)

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
