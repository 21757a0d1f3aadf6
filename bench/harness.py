"""What the operator benchmark measures with: the Kubernetes watch, the emulator's call counters, /proc.

Every figure comes from outside the operator: when a resource became Ready
and when its Secret appeared are times the benchmark's own watch saw the
events arrive; AWS calls are the emulator's counters, sampled every second;
CPU and memory are the operator process's /proc entries. The operator's logs
are never read.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from prometheus_client.parser import text_string_to_metric_families

from local_cluster.processes import free_port, spawn
from local_cluster.processes import stop as stop_process
from personalize_emulator.admin_client import EmulatorAdmin

GROUP, VERSION, PLURAL = "personalize.operators.dev", "v1beta1", "eventtrackers"
OWNER_LABEL = "personalize.operators.dev/event-tracker"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@dataclass
class Watched:
    """What the watch saw, by resource name (wall-clock seconds)."""

    ready_at: dict[str, float] = field(default_factory=dict)
    secret_at: dict[str, float] = field(default_factory=dict)
    lost_ready: set[str] = field(default_factory=set)  # names that went from Ready=True to not Ready


class NamespaceWatch:
    """Watches EventTrackers and the operator's Secrets of one namespace in two threads."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.namespace = namespace
        self.seen = Watched()
        self._custom = client.CustomObjectsApi(api)
        self._core = client.CoreV1Api(api)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(self._trackers,), daemon=True, name=f"watch-et-{namespace}"),
            threading.Thread(target=self._loop, args=(self._secrets,), daemon=True, name=f"watch-s-{namespace}"),
        ]

    def start(self) -> NamespaceWatch:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    def ready(self) -> dict[str, float]:
        with self._lock:
            return dict(self.seen.ready_at)

    def secrets(self) -> dict[str, float]:
        with self._lock:
            return dict(self.seen.secret_at)

    def lost_ready(self) -> set[str]:
        with self._lock:
            return set(self.seen.lost_ready)

    def _loop(self, stream: Any) -> None:
        while not self._stopping.is_set():
            try:
                stream()
            except ApiException as error:
                if error.status != 410:  # an expired resourceVersion: list again
                    time.sleep(1)
            except Exception:  # connection dropped: watch again
                time.sleep(1)

    def _trackers(self) -> None:
        for event in watch.Watch().stream(
            self._custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            timeout_seconds=60,
        ):
            now = time.time()
            obj = event["object"]
            name = obj["metadata"]["name"]
            with self._lock:
                if _ready(obj):
                    self.seen.ready_at.setdefault(name, now)
                elif name in self.seen.ready_at and event["type"] != "DELETED":
                    self.seen.lost_ready.add(name)
            if self._stopping.is_set():
                return

    def _secrets(self) -> None:
        for event in watch.Watch().stream(
            self._core.list_namespaced_secret, self.namespace, label_selector=OWNER_LABEL, timeout_seconds=60
        ):
            now = time.time()
            secret = event["object"]
            owner = (secret.metadata.labels or {}).get(OWNER_LABEL)
            if owner and event["type"] in ("ADDED", "MODIFIED") and secret.data:
                with self._lock:
                    self.seen.secret_at.setdefault(owner, now)
            if self._stopping.is_set():
                return


@dataclass
class Sample:
    at: float  # wall-clock seconds
    calls: dict[str, int]
    refused: dict[str, int]


class CallSampler:
    """The emulator's call counters every `interval` seconds, in a thread."""

    def __init__(self, admin: EmulatorAdmin, interval: float = 1.0) -> None:
        self.admin = admin
        self.interval = interval
        self.samples: list[Sample] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="call-sampler")

    def start(self) -> CallSampler:
        self.samples.append(self._sample())
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stopping.set()
        self._thread.join(timeout=10)
        self.samples.append(self._sample())
        return self.samples

    def _sample(self) -> Sample:
        return Sample(at=time.time(), calls=self.admin.calls(), refused=self.admin.rate_limited())

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.samples.append(self._sample())
            except OSError:
                continue


def calls_between(samples: list[Sample], start: float, end: float) -> dict[str, int]:
    """Calls per operation made between two wall-clock moments (nearest samples)."""
    before = max((s for s in samples if s.at <= start), key=lambda s: s.at, default=samples[0])
    after = min((s for s in samples if s.at >= end), key=lambda s: s.at, default=samples[-1])
    return {op: n - before.calls.get(op, 0) for op, n in after.calls.items() if n - before.calls.get(op, 0)}


def rates(samples: list[Sample], origin: float) -> list[tuple[float, dict[str, float]]]:
    """Calls per second per operation between consecutive samples, at seconds since `origin`."""
    out = []
    for earlier, later in itertools.pairwise(samples):
        span = later.at - earlier.at
        if span <= 0:
            continue
        per_op = {op: (n - earlier.calls.get(op, 0)) / span for op, n in later.calls.items()}
        out.append((later.at - origin, per_op))
    return out


@dataclass
class ProcessUsage:
    cpu_seconds: float
    rss_mb: float
    peak_rss_mb: float


