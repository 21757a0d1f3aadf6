"""runner.py with a tenancy map, through in-memory fakes: refusals build no AWS client, deletions are never refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from personalize_operator.api.names import FINALIZER
from personalize_operator.aws.client import Identity
from personalize_operator.aws.tenancy import TenancySource
from personalize_operator.reconciler import passes as runner
from personalize_operator.runtime.locks import Gates
from personalize_operator.runtime.settings import OperatorSettings
from personalize_operator.runtime.workqueue import Scheduler

ROLE_A = "arn:aws:iam::111111111111:role/personalize-team-a"
ROLE_B = "arn:aws:iam::222222222222:role/personalize-team-b"
MAP = f"""\
tenants:
  - namespaces: [team-a]
    roleArn: {ROLE_A}
    externalId: team-a-7f3c
    datasetGroups: ["arn:aws:personalize:*:111111111111:dataset-group/a-*"]
"""


class NoCalls:
    """A Personalize client that fails the test on any call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"no AWS call expected, got {name}")


class Pool:
    """Records which identities clients were asked for; `forbid` fails the test if any is built."""

    def __init__(self, *, forbid: bool = False) -> None:
        self.forbid = forbid
        self.identities: list[Identity | None] = []

    def for_region(self, region: str, *, once: bool = False, identity: Identity | None = None) -> Any:
        if self.forbid:
            raise AssertionError("no AWS client may be built for a refused resource")
        self.identities.append(identity)
        return NoCalls()


class NoSecrets:
    """The Kubernetes core API as far as the Secret clean-up of a release needs it: no Secret exists."""

    def read_namespaced_secret(self, name: str, namespace: str, **_: Any) -> Any:
        raise ApiException(status=404, reason="Not Found")


class Objects:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.patches: list[dict[str, Any]] = []

    def read(self, namespace: str, name: str) -> dict[str, Any]:
        return self.body

    def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.patches.append(status)

    def alive(self, namespace: str, name: str, uid: str) -> bool:
        return True


