"""`make bench`: the operator against a local control plane and the emulator, measured from outside.

Starts what it needs (the local control plane, the emulator as a process with
fixed transition delays, the operator as a process) and runs, in order:

1. latency: ACTIVE->Secret latency for trackers whose creation takes 4 s,
   60 s and 300 s, all in flight together (holds in the emulator stretch
   CREATE IN_PROGRESS per tracker); AWS calls per tracker by operation; the
   AWS call rate while 50 trackers are in transition in one region.
2. burst, no AWS limit: 200 EventTrackers at once in a region of their own,
   with the operator and then with a naive kopf operator polling every 10 s
   (bench/naive_operator.py) as the comparator: time to all Secrets,
   ACTIVE->Secret p50/p95, AWS calls per second and the operator's call
   budget (its /metrics gauge) over time.
3. burst: 200 EventTrackers at once against an emulator limited to 10 calls
   per second: time to all Secrets and all Ready, refused calls, duplicates,
   the call budget over time, operator CPU seconds and peak RSS.
4. restart: with 500 Active, the operator restarted: Creates, calls by
   operation in the first minute, time to settle, every resource still Ready.
5. idle: AWS calls per resource per hour at the default resync (600 s),
   measured over two resync periods at --resync-seconds 60 and scaled.
6. rss: resident memory with 1,000 EventTrackers Active.

Prints a table and JSON, writes docs/performance.md with PNG plots under
docs/performance/. Figures come from the Kubernetes watch, the emulator's call
counters and /proc, never from the operator's logs.

    .venv/bin/python bench/operator.py [--quick] [--out docs] [--only burst-unlimited,burst --json FILE]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
from kubernetes import client, config

from local_cluster.cluster import ControlPlane
from personalize_emulator.testing import Emulator, running_emulator

# bench/ is the script's directory, so first on sys.path
import harness  # isort: skip
import report  # isort: skip


REPO = Path(__file__).resolve().parents[1]
DELAY = 2.0  # seconds per emulator status transition: CREATE PENDING -> IN_PROGRESS -> ACTIVE is 4 s
OBSERVING = ("DescribeEventTracker", "ListEventTrackers", "ListTagsForResource")
UNLIMITED_REGION = "us-west-2"  # the unlimited bursts' trackers stay out of the later runs' status-board lists
SECONDS_METRIC = "apiserver_request_duration_seconds_sum"  # the time the API server took, by the same labels


@dataclass(frozen=True)
class Scale:
    classes: tuple[tuple[int, int], ...]  # (time to ACTIVE in seconds, trackers)
    burst: int
    restart: int
    rss: int
    emulator_tps: float = 10.0
    idle_resync: int = 60
    idle_window: float = 120.0


FULL = Scale(classes=((4, 20), (60, 20), (300, 50)), burst=200, restart=500, rss=1000)
QUICK = Scale(classes=((4, 5), (20, 5), (40, 10)), burst=40, restart=60, rss=100, idle_resync=20, idle_window=40.0)


class Bench:
    def __init__(self, kubeconfig: Path, emulator: Emulator, work: Path) -> None:
        self.kubeconfig = kubeconfig
        self.emulator = emulator
        self.work = work
        self.api = config.new_client_from_config(config_file=str(kubeconfig))
        self.core = client.CoreV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.personalize = emulator.client()
        self.groups: dict[str, str] = {}  # resource name -> dataset group ARN
        self.operators = 0

    # -- set-up -------------------------------------------------------------------------

    def namespace(self, name: str) -> str:
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        return name

    def dataset_groups(self, names: list[str], region: str | None = None) -> None:
        """One ACTIVE dataset group per tracker (AWS allows one tracker per group), made with no delay."""
        delay = self.emulator.admin.config()["transitionDelay"]
        self.emulator.admin.configure(transition_delay=0, tps_limit=0)
        personalize = self.emulator.client(region=region) if region else self.personalize
        for name in names:
            self.groups[name] = personalize.create_dataset_group(name=f"dg-{name}")["datasetGroupArn"]
        self.emulator.admin.configure(transition_delay=delay)

    def create(self, namespace: str, names: list[str], *, spacing: float = 0.0, workers: int = 16) -> float:
        """Create EventTrackers (spec.name = the resource name); returns the wall-clock time of the first."""

        def one(name: str) -> None:
            body = {
                "apiVersion": f"{harness.GROUP}/{harness.VERSION}",
                "kind": "EventTracker",
                "metadata": {"name": name},
                "spec": {
                    "name": name,
                    "datasetGroupArn": self.groups[name],
                    "tags": [{"tagKey": "bench", "tagValue": "1"}],
                },
            }
            self.custom.create_namespaced_custom_object(harness.GROUP, harness.VERSION, namespace, harness.PLURAL, body)

        started = time.time()
        if spacing:
            for name in names:
                one(name)
                time.sleep(spacing)
        else:
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, names))
        return started

    def operator(self, namespaces: list[str], *, metrics: bool = False, **env: str) -> harness.Operator:
        self.operators += 1
        log = self.work / f"operator-{self.operators}.log"
        aws = self.emulator.env()
        return harness.Operator(self.kubeconfig, aws, log, namespaces, metrics=metrics, **env).start()

    def naive(self, namespaces: list[str], region: str | None) -> harness.Operator:
        """The comparator: bench/naive_operator.py under kopf, its default region `region`."""
        self.operators += 1
        log = self.work / f"naive-{self.operators}.log"
        return harness.NaiveOperator(self.kubeconfig, self.emulator.env(region=region), log, namespaces).start()

    def trackers(self) -> dict[str, dict[str, Any]]:
        """The emulator's trackers by name (admin view; holds trackingIds: never printed)."""
        return {t["name"]: t for t in self.emulator.admin.trackers()}

    def wait(self, predicate: Any, timeout: float, what: str, interval: float = 0.5) -> float:
        started = time.monotonic()
        while not predicate():
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{what}: not within {timeout:.0f}s")
            time.sleep(interval)
        return time.monotonic() - started

    # -- 1. latency ---------------------------------------------------------------------

    def latency(self, scale: Scale) -> dict[str, Any]:
        say("latency: trackers taking " + ", ".join(f"{t} s (x{n})" for t, n in scale.classes) + " to turn ACTIVE")
        namespace = self.namespace("bench-latency")
        plan = [(f"t{seconds}-{i:03d}", seconds) for seconds, count in reversed(scale.classes) for i in range(count)]
        names = [name for name, _ in plan]
        self.dataset_groups(names)
        self.emulator.admin.configure(transition_delay=DELAY, tps_limit=0)
        held = {name: seconds for name, seconds in plan if seconds > 2 * DELAY}
        for name in held:
            self.emulator.admin.hold("CREATE IN_PROGRESS", name_pattern=re.escape(name))
        watch = harness.NamespaceWatch(self.api, namespace).start()
        operator = self.operator([namespace])
        sampler = harness.CallSampler(self.emulator.admin).start()
        released: dict[str, float] = {}
        done = threading.Event()
        releaser = threading.Thread(target=self._release_when_due, args=(held, released, done), daemon=True)
        releaser.start()
        origin = time.time()
        for name, _ in plan:
            self.create(namespace, [name])
            time.sleep(0.3)
        longest = max(seconds for _, seconds in plan)
        self.wait(lambda: len(watch.secrets()) == len(plan), timeout=longest + 180, what="every Secret")
        done.set()
        samples = sampler.stop()
        operator.stop()
        watch.stop()
        trackers = self.trackers()
        secrets = watch.secrets()
        result: dict[str, Any] = {"classes": {}}
        for seconds, count in scale.classes:
            members = [name for name, s in plan if s == seconds]
            active_at = {name: float(trackers[name]["lastUpdatedDateTime"]) for name in members}
            latencies = [secrets[name] - active_at[name] for name in members]
            to_active = [active_at[name] - float(trackers[name]["creationDateTime"]) for name in members]
            result["classes"][str(seconds)] = {
                "trackers": count,
                "time_to_active_s": round(float(numpy.mean(to_active)), 1),
                "latency_p50_s": round(float(numpy.percentile(latencies, 50)), 2),
                "latency_p95_s": round(float(numpy.percentile(latencies, 95)), 2),
                "latency_max_s": round(float(max(latencies)), 2),
                "latencies": [round(x, 3) for x in sorted(latencies)],
            }
        total = harness.calls_between(samples, origin - 1, time.time())
        result["calls_per_tracker"] = {op: round(n / len(plan), 2) for op, n in sorted(total.items())}
        result["calls_total"] = total
        result["transition_window"] = self._transition_window(plan, trackers, released, samples)
        result["rates"] = harness.rates(samples, origin)
        return result

    def _release_when_due(self, held: dict[str, int], released: dict[str, float], done: threading.Event) -> None:
        """Release each held tracker `seconds - DELAY` after its creation, so it is ACTIVE `seconds` after."""
        while not done.is_set() and len(released) < len(held):
            now = time.time()
            for name, tracker in self.trackers().items():
                due = name in held and now >= float(tracker["creationDateTime"]) + held[name] - DELAY
                if due and name not in released:
                    self.emulator.admin.release(name_pattern=re.escape(name))
                    released[name] = time.time()
            time.sleep(0.2)

    def _transition_window(
        self,
        plan: list[tuple[str, int]],
        trackers: dict[str, dict[str, Any]],
        released: dict[str, float],
        samples: list[harness.Sample],
    ) -> dict[str, Any]:
        """AWS calls while only the longest class is in transition: all created, none released, the rest done."""
        longest = max(seconds for _, seconds in plan)
        slow = [name for name, s in plan if s == longest]
        quick = [name for name, s in plan if s != longest]
        start = (
            max(
                max(float(trackers[n]["creationDateTime"]) for n in slow) + 2 * DELAY,
                max((float(trackers[n]["lastUpdatedDateTime"]) for n in quick), default=0.0),
            )
            + 5.0
        )
        end = min(released[n] for n in slow) - 1.0
        if end - start < 10:
            return {"trackers": len(slow), "seconds": 0, "note": "window too short to measure"}
        calls = harness.calls_between(samples, start, end)
        seconds = end - start
        observing = sum(n for op, n in calls.items() if op in OBSERVING)
        return {
            "trackers": len(slow),
            "seconds": round(seconds, 1),
            "observing_calls_per_second": round(observing / seconds, 2),
            "all_calls_per_second": round(sum(calls.values()) / seconds, 2),
            "calls": calls,
        }

    # -- 2. burst -----------------------------------------------------------------------

    def burst_unlimited(self, scale: Scale) -> dict[str, Any]:
        """The burst with no AWS limit: ours, then the naive 10 s poller, in their own region and namespaces."""
        say(f"burst: {scale.burst} EventTrackers at once, no AWS limit: ours, then the naive 10 s poller")
        results = {}
        for who, prefix in (("ours", "f"), ("naive", "n")):
            names = [f"{prefix}-{i:04d}" for i in range(scale.burst)]
            namespace = self.namespace(f"bench-burst-{who}")
            results[who], operator, watch = self._burst(
                names, namespace, tps=0, region=UNLIMITED_REGION, naive=who == "naive"
            )
            operator.stop()
            watch.stop()
        return results

    def burst(self, scale: Scale, namespace: str) -> tuple[dict[str, Any], harness.Operator, harness.NamespaceWatch]:
        say(f"burst: {scale.burst} EventTrackers at once, emulator limit {scale.emulator_tps:g} calls/s")
        names = [f"b-{i:04d}" for i in range(scale.burst)]
        return self._burst(names, namespace, tps=scale.emulator_tps)

    def _burst(
        self, names: list[str], namespace: str, *, tps: float, region: str | None = None, naive: bool = False
    ) -> tuple[dict[str, Any], harness.Operator, harness.NamespaceWatch]:
        """Create `names` at once; figures from the watch (Secrets, Ready), the emulator and /metrics."""
        self.dataset_groups(names, region=region)
        self.emulator.admin.configure(transition_delay=DELAY, tps_limit=tps)
        watch = harness.NamespaceWatch(self.api, namespace).start()
        operator = self.naive([namespace], region) if naive else self.operator([namespace], metrics=True)
        budget = None if naive else harness.BudgetSampler(operator.metrics_port).start()
        before = operator.usage()
        requests_before = harness.kube_requests(self.api)
        seconds_before = harness.kube_requests(self.api, SECONDS_METRIC)
        sampler = harness.CallSampler(self.emulator.admin).start()
        origin = self.create(namespace, names)
        self.wait(lambda: len(watch.secrets()) >= len(names), timeout=600, what=f"{len(names)} Secrets")
        if not naive:
            self.wait(lambda: len(watch.ready()) >= len(names), timeout=120, what=f"{len(names)} Ready")
        after = operator.usage()
        requests_after = harness.kube_requests(self.api)
        requests = harness.kube_requests_per_resource(
            requests_before, requests_after, len(names), ours={"eventtrackers POST": len(names)}
        )
        latency = harness.kube_request_mean_ms(
            requests_before, requests_after, seconds_before, harness.kube_requests(self.api, SECONDS_METRIC)
        )
        samples = sampler.stop()
        budgets = budget.stop() if budget is not None else []
        secrets = watch.secrets()
        calls = harness.calls_between(samples, origin - 1, time.time())
        refused = _delta(samples[0].refused, samples[-1].refused)
        wanted = set(names)
        trackers = [t for t in self.emulator.admin.trackers() if t["name"] in wanted]
        by_name = {t["name"]: t for t in trackers}
        after_active = [secrets[n] - float(by_name[n]["lastUpdatedDateTime"]) for n in names]
        after_apply = [secrets[n] - origin for n in names]
        groups = [t["datasetGroupArn"] for t in trackers]
        result = {
            "operator": "naive 10 s poller (bench/naive_operator.py)" if naive else "personalize-operator",
            "trackers": len(names),
            "emulator_tps_limit": tps,
            "time_to_all_secrets_s": round(max(secrets.values()) - origin, 1),
            "time_to_all_ready_s": None if naive else round(max(watch.ready().values()) - origin, 1),
            "active_to_secret_p50_s": round(float(numpy.percentile(after_active, 50)), 2),
            "active_to_secret_p95_s": round(float(numpy.percentile(after_active, 95)), 2),
            "apply_to_secret_p50_s": round(float(numpy.percentile(after_apply, 50)), 1),
            "calls": calls,
            "calls_total": sum(calls.values()),
            "throttled": sum(refused.values()),
            "throttled_percent": round(100 * sum(refused.values()) / max(1, sum(calls.values())), 2),
            "duplicates": len(trackers) - len(set(groups)) + max(0, len(trackers) - len(names)),
            "creates": calls.get("CreateEventTracker", 0),
            "kube_requests_per_resource": requests,
            "kube_requests_per_resource_total": round(sum(requests.values()), 2),
            "kube_request_mean_ms": latency,
            "cpu_seconds": round(after.cpu_seconds - before.cpu_seconds, 1),
            "peak_rss_mb": round(after.peak_rss_mb, 1),
            "rates": harness.rates(samples, origin),
            "budget": harness.budget_series(budgets, origin, region or self.emulator.region),
        }
        return result, operator, watch

    # -- 3. restart ---------------------------------------------------------------------

    def restart(
        self, scale: Scale, namespace: str, operator: harness.Operator, watch: harness.NamespaceWatch
    ) -> dict[str, Any]:
        have = len(watch.ready())
        names = [f"b-{i:04d}" for i in range(have, scale.restart)]
        say(f"restart: {len(names)} more EventTrackers to reach {scale.restart} Active, then the operator restarts")
        self.dataset_groups(names)
        self.emulator.admin.configure(tps_limit=scale.emulator_tps)
        self.create(namespace, names)
        self.wait(lambda: len(watch.ready()) >= scale.restart, timeout=900, what=f"{scale.restart} Ready")
        time.sleep(5)
        operator.stop()
        watch.seen.lost_ready.clear()
        sampler = harness.CallSampler(self.emulator.admin).start()
        restarted = self.operator([namespace])
        origin = restarted.started_at
        time.sleep(max(0.0, origin + 60 - time.time()))
        first_minute = harness.calls_between(sampler.samples, origin, origin + 60)
        settled = self._settle(sampler, origin, quiet=15, limit=240)
        samples = sampler.stop()
        items = self.custom.list_namespaced_custom_object(harness.GROUP, harness.VERSION, namespace, harness.PLURAL)
        ready = sum(1 for item in items["items"] if harness._ready(item))
        return {
            "active": scale.restart,
            "creates": first_minute.get("CreateEventTracker", 0),
            "calls_first_minute": first_minute,
            "calls_first_minute_total": sum(first_minute.values()),
            "time_to_settle_s": settled,
            "ready_after": ready,
            "lost_ready": len(watch.lost_ready()),
            "rates": harness.rates(samples, origin),
        }, restarted

    def _settle(self, sampler: harness.CallSampler, origin: float, quiet: float, limit: float) -> float | None:
        """Seconds from `origin` to the last call before `quiet` seconds without any (None: not within `limit`)."""
        while time.time() < origin + limit:
            samples = list(sampler.samples)
            last_change = origin
            for earlier, later in itertools.pairwise(samples):
                if later.calls != earlier.calls:
                    last_change = later.at
            if time.time() - last_change >= quiet:
                return round(last_change - origin, 1)
            time.sleep(1)
        return None

    # -- 4. idle ------------------------------------------------------------------------

    def idle(self, scale: Scale, namespace: str, operator: harness.Operator) -> tuple[dict[str, Any], harness.Operator]:
        say(f"idle: {scale.restart} Active, resync every {scale.idle_resync} s, measured for {scale.idle_window:.0f} s")
        operator.stop()
        # The call budget is not measured here: with 500 resources at a 60 s resync it would cap the passes.
        self.emulator.admin.configure(tps_limit=0)
        resynced = self.operator(
            [namespace],
            PERSONALIZE_OPERATOR_RESYNC_SECONDS=str(scale.idle_resync),
            PERSONALIZE_OPERATOR_AWS_CALL_RATE_CEILING="100",
            PERSONALIZE_OPERATOR_AWS_CALL_BURST="10",
        )
        time.sleep(scale.idle_resync)  # the restart's own calls, then the resync rhythm
        start = time.time()
        sampler = harness.CallSampler(self.emulator.admin, interval=5).start()
        time.sleep(scale.idle_window)
        samples = sampler.stop()
        calls = harness.calls_between(samples, start, time.time())
        passes = scale.idle_window / scale.idle_resync
        per_pass = sum(calls.values()) / scale.restart / passes
        return {
            "resources": scale.restart,
            "measured_resync_s": scale.idle_resync,
            "window_s": scale.idle_window,
            "calls": calls,
            "calls_per_resource_per_resync": round(per_pass, 2),
            "calls_per_resource_per_hour_at_600s": round(per_pass * 3600 / 600, 2),
            "calls_per_hour_at_600s_for_1000": round(per_pass * 3600 / 600 * 1000),
        }, resynced

    # -- 5. rss -------------------------------------------------------------------------

    def rss(self, scale: Scale, namespace: str, operator: harness.Operator, watch: harness.NamespaceWatch) -> dict:
        have = len(watch.ready())
        names = [f"b-{i:04d}" for i in range(have, scale.rss)]
        say(f"rss: {len(names)} more EventTrackers to reach {scale.rss} Active")
        operator.stop()
        fast = self.operator(
            [namespace], PERSONALIZE_OPERATOR_AWS_CALL_RATE_CEILING="50", PERSONALIZE_OPERATOR_AWS_CALL_BURST="10"
        )
        self.dataset_groups(names)
        self.emulator.admin.configure(tps_limit=0)
        self.create(namespace, names)
        self.wait(lambda: len(watch.ready()) >= scale.rss, timeout=900, what=f"{scale.rss} Ready")
        time.sleep(20)
        busy = fast.usage()
        fast.stop()
        resumed = self.operator([namespace])
        time.sleep(45)
        calm = resumed.usage()
        resumed.stop()
        return {
            "active": scale.rss,
            "rss_mb_after_creating": round(busy.rss_mb, 1),
            "peak_rss_mb_while_creating": round(busy.peak_rss_mb, 1),
            "rss_mb_after_restart": round(calm.rss_mb, 1),
            "peak_rss_mb_after_restart": round(calm.peak_rss_mb, 1),
        }


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


