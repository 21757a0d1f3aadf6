"""Samples taken every half second through an upgrade or a rollback: EventTracker readiness and leadership.

Each sample lists the EventTrackers of one namespace (their Ready condition),
reads the leader-election Lease, and asks every running operator pod's metrics
endpoint (`personalize_operator_leader`) whether it leads: the Lease can name
one holder only, the pods say what each of them believes. The judgements are
pure functions of the samples, so a failure names the sample.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from support.trackers import GROUP, PLURAL, VERSION

INTERVAL = 0.5


@dataclass(frozen=True)
class Sample:
    at: float
    not_ready: tuple[str, ...]  # EventTrackers whose Ready condition is not True
    trackers: int
    holder: str  # the Lease's holderIdentity ("" while released)
    transitions: int
    leaders: tuple[str, ...]  # pods whose metrics say personalize_operator_leader 1
    error: str = ""  # the sample could not be taken (the API server did not answer)


def ready(item: dict[str, Any]) -> bool:
    conditions = (item.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def leads(pod_ip: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{pod_ip}:{port}/metrics", timeout=0.4) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, OSError):
        return False
    return any(line.strip() == "personalize_operator_leader 1.0" for line in text.splitlines())


@dataclass
class Sampler:
    api: client.ApiClient
    namespace: str  # the EventTrackers'
    release_namespace: str  # the operator pods' and the Lease's
    lease: str
    metrics_port: int
    version: str = VERSION  # the API version to list with (served before, during and after the change)
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def take(self) -> Sample:
        now = time.monotonic()
        custom, core = client.CustomObjectsApi(self.api), client.CoreV1Api(self.api)
        coordination = client.CoordinationV1Api(self.api)
        try:
            items = custom.list_namespaced_custom_object(GROUP, self.version, self.namespace, PLURAL)["items"]
            lease = coordination.read_namespaced_lease(self.lease, self.release_namespace)
            pods = core.list_namespaced_pod(
                self.release_namespace, label_selector="app.kubernetes.io/name=personalize-operator"
            ).items
        except (ApiException, OSError) as error:
            return Sample(now, (), 0, "", 0, (), error=f"{type(error).__name__}: {error}")
        leaders = tuple(
            pod.metadata.name
            for pod in pods
            if pod.status.pod_ip and pod.status.phase == "Running" and leads(pod.status.pod_ip, self.metrics_port)
        )
        return Sample(
            at=now,
            not_ready=tuple(item["metadata"]["name"] for item in items if not ready(item)),
            trackers=len(items),
            holder=lease.spec.holder_identity or "",
            transitions=lease.spec.lease_transitions or 0,
            leaders=leaders,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.samples.append(self.take())
            self._stop.wait(max(0.0, INTERVAL - (time.monotonic() - started)))

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="handover-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def problems(samples: list[Sample], trackers: int) -> list[str]:
    """Every sample that shows a tracker not Ready, a missing tracker, two leaders, or no answer (pure)."""
    found = []
    for index, sample in enumerate(samples):
        where = f"sample {index} (+{sample.at - samples[0].at:.1f}s)"
        if sample.error:
            found.append(f"{where}: {sample.error}")
        elif sample.trackers != trackers:
            found.append(f"{where}: {sample.trackers} EventTrackers, not {trackers}")
        elif sample.not_ready:
            found.append(f"{where}: not Ready: {', '.join(sample.not_ready)}")
        if len(sample.leaders) > 1:
            found.append(f"{where}: two leaders at once: {', '.join(sample.leaders)}")
    return found


def holders(samples: list[Sample]) -> list[str]:
    """The Lease holders in order, each once per stretch (pure)."""
    sequence: list[str] = []
    for sample in samples:
        if not sample.error and (not sequence or sequence[-1] != sample.holder):
            sequence.append(sample.holder)
    return sequence
