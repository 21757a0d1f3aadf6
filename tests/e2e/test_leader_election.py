"""Two operator processes, one Lease: exactly one reconciles, and the other takes over when it dies or freezes.

Protects the high-availability promises of docs/install.md against a real API server and the
emulator: a standby makes no AWS call until it holds the Lease; a SIGKILLed leader is replaced
within 20 s and its half-done work is finished without a duplicate tracker; a leader frozen
past its Lease (SIGSTOP) does not reconcile again when it thaws; and liveness says "unhealthy"
while the API server is out of reach, and "healthy" again once it is back.

Each process reaches the shared emulator through a `RecordingProxy` of its own, so the test
knows which process made each AWS call; the Lease lives in the test's own `solo-ha-*`
namespace (the shared e2e operator ignores `solo-*`).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from personalize_emulator.testing import Emulator, running_emulator
from support.kube import create_namespace, delete_namespace
from support.operator_process import OperatorProcess
from support.proxies import RecordingProxy, TcpProxy, api_server_address, kubeconfig_through
from support.trackers import GROUP, PLURAL, VERSION, Trackers, manifest
from support.wait import wait_for

TRANSITION_DELAY = 0.5
TAKEOVER_LIMIT = 20.0  # seconds from the leader's death to the standby holding the Lease
BURST = 50


@dataclass
class Replica:
    operator: OperatorProcess
    aws: RecordingProxy


@dataclass
class Pair:
    """Two replicas of the operator competing for one Lease in their own namespace and emulator."""

    namespace: str
    lease: str
    emulator: Emulator
    trackers: Trackers
    coordination: client.CoordinationV1Api
    first: Replica
    second: Replica
    started: list[Replica] = field(default_factory=list)

    def holder(self) -> str:
        try:
            return self.coordination.read_namespaced_lease(self.lease, self.namespace).spec.holder_identity or ""
        except ApiException as error:
            if error.status == 404:
                return ""
            raise

    def acquired_at(self) -> float:
        acquired: datetime = self.coordination.read_namespaced_lease(self.lease, self.namespace).spec.acquire_time
        return acquired.timestamp()

    def groups(self, count: int, stem: str) -> list[str]:
        personalize = self.emulator.client()
        arns = [
            str(personalize.create_dataset_group(name=f"{stem}-{i}-{uuid.uuid4().hex[:6]}")["datasetGroupArn"])
            for i in range(count)
        ]
        for arn in arns:  # AWS refuses trackers in a dataset group still being created
            wait_for(
                lambda arn=arn: (
                    personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE"
                ),
                timeout=60,
                what=f"dataset group {arn} ACTIVE",
            )
        return arns

    def assert_no_duplicates(self, expected: int) -> None:
        remote = self.emulator.admin.trackers()
        per_group: dict[str, int] = defaultdict(int)
        for tracker in remote:
            per_group[tracker["datasetGroupArn"]] += 1
        assert len(remote) == expected, f"{len(remote)} trackers in AWS for {expected} resources"
        assert max(per_group.values(), default=1) == 1, "a dataset group got two trackers"


@pytest.fixture
def pair(
    kubeconfig: Path,
    api_client: client.ApiClient,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    crd: str,
    tmp_path: Path,
) -> Iterator[Pair]:
    namespace = create_namespace(core, f"solo-ha-{uuid.uuid4().hex[:8]}")
    lease = f"ha-{uuid.uuid4().hex[:8]}"
    with running_emulator(transition_delay=TRANSITION_DELAY, tracker_quota=200) as emulator:
        replicas = []
        for name in ("first", "second"):
            aws = RecordingProxy(emulator.endpoint)
            operator = OperatorProcess(
                kubeconfig=kubeconfig,
                endpoint=aws.endpoint,
                log=tmp_path / f"{name}.log",
                namespaces=[namespace],
                lease_name=lease,
                extra_env={"PERSONALIZE_OPERATOR_LEASE_NAMESPACE": namespace},
            )
            replicas.append(Replica(operator=operator, aws=aws))
        box = Pair(
            namespace=namespace,
            lease=lease,
            emulator=emulator,
            trackers=Trackers(custom=custom, core=core, namespace=namespace),
            coordination=client.CoordinationV1Api(api_client),
            first=replicas[0],
            second=replicas[1],
        )
        try:
            yield box
        finally:
            survivors = [r for r in replicas if r.operator.process and r.operator.process.poll() is None]
            for replica in survivors:
                replica.operator.resume()
            _delete_all(custom, namespace, finalize=bool(survivors))
            for replica in replicas:
                replica.operator.stop()
                replica.aws.close()
            delete_namespace(core, namespace)


def _delete_all(custom: client.CustomObjectsApi, namespace: str, *, finalize: bool) -> None:
    items = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
    for item in items:
        name = item["metadata"]["name"]
        if not finalize:
            unfinalized = {"metadata": {"finalizers": None}}
            custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, unfinalized)
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    wait_for(
        lambda: not custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"],
        timeout=120,
        what=f"trackers in {namespace} finalized",
    )


def start_leader_then_standby(pair: Pair) -> tuple[Replica, Replica]:
    """The first process leads (it started alone), the second stands by, ready."""
    pair.first.operator.start()
    wait_for(lambda: pair.holder() == pair.first.operator.identity, timeout=30, what="first process holds the Lease")
    pair.second.operator.start()
    status, report = pair.second.operator.probe("/readyz")
    assert (status, report["role"]) == (200, "standby"), report
    assert pair.first.operator.probe("/readyz")[1]["role"] == "leader"
    return pair.first, pair.second


class SecretLog:
    """Every version of every Secret in a namespace, as data hashes (never the trackingId itself)."""

    def __init__(self, core: client.CoreV1Api, namespace: str) -> None:
        self.versions: dict[str, set[str]] = defaultdict(set)
        self._stopped = threading.Event()
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._follow, args=(core, namespace), daemon=True)
        self._thread.start()

    def _follow(self, core: client.CoreV1Api, namespace: str) -> None:
        version: str | None = None
        while not self._stopped.is_set():
            try:
                for event in self._watch.stream(
                    core.list_namespaced_secret, namespace, resource_version=version, timeout_seconds=60
                ):
                    secret: client.V1Secret = event["object"]
                    version = secret.metadata.resource_version
                    if event["type"] in ("ADDED", "MODIFIED") and secret.data:
                        digest = hashlib.sha256(repr(sorted(secret.data.items())).encode()).hexdigest()[:12]
                        self.versions[secret.metadata.name].add(digest)
            except Exception:  # a dropped watch is resumed from the last version seen
                time.sleep(0.2)

    def stop(self) -> None:
        self._stopped.set()
        self._watch.stop()

    def written_twice_differently(self) -> list[str]:
        return sorted(name for name, digests in self.versions.items() if len(digests) > 1)


def tracking_id_hash(secret: client.V1Secret | None) -> str:
    assert secret is not None and secret.data
    return hashlib.sha256(base64.b64decode(secret.data["trackingId"])).hexdigest()[:12]


class TestOneLeader:
    """Only the Lease holder reconciles: the standby's AWS endpoint sees no call at all."""

    def test_exactly_one_process_reconciles_and_it_is_the_lease_holder(self, pair: Pair) -> None:
        leader, standby = start_leader_then_standby(pair)
        groups = pair.groups(5, "one")
        pair.emulator.admin.reset_calls()
        for i, group in enumerate(groups):
            pair.trackers.create(manifest(f"one-{i}", group))
        for i in range(len(groups)):
            pair.trackers.wait_phase(f"one-{i}", "Active", timeout=90)

        emulator_calls = sum(pair.emulator.admin.calls().values())
        print(
            f"\nAWS calls: leader {len(leader.aws.calls)}, standby {len(standby.aws.calls)}; emulator {emulator_calls}"
        )
        assert standby.aws.calls == []
        assert len(leader.aws.operations()) == emulator_calls > 0
        assert leader.aws.operations().count("CreateEventTracker") == len(groups)
        assert pair.holder() == leader.operator.identity
        pair.assert_no_duplicates(len(groups))


