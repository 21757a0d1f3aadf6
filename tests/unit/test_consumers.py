"""How applications consume the tracker (issue 27): the Secret's key names, labels and annotations, the facts
ConfigMap, and rollout restarts after a trackingId change. Pure functions as tables, then the reconciler
driven through in-memory fakes of its edges."""

from __future__ import annotations

import base64
import re
from dataclasses import replace

import pydantic
import pytest

from personalize_operator.api import model
from personalize_operator.api.names import DATA_HASH_ANNOTATION, RestartResult
from personalize_operator.kube import configmaps, secrets
from personalize_operator.kube.workloads import restart_patch
from personalize_operator.reconciler import inputs, rollout
from personalize_operator.reconciler.decide import Decision, Phase, Recorded, Step
from personalize_operator.reconciler.reconcile import Context, reconcile
from personalize_operator.reconciler.status import render
from support.builders import desired
from support.fakes import FakeConfigMaps, FakeOwners, FakeSecrets, FakeTrackers, FakeWorkloads

DG = "arn:aws:personalize:us-west-2:123456789012:dataset-group/shop"
OWNER = secrets.Owner(namespace="shop", name="storefront", uid="0b0c6f1e-1111-2222-3333-444455556666")
DEPLOY = ("Deployment", "web")
WORKER = ("StatefulSet", "worker")
ACTIVE = Decision(Step.SYNC, Phase.ACTIVE, "Active", "event tracker storefront is ACTIVE")


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def spec(**fields: object) -> dict[str, object]:
    return {"datasetGroupArn": DG, **fields}


# --- the spec: what apply time refuses (the CRD's CEL rules say the same, tests/e2e/test_consumers.py) -----


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"secretKeys": {"trackingId": "A", "eventTrackerArn": "A"}}, model.SECRET_KEYS_NOT_DISTINCT),
        ({"secretKeys": {"trackingId": "eventTrackerArn"}}, model.SECRET_KEYS_NOT_DISTINCT),
        ({"secretKeys": {"trackingId": "has space"}}, "must match"),
        ({"secretKeys": {"trackingId": ".."}}, model.SECRET_KEY_DOTS),
        ({"secretKeys": {"trackingId": "k" * 254}}, "at most 253"),
        ({"secretLabels": {"app.kubernetes.io/managed-by": "me"}}, model.RESERVED_SECRET_LABEL),
        ({"secretLabels": {"personalize.operators.dev/owner-uid": "x"}}, model.RESERVED_SECRET_LABEL),
        ({"secretLabels": {"team": "not a label value"}}, "must match"),
        ({"secretLabels": {"bad key!": "x"}}, model.NOT_A_LABEL_KEY),
        ({"secretAnnotations": {"personalize.operators.dev/data-hash": "x"}}, model.RESERVED_SECRET_ANNOTATION),
        ({"rolloutRestartTargets": [{"kind": "Pod", "name": "web"}]}, "Deployment"),
        ({"configMapName": "Not_A_Name"}, "must match"),
    ],
)
def test_a_spec_the_crd_refuses_is_refused_by_the_model_too(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=re.escape(problem)):
        model.EventTrackerSpec.model_validate(spec(**fields))


def test_the_parsed_spec_reaches_the_reconciler() -> None:
    body = {
        "metadata": {"name": "storefront", "namespace": "shop", "uid": OWNER.uid, "generation": 2},
        "spec": spec(
            secretKeys={"trackingId": "PERSONALIZE_TRACKING_ID"},
            secretLabels={"team": "growth"},
            secretAnnotations={"reloader.stakater.com/match": "true"},
            configMapName="storefront-tracker",
            rolloutRestartTargets=[{"kind": "Deployment", "name": "web"}],
        ),
    }
    parsed = inputs.desired_from(body)
    assert parsed.secret_keys == ("PERSONALIZE_TRACKING_ID", "eventTrackerArn")
    assert parsed.secret_labels == {"team": "growth"}
    assert parsed.secret_annotations == {"reloader.stakater.com/match": "true"}
    assert (parsed.config_map_name, parsed.restart_targets) == ("storefront-tracker", (DEPLOY,))
    status = {"configMapName": "old", "pendingRestarts": [{"kind": "Deployment", "name": "web"}]}
    recorded = inputs.recorded_from({**body, "status": status})
    assert (recorded.config_map_name, recorded.pending_restarts) == ("old", (DEPLOY,))


# --- the Secret and the ConfigMap as rendered -----------------------------------------------------------


def test_the_secret_holds_the_two_values_under_the_specs_keys_and_ours_win_over_the_users_metadata() -> None:
    shape = secrets.Shape(
        "PERSONALIZE_TRACKING_ID", "PERSONALIZE_EVENT_TRACKER_ARN", labels={"team": "growth"}, annotations={"a": "b"}
    )
    body = secrets.render(OWNER, "s", "tid", "arn:t", shape)
    assert body["data"] == {"PERSONALIZE_TRACKING_ID": b64("tid"), "PERSONALIZE_EVENT_TRACKER_ARN": b64("arn:t")}
    meta = body["metadata"]
    assert meta["labels"]["team"] == "growth" and meta["labels"]["app.kubernetes.io/managed-by"]
    assert meta["annotations"] == {"a": "b", DATA_HASH_ANNOTATION: secrets.data_hash(body["data"])}