def usage(pid: int) -> ProcessUsage:
    """CPU seconds (user + system) and resident memory of `pid`, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    kb = lambda key: int(status[key].split()[0])  # noqa: E731
    return ProcessUsage(cpu_seconds=cpu, rss_mb=kb("VmRSS") / 1024, peak_rss_mb=kb("VmHWM") / 1024)


class Operator:
    """`personalize-operator run` as a child process, pointed at the emulator by the standard variables."""

    def __init__(
        self,
        kubeconfig: Path,
        aws_env: dict[str, str],
        log: Path,
        namespaces: list[str],
        *,
        metrics: bool = False,
        **env: str,
    ):
        self.metrics_port = free_port() if metrics else 0
        self.kubeconfig = kubeconfig
        self.aws_env = aws_env
        self.log = log
        self.namespaces = namespaces
        self.env = env
        self.process: Any = None
        self.started_at = 0.0
        self.port = 0

    def command(self) -> list[str]:
        executable = shutil.which("personalize-operator", path=str(Path(sys.executable).parent)) or ""
        args = [executable, "run", f"--liveness=http://127.0.0.1:{self.port}/healthz"]
        return [*args, f"--metrics-port={self.metrics_port}", *(f"--namespace={ns}" for ns in self.namespaces)]

    def start(self, timeout: float = 60) -> Operator:
        self.port = free_port()
        args = self.command()
        # Its own Lease: every start leads at once (a restart's figures are not a lease hand-over's timing).
        lease = {"PERSONALIZE_OPERATOR_LEASE_NAME": f"bench-{self.log.stem}"}
        env = {"KUBECONFIG": str(self.kubeconfig), **lease, **self.aws_env, **self.env}
        self.started_at = time.time()
        self.process = spawn(args, self.log, env=env)
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"the operator exited with {self.process.returncode}; log: {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the operator did not become live within {timeout}s; log: {self.log}")
            time.sleep(0.2)
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def usage(self) -> ProcessUsage:
        return usage(self.process.pid)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=30)


class NaiveOperator(Operator):
    """bench/naive_operator.py under `kopf run`: the burst's comparator (a minimal operator polling every 10 s)."""

    def command(self) -> list[str]:
        script = str(Path(__file__).with_name("naive_operator.py"))
        args = [sys.executable, "-m", "kopf", "run", script, "--standalone", "--quiet"]
        return [
            *args,
            f"--liveness=http://127.0.0.1:{self.port}/healthz",
            *(f"--namespace={ns}" for ns in self.namespaces),
        ]


BUDGET_METRIC = "personalize_operator_aws_call_budget_rate"


class BudgetSampler:
    """The operator's call budget rate (its /metrics gauge, per region) every `interval` seconds, in a thread."""

    def __init__(self, port: int, interval: float = 1.0) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="budget-sampler")

    def start(self) -> BudgetSampler:
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, dict[str, float]]]:
        self._stopping.set()
        self._thread.join(timeout=10)
        return self.samples

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                with urllib.request.urlopen(self.url, timeout=2) as answer:
                    text = answer.read().decode()
            except OSError:
                continue
            rates = {
                sample.labels["region"]: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == BUDGET_METRIC
            }
            self.samples.append((time.time(), rates))


def budget_series(samples: list[tuple[float, dict[str, float]]], origin: float, region: str) -> list[list[float]]:
    """[seconds since `origin`, calls/s the budget allowed] for `region`."""
    return [[round(at - origin, 2), round(rates[region], 2)] for at, rates in samples if region in rates]


# The resources a reconcile writes or reads: the EventTrackers (and their status), their Events and Secrets.
KUBE_RESOURCES = ("eventtrackers", "events", "secrets")


def kube_requests(api: client.ApiClient, metric: str = "apiserver_request_total") -> dict[str, float]:
    """The API server's own request counters (apiserver_request_total from its /metrics), by "resource verb".

    Long-running WATCH requests are left out (a watch is one request however long it lasts). `metric`:
    another sample of the same labels, e.g. apiserver_request_duration_seconds_sum (the seconds they took).
    """
    method, url, headers, body, post = api.param_serialize("GET", "/metrics", auth_settings=["BearerToken"])
    answer = api.call_api(method, url, header_params=headers, body=body, post_params=post, _request_timeout=30)
    answer.read()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.data.decode()):
        for sample in family.samples:
            if sample.name != metric:
                continue
            labels = sample.labels
            resource = labels.get("resource", "")
            if resource not in KUBE_RESOURCES or labels.get("verb") == "WATCH":
                continue
            what = resource + ("/" + labels["subresource"] if labels.get("subresource") else "")
            key = f"{what} {labels.get('verb')}"
            counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def kube_request_mean_ms(
    counts_before: dict[str, float],
    counts_after: dict[str, float],
    seconds_before: dict[str, float],
    seconds_after: dict[str, float],
) -> dict[str, float]:
    """The API server's mean time per request of each kind between two readings (milliseconds)."""
    means: dict[str, float] = {}
    for key in sorted(counts_after):
        count = counts_after[key] - counts_before.get(key, 0.0)
        if count >= 1:
            means[key] = round(1000 * (seconds_after.get(key, 0.0) - seconds_before.get(key, 0.0)) / count, 1)
    return means


def kube_requests_per_resource(
    before: dict[str, float], after: dict[str, float], resources: int, *, ours: dict[str, float]
) -> dict[str, float]:
    """Requests per resource between two counter readings, less `ours` (the benchmark's own, e.g. its creates)."""
    per: dict[str, float] = {}
    for key in sorted(set(after) | set(before)):
        count = after.get(key, 0.0) - before.get(key, 0.0) - ours.get(key, 0.0)
        if count > 0:
            per[key] = round(count / resources, 2)
    return per