class TestFailover:
    """A dead or frozen leader is replaced; the work is finished once, with no duplicate and no double write."""

    def test_a_killed_leader_is_replaced_within_20s_during_a_burst_of_50(
        self, pair: Pair, core: client.CoreV1Api
    ) -> None:
        leader, standby = start_leader_then_standby(pair)
        groups = pair.groups(BURST, "burst")
        secrets = SecretLog(core, pair.namespace)
        killed_at = 0.0
        for i, group in enumerate(groups):
            pair.trackers.create(manifest(f"burst-{i:02d}", group))
            if i == 15:  # mid-burst, with creates in flight
                wait_for(lambda: leader.aws.operations().count("CreateEventTracker") >= 3, timeout=30, what="creates")
                leader.operator.kill()
                killed_at = time.monotonic()
        takeover = wait_for(
            lambda: pair.holder() == standby.operator.identity and time.monotonic(),
            timeout=TAKEOVER_LIMIT + 10,
            what="the standby holds the Lease",
        )
        took = takeover - killed_at
        print(f"\ntakeover {took:.1f}s after SIGKILL; leader made {len(leader.aws.calls)} AWS calls")
        assert took <= TAKEOVER_LIMIT

        started = time.monotonic()
        for i in range(BURST):
            pair.trackers.wait_phase(f"burst-{i:02d}", "Active", timeout=240)
        print(f"all {BURST} Active {time.monotonic() - started:.1f}s after the takeover")
        secrets.stop()

        acquired = pair.acquired_at()
        first_call = standby.aws.first_call()
        assert first_call is not None and first_call >= acquired, "the standby called AWS before it held the Lease"
        creates = leader.aws.operations().count("CreateEventTracker") + standby.aws.operations().count(
            "CreateEventTracker"
        )
        print(f"CreateEventTracker: {creates} for {BURST} resources")
        pair.assert_no_duplicates(BURST)
        assert secrets.written_twice_differently() == []

    def test_a_frozen_leader_is_replaced_and_does_not_reconcile_when_it_thaws(
        self, pair: Pair, core: client.CoreV1Api
    ) -> None:
        leader, standby = start_leader_then_standby(pair)
        groups = pair.groups(10, "frozen")
        for i in range(5):
            pair.trackers.create(manifest(f"frozen-{i}", groups[i]))
        for i in range(5):
            pair.trackers.wait_phase(f"frozen-{i}", "Active", timeout=90)
        secrets = SecretLog(core, pair.namespace)

        leader.operator.pause()
        paused_at = time.monotonic()
        for i in range(5, 10):
            pair.trackers.create(manifest(f"frozen-{i}", groups[i]))
        wait_for(lambda: pair.holder() == standby.operator.identity, timeout=TAKEOVER_LIMIT + 10, what="takeover")
        print(f"\ntakeover {time.monotonic() - paused_at:.1f}s after SIGSTOP")
        for i in range(10):
            pair.trackers.wait_phase(f"frozen-{i}", "Active", timeout=90)
        time.sleep(max(0.0, 30 - (time.monotonic() - paused_at)))  # the freeze lasts 30 s, as the scenario says

        thawed_at = time.time()
        leader.operator.resume()
        pair.trackers.patch("frozen-0", {"spec": {"tags": [{"tagKey": "team", "tagValue": "growth"}]}})
        wait_for(lambda: leader.operator.exit_code() is not None, timeout=30, what="the thawed leader exits")
        print(f"thawed leader exited with {leader.operator.exit_code()}")
        assert leader.operator.exit_code() == 1
        assert "leader election lost" in leader.operator.output()
        assert leader.aws.operations(since=thawed_at) == [], "the thawed leader called AWS"
        assert pair.holder() == standby.operator.identity

        wait_for(
            lambda: (
                any(t["tagKey"] == "team" for t in pair.trackers.get("frozen-0")["spec"]["tags"])
                and pair.trackers.status("frozen-0").get("phase") == "Active"
            ),
            timeout=60,
            what="the new leader handled the change",
        )
        secrets.stop()
        pair.assert_no_duplicates(10)
        assert secrets.written_twice_differently() == []