def test_a_renamed_key_replaces_the_data_whole() -> None:
    before = secrets.render(OWNER, "s", "tid", "arn:t")
    existing = pydantic_free_secret(before)
    after = secrets.render(OWNER, "s", "tid", "arn:t", secrets.Shape("PERSONALIZE_TRACKING_ID"))
    updated = secrets.merged(existing, after)
    assert set(updated.data) == {"PERSONALIZE_TRACKING_ID", "eventTrackerArn"}
    assert updated.metadata.annotations[DATA_HASH_ANNOTATION] == secrets.data_hash(updated.data)


def pydantic_free_secret(body: dict[str, object]) -> object:
    from kubernetes.client import V1ObjectMeta, V1Secret

    meta = body["metadata"]
    assert isinstance(meta, dict)
    return V1Secret(
        metadata=V1ObjectMeta(labels=dict(meta["labels"]), annotations=dict(meta["annotations"])),
        data=dict(body["data"]),  # type: ignore[arg-type]
    )


def test_the_config_map_holds_the_five_facts_and_never_the_tracking_id() -> None:
    facts = configmaps.Facts("arn:t", "storefront", DG, "us-west-2", "123456789012")
    body = configmaps.render(OWNER, "storefront-tracker", facts)
    assert body["data"] == {
        "eventTrackerArn": "arn:t",
        "name": "storefront",
        "datasetGroupArn": DG,
        "region": "us-west-2",
        "accountId": "123456789012",
    }
    assert body["metadata"]["ownerReferences"][0]["controller"] is True
    assert body["metadata"]["annotations"][DATA_HASH_ANNOTATION] == secrets.data_hash(body["data"])


# --- when has the trackingId changed? ---------------------------------------------------------------------


def intact(data: dict[str, str]) -> dict[str, str]:
    return {DATA_HASH_ANNOTATION: secrets.data_hash(data)}


OLD = {"trackingId": b64("old"), "eventTrackerArn": b64("arn:t")}
RENAMED = {"PERSONALIZE_TRACKING_ID": b64("new"), "eventTrackerArn": b64("arn:t")}


@pytest.mark.parametrize(
    ("data", "annotations", "new", "replaced"),
    [
        pytest.param(None, None, "new", False, id="first-write"),
        pytest.param(OLD, intact(OLD), "old", False, id="same-value"),
        pytest.param(OLD, intact(OLD), "new", True, id="tracker-recreated"),
        pytest.param(RENAMED, intact(RENAMED), "new", False, id="key-renamed-same-value"),
        pytest.param(OLD, {}, "new", False, id="edited-by-someone-healed"),
        pytest.param({**OLD, "trackingId": b64("typo")}, intact(OLD), "old", False, id="data-edited"),
    ],
)
def test_the_tracking_id_is_replaced_only_over_an_intact_other_value(
    data: dict[str, str] | None, annotations: dict[str, str] | None, new: str, replaced: bool
) -> None:
    assert secrets.tracking_id_replaced(data, annotations, new) is replaced


# --- rollout decisions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replaced", "targets", "pending", "expected"),
    [
        (False, (DEPLOY, WORKER), (), []),
        (True, (DEPLOY, WORKER), (), [DEPLOY, WORKER]),
        (True, (DEPLOY,), (WORKER,), [DEPLOY]),  # pending but no longer listed: dropped
        (False, (DEPLOY, WORKER), (WORKER,), [WORKER]),
        (False, (), (WORKER,), []),
    ],
)
def test_which_workloads_a_pass_restarts(replaced: bool, targets: tuple, pending: tuple, expected: list) -> None:
    assert rollout.to_restart(replaced, targets, pending) == expected


@pytest.mark.parametrize(
    ("result", "event", "pending"),
    [
        (RestartResult.RESTARTED, ("Normal", "RolloutRestarted"), []),
        (RestartResult.MISSING, ("Warning", "RolloutRestartTargetNotFound"), []),
        (RestartResult.FORBIDDEN, ("Warning", "RolloutRestartForbidden"), [DEPLOY]),
        ("restarting Deployment web failed: 500", ("Warning", "RolloutRestartFailed"), [DEPLOY]),
    ],
)
def test_each_restart_result_gives_one_event_and_keeps_what_is_owed(
    result: RestartResult | str, event: tuple[str, str], pending: list
) -> None:
    results = {DEPLOY: result}
    [posted] = rollout.restart_events("storefront-tracking", results)
    assert (posted.type, posted.reason) == event
    assert rollout.still_pending(results) == pending