RUNS = ("latency", "burst-unlimited", "burst", "restart", "idle", "rss")


def run(scale: Scale, out: Path, only: set[str] = set(RUNS)) -> dict[str, Any]:  # noqa: B006 (never mutated)
    work = Path(tempfile.mkdtemp(prefix="personalize-bench-"))
    say(f"work directory (logs): {work}")
    results: dict[str, Any] = {
        "scale": "quick" if scale is QUICK else "full",
        "started": time.strftime("%Y-%m-%d %H:%M"),
    }
    with (
        ControlPlane(workdir=work / "cluster") as plane,
        running_emulator(subprocess=True, transition_delay=DELAY, tracker_quota=5000) as emulator,
    ):
        from support.kube import install_crd

        install_crd(plane.kubeconfig, REPO / "crds")
        bench = Bench(plane.kubeconfig, emulator, work)
        if "latency" in only:
            results["latency"] = bench.latency(scale)
        if "burst-unlimited" in only:
            results["burst_unlimited"] = bench.burst_unlimited(scale)
        if not only & {"burst", "restart", "idle", "rss"}:
            return results
        namespace = bench.namespace("bench-fleet")
        results["burst"], operator, watch = bench.burst(scale, namespace)
        if only & {"restart", "idle", "rss"}:  # each of these goes on from the one before
            results["restart"], operator = bench.restart(scale, namespace, operator, watch)
        if only & {"idle", "rss"}:
            results["idle"], operator = bench.idle(scale, namespace, operator)
        if "rss" in only:
            results["rss"] = bench.rss(scale, namespace, operator, watch)
        else:
            operator.stop()
        watch.stop()
    return results