class TestLiveness:
    """Liveness follows the API server: unhealthy soon after it is out of reach, healthy when it is back."""

    LIMIT = 5.0  # PERSONALIZE_OPERATOR_LIVENESS_TIMEOUT for these tests

    def test_liveness_fails_while_the_api_server_is_unreachable_and_recovers(
        self, pair: Pair, kubeconfig: Path, tmp_path: Path
    ) -> None:
        pair.first.operator.start()  # the leader, direct; the standby goes through a proxy we can cut
        proxy = TcpProxy(*api_server_address(kubeconfig)).start()
        standby = pair.second.operator
        standby.kubeconfig = kubeconfig_through(kubeconfig, proxy, tmp_path / "through-proxy.kubeconfig")
        standby.extra_env["PERSONALIZE_OPERATOR_LIVENESS_TIMEOUT"] = str(self.LIMIT)
        standby.start()
        assert standby.probe("/healthz")[0] == 200 and standby.probe("/readyz")[1]["role"] == "standby"

        proxy.stop()
        cut = time.monotonic()
        wait_for(lambda: standby.probe("/healthz")[0] == 503, timeout=self.LIMIT + 15, what="liveness 503")
        unhealthy_after = time.monotonic() - cut
        status, report = standby.probe("/healthz")
        assert status == 503 and "API server not reached" in report["reasons"][0], report
        assert standby.probe("/readyz")[0] == 503

        proxy.start()
        back = time.monotonic()
        wait_for(lambda: standby.probe("/healthz")[0] == 200, timeout=15, what="liveness 200 again")
        healthy_after = time.monotonic() - back
        print(
            f"\nliveness 503 {unhealthy_after:.1f}s after the cut (limit {self.LIMIT:g}s),"
            f" 200 {healthy_after:.1f}s after it came back"
        )
        assert unhealthy_after >= self.LIMIT - 3  # the last answer came up to one retry period (2-2.4 s) before the cut
        wait_for(lambda: standby.probe("/readyz")[0] == 200, timeout=15, what="ready again")
        proxy.stop()

    def test_a_leader_cut_off_from_the_api_server_exits_before_its_lease_could_be_taken(
        self, pair: Pair, kubeconfig: Path, tmp_path: Path
    ) -> None:
        proxy = TcpProxy(*api_server_address(kubeconfig)).start()
        leader = pair.first.operator
        leader.kubeconfig = kubeconfig_through(kubeconfig, proxy, tmp_path / "through-proxy.kubeconfig")
        leader.start()
        wait_for(lambda: pair.holder() == leader.identity, timeout=30, what="the leader holds the Lease")
        renewed: datetime = pair.coordination.read_namespaced_lease(pair.lease, pair.namespace).spec.renew_time

        proxy.stop()
        cut = time.monotonic()
        wait_for(lambda: leader.exit_code() is not None, timeout=30, interval=0.1, what="the cut-off leader exits")
        exited_at, exited_after = time.time(), time.monotonic() - cut
        last_renewal = pair.coordination.read_namespaced_lease(pair.lease, pair.namespace).spec.renew_time
        held_for = exited_at - last_renewal.timestamp()
        print(f"\ncut-off leader exited {exited_after:.1f}s after the cut, {held_for:.1f}s after its last renewal")
        assert leader.exit_code() == 1
        assert last_renewal >= renewed
        assert held_for < 15, "it must stop before a standby may take the Lease (lease duration 15s)"