def test_a_forbidden_restart_keeps_the_resource_active_and_says_so_in_ready_and_synced() -> None:
    decision = rollout.decide_after_restarts(ACTIVE, {DEPLOY: RestartResult.FORBIDDEN}, [DEPLOY])
    assert decision.phase == Phase.ACTIVE and not decision.synced and decision.pending_restarts == (DEPLOY,)
    assert "restarting Deployment/web was forbidden" in decision.message
    status = render(desired(), Recorded(), decision, None, [], "2026-12-03T09:00:00Z")
    by_type = {c["type"]: c for c in status["conditions"]}
    ready, synced = by_type["Ready"], by_type["Synced"]
    assert (ready["type"], ready["status"]) == ("Ready", "True")
    assert (synced["type"], synced["status"]) == ("Synced", "False")
    assert "forbidden" in ready["message"] and "forbidden" in synced["message"]
    assert status["pendingRestarts"] == [{"kind": "Deployment", "name": "web"}]


def test_nothing_owed_clears_pending_and_other_decisions_are_left_alone() -> None:
    assert rollout.decide_after_restarts(ACTIVE, {}, []).pending_restarts == ()
    waiting = Decision(Step.WAIT, Phase.CREATING, "Creating", "x")
    assert rollout.decide_after_restarts(waiting, {DEPLOY: RestartResult.FORBIDDEN}, [DEPLOY]) is waiting


def test_the_restart_patch_is_kubectls() -> None:
    assert restart_patch("2026-12-03T09:00:00Z") == {
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-03T09:00:00Z"}}}
        }
    }


# --- through the reconciler ------------------------------------------------------------------------------


def world_context(
    aws: FakeTrackers,
    secrets_: FakeSecrets,
    workloads: FakeWorkloads,
    config_maps: FakeConfigMaps,
    recorded: Recorded,
    **wanted: object,
) -> Context:
    return Context(
        aws=aws,
        secrets=secrets_,
        owners=FakeOwners(),
        desired=replace(desired(), **wanted),  # type: ignore[arg-type]
        recorded=recorded,
        previous_conditions=[],
        now=lambda: "2026-12-03T09:00:00Z",
        config_maps=config_maps,
        workloads=workloads,
    )


class TestThroughTheReconciler:
    def setup_method(self) -> None:
        self.aws = FakeTrackers()
        self.secrets = FakeSecrets()
        self.workloads = FakeWorkloads(existing={DEPLOY})
        self.config_maps = FakeConfigMaps()

    def pass_(self, recorded: Recorded, **wanted: object):  # type: ignore[no-untyped-def]
        ctx = world_context(self.aws, self.secrets, self.workloads, self.config_maps, recorded, **wanted)
        return reconcile(ctx)

    def active(self) -> tuple[str, Recorded]:
        tracker = self.aws.add("ACTIVE", {"personalize.operators.dev/uid": "uid-1"})
        return tracker.tracking_id, Recorded(arn=tracker.arn, phase="Active", reason="Active")

    def test_the_first_write_restarts_nothing_and_writes_the_config_map(self) -> None:
        _, recorded = self.active()
        outcome = self.pass_(recorded, restart_targets=(DEPLOY,), config_map_name="facts")
        assert self.workloads.restarts == []
        assert self.config_maps.written["facts"].region == desired().region
        assert "ConfigMapWritten" in [e.reason for e in outcome.events]
        assert outcome.status["configMapName"] == "facts"

    def test_a_new_tracking_id_restarts_each_listed_workload_once_and_a_missing_one_is_an_event(self) -> None:
        _, recorded = self.active()
        self.secrets.written["storefront-tracking"] = "an-older-tracking-id"
        targets = (DEPLOY, ("Deployment", "gone"))
        outcome = self.pass_(recorded, restart_targets=targets)
        assert self.workloads.restarts == [DEPLOY]
        reasons = [e.reason for e in outcome.events]
        assert reasons.count("RolloutRestarted") == 1 and reasons.count("RolloutRestartTargetNotFound") == 1
        assert outcome.decision.phase == Phase.ACTIVE and outcome.decision.synced
        self.pass_(recorded, restart_targets=targets)
        assert self.workloads.restarts == [DEPLOY]  # once per change

    def test_forbidden_stays_active_is_retried_and_done_once_allowed(self) -> None:
        _, recorded = self.active()
        self.secrets.written["storefront-tracking"] = "an-older-tracking-id"
        self.workloads.forbidden = True
        outcome = self.pass_(recorded, restart_targets=(DEPLOY,))
        assert outcome.decision.phase == Phase.ACTIVE and outcome.decision.reason == "RolloutRestartForbidden"
        assert "RolloutRestartForbidden" in [e.reason for e in outcome.events]
        self.workloads.forbidden = False
        later = replace(recorded, pending_restarts=(DEPLOY,))
        again = self.pass_(later, restart_targets=(DEPLOY,))
        assert self.workloads.restarts == [DEPLOY] and again.status["pendingRestarts"] is None

    def test_a_renamed_config_map_replaces_the_old_one(self) -> None:
        _, recorded = self.active()
        self.config_maps.written["old"] = configmaps.Facts("a", "b", "c", "d", "e")
        self.pass_(replace(recorded, config_map_name="old"), config_map_name="new")
        assert set(self.config_maps.written) == {"new"}
