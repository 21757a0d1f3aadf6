"""Leader election on a coordination.k8s.io/v1 Lease: one replica reconciles, the others wait for it to go.

The protocol is client-go's (and so controller-runtime's and ACK's): the leader renews the
Lease every `retry_period`; a standby takes it over only when its holder has not changed it for
`lease_duration` by the standby's own clock (no clock agreement needed); a leader that has not
renewed for `renew_deadline` (< `lease_duration`) exits the process, so it has stopped before anyone
may take over, and Kubernetes restarts it as a standby.

Why not `kubernetes.leaderelection` (it has a LeaseLock): its loop only catches ApiException, so
a connection error ends the renewing thread while the work goes on; its API calls have no
timeout; and its renew deadline restarts at every round. Each of these lets a leader that lost
the API server keep reconciling after another replica took over. What remains is small: one
pure decision (`decide`) and a loop around two API calls.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.rest import ApiException

from personalize_operator.runtime import metrics
from personalize_operator.runtime.settings import OperatorSettings

logger = logging.getLogger("personalize_operator.runtime.leader")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
EXIT_LEADERSHIP_LOST = 1


@dataclass(frozen=True)
class LeaseRecord:
    """What the Lease says: who holds it and for how long after each renewal."""

    holder: str
    duration: float
    renewed: datetime | None = None
    acquired: datetime | None = None
    transitions: int = 0


@dataclass(frozen=True)
class Observed:
    """A record as this replica last saw it change, and when (monotonic clock of this process)."""

    record: LeaseRecord
    since: float


class Verdict(enum.Enum):
    CREATE = "create"  # no Lease yet
    TAKE = "take"  # free, or its holder has not renewed for its duration
    RENEW = "renew"  # ours
    WAIT = "wait"  # another replica holds it


def observe(previous: Observed | None, current: LeaseRecord | None, now: float) -> Observed | None:
    """Restart the expiry clock whenever the record changes (a renewal changes renewTime)."""
    if current is None:
        return None
    if previous is not None and previous.record == current:
        return previous
    return Observed(record=current, since=now)


def decide(identity: str, observed: Observed | None, now: float) -> Verdict:
    """What to do with the Lease, given what this replica has seen of it: pure, so table-tested."""
    if observed is None:
        return Verdict.CREATE
    record = observed.record
    if record.holder == identity:
        return Verdict.RENEW
    if not record.holder or now - observed.since >= record.duration:
        return Verdict.TAKE
    return Verdict.WAIT


def claimed(identity: str, current: LeaseRecord | None, duration: float, wall: datetime) -> LeaseRecord:
    """The record to write to hold the Lease: acquireTime and transitions move only on a change of holder."""
    if current is not None and current.holder == identity:
        return replace(current, duration=duration, renewed=wall)
    transitions = current.transitions + 1 if current is not None else 0
    return LeaseRecord(holder=identity, duration=duration, renewed=wall, acquired=wall, transitions=transitions)


def record_of(lease: client.V1Lease) -> LeaseRecord:
    spec = lease.spec or client.V1LeaseSpec()
    return LeaseRecord(
        holder=spec.holder_identity or "",
        duration=float(spec.lease_duration_seconds or 0),
        renewed=spec.renew_time,
        acquired=spec.acquire_time,
        transitions=spec.lease_transitions or 0,
    )


def spec_of(record: LeaseRecord) -> client.V1LeaseSpec:
    return client.V1LeaseSpec(
        holder_identity=record.holder,
        lease_duration_seconds=max(1, round(record.duration)),
        renew_time=record.renewed,
        acquire_time=record.acquired,
        lease_transitions=record.transitions,
    )


def new_identity() -> str:
    """Pod name (the hostname in Kubernetes) plus a random part, unique across restarts, as client-go does."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:10]}"


def lease_namespace(configured: str) -> str:
    """The configured namespace, else the pod's own, else the kubeconfig context's, else 'default'."""
    if configured:
        return configured
    if SERVICE_ACCOUNT_NAMESPACE.exists():
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    try:
        _, context = config.list_kube_config_contexts()
        return str(context.get("context", {}).get("namespace") or "default")
    except (config.ConfigException, OSError, TypeError):
        return "default"