def _body(namespace: str, dataset_group: str, status: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = {"uid": "u-1", "namespace": namespace, "name": "clicks", "generation": 1, "finalizers": [FINALIZER]}
    return {"metadata": meta, "spec": {"datasetGroupArn": dataset_group}, "status": status or {}}


def _edges(tmp_path: Path, pool: Pool, body: dict[str, Any], text: str = MAP) -> tuple[runner.Edges, Objects]:
    (tmp_path / "tenancy.yaml").write_text(text)
    source = TenancySource(tmp_path / "tenancy.yaml")
    source.poll()
    objects = Objects(body)
    edges = runner.Edges(
        settings=OperatorSettings(),
        pool=pool,  # type: ignore[arg-type]
        core=NoSecrets(),  # type: ignore[arg-type]
        objects=objects,  # type: ignore[arg-type]
        scheduler=Scheduler(concurrency=1),
        gates=Gates(),
        executor=ThreadPoolExecutor(max_workers=1),
        tenancy=source,
    )
    return edges, objects


@pytest.mark.parametrize(
    ("namespace", "dataset_group", "words"),
    [
        pytest.param("shop", "arn:aws:personalize:us-east-1:111111111111:dataset-group/a-1", "no entry", id="no-entry"),
        pytest.param("team-a", "arn:aws:personalize:us-east-1:111111111111:dataset-group/b-1", "b-1", id="not-allowed"),
    ],
)
def test_a_refused_resource_is_failed_forbidden_without_building_any_aws_client(
    tmp_path: Path, namespace: str, dataset_group: str, words: str
) -> None:
    edges, objects = _edges(tmp_path, Pool(forbid=True), _body(namespace, dataset_group))

    result = runner.live_pass(edges, namespace, "clicks", "u-1", 0)

    assert result is not None and result.outcome.decision.reason == "Forbidden"
    [patch] = objects.patches
    assert patch["phase"] == "Failed" and "roleArn" not in patch
    ready = next(c for c in patch["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "Forbidden" and words in ready["message"]
    assert [e.reason for e in result.outcome.events] == ["Forbidden"]


def test_a_refused_resource_is_released_at_once_on_deletion(tmp_path: Path) -> None:
    pool = Pool()
    body = _body("shop", "arn:aws:personalize:us-east-1:111111111111:dataset-group/a-1")
    edges, _ = _edges(tmp_path, pool, body)

    result = runner.deletion_pass(edges, "shop", "clicks", "u-1", 0)

    assert result is not None and result.outcome.release and result.outcome.decision.reason == "NeverCreated"


@pytest.mark.parametrize(
    ("namespace", "status", "text", "role", "external_id"),
    [
        pytest.param(
            "team-a",
            {"eventTrackerArn": "arn:aws:personalize:us-east-1:111111111111:event-tracker/x", "roleArn": ROLE_A},
            MAP,
            ROLE_A,
            "team-a-7f3c",
            id="entry-of-the-account",
        ),
        pytest.param(
            "team-b",
            {"eventTrackerArn": "arn:aws:personalize:us-east-1:222222222222:event-tracker/x", "roleArn": ROLE_B},
            MAP,
            ROLE_B,
            None,
            id="lost-its-entry-uses-the-role-that-created-it",
        ),
        pytest.param(
            "team-a",
            {"createRequested": True, "roleArn": ROLE_A},
            "tenants: []\n",
            ROLE_A,
            "team-a-7f3c",
            id="map-emptied-external-id-remembered",
        ),
        pytest.param("team-a", {"createRequested": True}, "tenants: []\n", None, None, id="own-identity-made-it"),
    ],
)
def test_deletion_uses_the_identity_that_holds_the_tracker(
    tmp_path: Path, namespace: str, status: dict[str, Any], text: str, role: str | None, external_id: str | None
) -> None:
    pool = Pool()
    body = _body(namespace, "arn:aws:personalize:us-east-1:111111111111:dataset-group/a-1", status)
    edges, _ = _edges(tmp_path, pool, body)
    if text != MAP:
        (tmp_path / "tenancy.yaml").write_text(text)
        edges.tenancy.poll()  # type: ignore[union-attr]

    with pytest.raises(AssertionError, match="no AWS call expected"):
        runner.deletion_pass(edges, namespace, "clicks", "u-1", 0)

    identity = pool.identities[0]
    assert (identity.role_arn if identity else None) == role
    assert (identity.external_id if identity else None) == external_id
    if identity:
        assert identity.session_name == f"personalize-operator@{namespace}"


class SeesNothing:
    """A Personalize client under a role of another account: the recorded tracker is not found there."""

    def describe(self, arn: str, *, with_tags: bool = False) -> None:
        return None

    def find_in_dataset_group(self, dataset_group_arn: str) -> list[Any]:
        from personalize_operator.aws.errors import NotFound

        raise NotFound("ResourceNotFoundException", "not found", "ListEventTrackers")

    def create(self, **_: Any) -> str:
        from personalize_operator.aws.errors import NotFound

        raise NotFound("ResourceNotFoundException", "dataset group not found", "CreateEventTracker")


def test_a_role_that_cannot_see_the_tracker_does_not_replace_the_recorded_one(tmp_path: Path) -> None:
    moved = MAP.replace("111111111111:role", "222222222222:role").replace(":111111111111:dataset", ":*:dataset")
    arn = "arn:aws:personalize:us-east-1:111111111111:event-tracker/x"
    body = _body(
        "team-a",
        "arn:aws:personalize:us-east-1:111111111111:dataset-group/a-1",
        {"eventTrackerArn": arn, "roleArn": ROLE_A, "phase": "Active", "createRequested": True},
    )

    class Blind(Pool):
        def for_region(self, region: str, *, once: bool = False, identity: Identity | None = None) -> Any:
            self.identities.append(identity)
            return SeesNothing()

    pool = Blind()
    edges, objects = _edges(tmp_path, pool, body, moved)
    runner.live_pass(edges, "team-a", "clicks", "u-1", 0)

    assert pool.identities[0] is not None and pool.identities[0].role_arn.startswith("arn:aws:iam::222222222222:")
    assert "roleArn" not in objects.patches[-1]