def run_rss_only(scale: Scale) -> dict[str, Any]:
    """Only the rss run, from an empty namespace: every EventTracker is created with the operator running."""
    work = Path(tempfile.mkdtemp(prefix="personalize-bench-"))
    say(f"work directory (logs): {work}")
    with (
        ControlPlane(workdir=work / "cluster") as plane,
        running_emulator(subprocess=True, transition_delay=DELAY, tracker_quota=5000) as emulator,
    ):
        from support.kube import install_crd

        install_crd(plane.kubeconfig, REPO / "crds")
        bench = Bench(plane.kubeconfig, emulator, work)
        namespace = bench.namespace("bench-fleet")
        watch = harness.NamespaceWatch(bench.api, namespace).start()
        results = {"scale": "rss only", "started": time.strftime("%Y-%m-%d %H:%M")}
        results["rss"] = bench.rss(scale, namespace, bench.operator([namespace]), watch)
        watch.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small numbers, a few minutes (a smoke test)")
    parser.add_argument(
        "--rss-only", action="store_true", help="only the rss run, from an empty namespace (prints; writes no report)"
    )
    parser.add_argument(
        "--merge", type=Path, help="with --rss-only: put its figures into this saved JSON and redraw the report"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="where performance.md and the plots go")
    parser.add_argument("--from-json", type=Path, help="only redraw the report from a saved JSON")
    parser.add_argument(
        "--only",
        default=",".join(RUNS),
        help=f"comma-separated runs among {', '.join(RUNS)} (restart, idle and rss need the runs before them)",
    )
    parser.add_argument("--json", type=Path, help="also save the results here (with --only: docs/ is not rewritten)")
    args = parser.parse_args()
    if args.rss_only:
        alone = run_rss_only(QUICK if args.quick else FULL)
        print(json.dumps(alone, indent=2))
        if not args.merge:
            return 0
        results = json.loads(args.merge.read_text())
        results["rss"] = alone["rss"]
        results.setdefault("notes", []).append(
            f"The rss row was measured again by `bench/operator.py --rss-only` on {alone['started']}: all"
            f" {alone['rss']['active']} EventTrackers created in an empty namespace with that operator running."
        )
        report.write(results, args.out)
        print(report.table(results))
        return 0
    only = {run.strip() for run in args.only.split(",") if run.strip()}
    if unknown := only - set(RUNS):
        parser.error(f"unknown runs {sorted(unknown)}; choose among {', '.join(RUNS)}")
    scale = QUICK if args.quick else FULL
    results = json.loads(args.from_json.read_text()) if args.from_json else run(scale, args.out, only)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if only == set(RUNS) or args.from_json:
        report.write(results, args.out)
    print(report.table(results))
    print(json.dumps(report.summary(results), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