def describe(error: Exception) -> str:
    """One line: the HTTP status and the API server's message, or the connection error."""
    if isinstance(error, ApiException):
        try:
            message = json.loads(error.body or "{}").get("message", "")
        except (ValueError, AttributeError):
            message = ""
        return f"HTTP {error.status} {error.reason}: {message}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


def exit_now(reason: str) -> None:
    """Stop at once, like controller-runtime: running handlers must not outlive the leadership."""
    logger.critical(f"leader election lost: {reason}; exiting so that only the new leader reconciles")
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(EXIT_LEADERSHIP_LOST)


@dataclass
class LeaseTimings:
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    @property
    def request_timeout(self) -> float:
        """No single API call may outlast the margin between the renew deadline and the lease duration."""
        return max(0.5, min(self.retry_period, (self.lease_duration - self.renew_deadline) / 2))


class LeaderElector:
    """Competes for the Lease in a thread; `wait_until_leading` blocks the caller until it is ours.

    `on_contact` is called after every answer from the API server (health), `on_lost` when the
    leadership lapsed (default: exit the process). `ensure_leading` lets work about to start check
    that the leadership is still valid by this process's clock (a process frozen by SIGSTOP and
    resumed must not act before its watchdog notices).
    """

    def __init__(
        self,
        api: client.CoordinationV1Api,
        *,
        name: str,
        namespace: str,
        identity: str,
        timings: LeaseTimings,
        on_contact: Callable[[], None] = lambda: None,
        on_lost: Callable[[str], None] = exit_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api, self.name, self.namespace, self.identity = api, name, namespace, identity
        self.timings, self.on_contact, self.on_lost, self.clock = timings, on_contact, on_lost, clock
        self._observed: Observed | None = None
        self._renewed_at: float | None = None  # when the last successful write was sent
        self._leading = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._last_problem = ""

    # -- the state others read -------------------------------------------------------------------------------
    @property
    def leading(self) -> bool:
        return self._leading.is_set() and self.still_valid()

    def still_valid(self) -> bool:
        renewed = self._renewed_at
        return renewed is not None and self.clock() - renewed < self.timings.renew_deadline

    def ensure_leading(self) -> None:
        """Exit before doing work if the leadership lapsed while this process was not looking."""
        if self._leading.is_set() and not self.still_valid():
            self._lose("not renewed within the renew deadline")

    def holder(self) -> str:
        observed = self._observed
        return observed.record.holder if observed else ""

    # -- running ---------------------------------------------------------------------------------------------
    def _report(self, leading: bool) -> None:
        """Ours and controller-runtime's leadership gauges (leader_election_master_status{name=<Lease>})."""
        metrics.LEADER.set(1 if leading else 0)
        metrics.LEADER_ELECTION_MASTER_STATUS.labels(self.name).set(1 if leading else 0)

    def start(self) -> LeaderElector:
        self._report(False)  # a standby reports 0 from the start
        logger.info(f"competing for Lease {self.namespace}/{self.name} as {self.identity}")
        for target, name in ((self._loop, "lease"), (self._watchdog, "lease-watchdog")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait_until_leading(self, timeout: float | None = None) -> bool:
        return self._leading.wait(timeout)

    def stop(self, *, release: bool = True) -> None:
        """Stop renewing; a leader that stops cleanly frees the Lease so a standby takes over at once."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self.timings.request_timeout + self.timings.retry_period)
        if release and self._leading.is_set() and self.still_valid():
            self._release()
        self._leading.clear()
        self._report(False)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._attempt()
                self._last_problem = ""
            except Exception as error:  # never let the renewing thread die while the work goes on
                problem = describe(error)
                level = logging.WARNING if problem != self._last_problem else logging.DEBUG  # not every 2 s
                logger.log(level, f"Lease {self.namespace}/{self.name}: {problem}")
                self._last_problem = problem
            pause = self.timings.retry_period
            if not self._leading.is_set():
                pause *= 1 + random.random() * 0.2  # jitter, as client-go: standbys do not fire together
            self._stopping.wait(pause)

    def _watchdog(self) -> None:
        """Independent of the API call that may be blocked: leadership ends at the deadline, not after it."""
        while not self._stopping.wait(0.2):
            if self._leading.is_set() and not self.still_valid():
                self._lose(f"not renewed for {self.timings.renew_deadline:g}s")

    def _lose(self, reason: str) -> None:
        with self._lock:
            if not self._leading.is_set():
                return
            self._leading.clear()
            self._report(False)
        self.on_lost(reason)

    def _attempt(self) -> None:
        sent = self.clock()
        timeout = self.timings.request_timeout
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace, _request_timeout=timeout)
        except ApiException as error:
            if error.status:  # an HTTP answer: the API server (or what fronts it) is reachable
                self.on_contact()
            if error.status != 404:
                raise
            lease = None
        self.on_contact()
        current = record_of(lease) if lease is not None else None
        self._observed = observe(self._observed, current, sent)
        verdict = decide(self.identity, self._observed, sent)
        if verdict is Verdict.WAIT:
            if self._leading.is_set():
                self._lose(f"the Lease is held by {self.holder()}")
            return
        record = claimed(self.identity, current, self.timings.lease_duration, datetime.now(UTC))
        try:
            if lease is None:
                body = client.V1Lease(metadata=client.V1ObjectMeta(name=self.name), spec=spec_of(record))
                written = self.api.create_namespaced_lease(self.namespace, body, _request_timeout=timeout)
            else:
                lease.spec = spec_of(record)  # replace, not patch: the resourceVersion makes a race lose with 409
                written = self.api.replace_namespaced_lease(self.name, self.namespace, lease, _request_timeout=timeout)
        except ApiException as error:
            if error.status in (409, 404):  # another replica wrote first
                self.on_contact()
                logger.info(f"Lease {self.namespace}/{self.name}: another replica wrote first ({error.status})")
                return
            raise
        self.on_contact()
        self._observed = observe(self._observed, record_of(written), sent)
        with self._lock:
            if self._leading.is_set() and not self.still_valid():
                return  # too late: the watchdog is ending this process
            self._renewed_at = sent
            if not self._leading.is_set():
                logger.info(f"became the leader: Lease {self.namespace}/{self.name} held by {self.identity}")
                self._leading.set()
                self._report(True)

    def _release(self) -> None:
        lease = self._lease_now()
        if lease is None or record_of(lease).holder != self.identity:
            return
        lease.spec.holder_identity = ""
        lease.spec.lease_duration_seconds = 1
        try:
            self.api.replace_namespaced_lease(
                self.name, self.namespace, lease, _request_timeout=self.timings.request_timeout
            )
            logger.info(f"released Lease {self.namespace}/{self.name}")
        except Exception as error:  # best effort: the Lease expires anyway
            logger.warning(f"could not release Lease {self.namespace}/{self.name}: {error}")

    def _lease_now(self) -> client.V1Lease | None:
        try:
            return self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self.timings.request_timeout
            )
        except Exception as error:
            logger.warning(f"could not read Lease {self.namespace}/{self.name} to release it: {error}")
            return None


class NotElected:
    """Stands in for the elector when leader election is off: always leading."""

    leading = True

    def ensure_leading(self) -> None:
        pass


NOT_ELECTED = NotElected()


def elector_for(settings: OperatorSettings, on_contact: Callable[[], None]) -> LeaderElector:
    """The elector the settings describe, on the kubeconfig or in-cluster configuration."""
    config.load_config()
    return LeaderElector(
        client.CoordinationV1Api(),
        name=settings.lease_name,
        namespace=lease_namespace(settings.lease_namespace),
        identity=new_identity(),
        timings=LeaseTimings(
            lease_duration=settings.lease_duration,
            renew_deadline=settings.renew_deadline,
            retry_period=settings.retry_period,
        ),
        on_contact=on_contact,
    )
