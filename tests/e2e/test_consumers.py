"""How applications consume the tracker (issue 27), against the real API server and the operator process.

The Secret's key names, labels and annotations as the spec says (and ours refused at apply time by the CRD's
CEL rules); the facts ConfigMap (five facts, never the trackingId), healed by its watch like the Secret. Rollout
restarts with and without the chart's grant are in tests/chart/test_chart_rollout_restart.py (they need the
chart's identity); on a real node with pods in tests/node/test_consumers.py. trackingIds are compared by hash.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from personalize_emulator.testing import Emulator
from personalize_operator.api import model, names
from personalize_operator.kube.secrets import data_hash
from support.trackers import Trackers, kubectl, manifest
from support.wait import wait_for

DG = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"
HEAL_SECONDS = 20
DISTINCT = model.SECRET_KEYS_NOT_DISTINCT
ENV_KEYS = {"trackingId": "PERSONALIZE_TRACKING_ID", "eventTrackerArn": "PERSONALIZE_EVENT_TRACKER_ARN"}


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def apply(kubeconfig: Path, namespace: str, body: dict[str, Any]) -> tuple[int, str]:
    body = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
    done = kubectl(kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(body), check=False)
    return done.returncode, done.stdout + done.stderr


REFUSED = [
    pytest.param(
        {"secretKeys": {"trackingId": "X", "eventTrackerArn": "X"}}, model.SECRET_KEYS_NOT_DISTINCT, id="same"
    ),
    pytest.param(
        {"secretKeys": {"trackingId": "eventTrackerArn"}}, model.SECRET_KEYS_NOT_DISTINCT, id="same-as-default"
    ),
    pytest.param({"secretKeys": {"trackingId": "a b"}}, "spec.secretKeys.trackingId", id="not-a-key"),
    pytest.param({"secretKeys": {"eventTrackerArn": ".."}}, model.SECRET_KEY_DOTS, id="dots"),
    pytest.param({"secretKeys": {"trackingId": "k" * 254}}, "spec.secretKeys.trackingId", id="key-over-253"),
    pytest.param({"secretLabels": {names.MANAGED_BY_LABEL: "me"}}, model.RESERVED_SECRET_LABEL, id="managed-by-label"),
    pytest.param({"secretLabels": {names.OWNER_UID_LABEL: "x"}}, model.RESERVED_SECRET_LABEL, id="owner-uid-label"),
    pytest.param({"secretLabels": {"team": "a b"}}, "spec.secretLabels", id="bad-label-value"),
    pytest.param({"secretLabels": {"a b": "x"}}, model.NOT_A_LABEL_KEY, id="bad-label-key"),
    pytest.param(
        {"secretAnnotations": {names.DATA_HASH_ANNOTATION: "x"}}, model.RESERVED_SECRET_ANNOTATION, id="data-hash"
    ),
    pytest.param({"rolloutRestartTargets": [{"kind": "Pod", "name": "web"}]}, "Unsupported value", id="pod"),
    pytest.param({"configMapName": "Not_A_Name"}, "spec.configMapName", id="bad-config-map-name"),
]


@pytest.mark.parametrize(("fields", "message"), REFUSED)
def test_a_bad_consumer_spec_is_refused_at_apply_time(
    kubeconfig: Path, crd: str, namespace: str, fields: dict[str, Any], message: str
) -> None:
    code, output = apply(kubeconfig, namespace, manifest("a", DG, **fields))
    assert code != 0, output
    assert message in output, output


def test_a_full_consumer_spec_is_accepted(kubeconfig: Path, crd: str, namespace: str) -> None:
    fields = {
        "secretKeys": ENV_KEYS,
        "secretLabels": {"team": "growth", "example.com/tier": "web"},
        "secretAnnotations": {"reloader.stakater.com/match": "true"},
        "configMapName": "a-facts",
        "rolloutRestartTargets": [{"kind": "Deployment", "name": "web"}, {"kind": "StatefulSet", "name": "web"}],
    }
    code, output = apply(kubeconfig, namespace, manifest("a", DG, **fields))
    assert code == 0, output


def decoded(trackers: Trackers, name: str) -> dict[str, str]:
    secret = trackers.secret(name)
    assert secret is not None
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


class TestTheSecretAndTheConfigMap:
    def test_keys_labels_annotations_and_facts_as_the_spec_says_and_a_rename_rewrites_the_keys(
        self, trackers: Trackers, dataset_group: str, emulator: Emulator
    ) -> None:
        trackers.create(
            manifest(
                "consumed",
                dataset_group,
                secretKeys=ENV_KEYS,
                secretLabels={"team": "growth"},
                secretAnnotations={"reloader.stakater.com/match": "true"},
                configMapName="consumed-facts",
            )
        )
        status = trackers.wait_phase("consumed", "Active", timeout=60)
        remote = emulator.admin.tracker(arn=status["eventTrackerArn"])
        assert remote is not None
        values = decoded(trackers, "consumed-tracking")
        assert set(values) == set(ENV_KEYS.values())
        assert sha256(values["PERSONALIZE_TRACKING_ID"]) == sha256(remote["trackingId"])
        assert values["PERSONALIZE_EVENT_TRACKER_ARN"] == status["eventTrackerArn"]
        secret = trackers.secret("consumed-tracking")
        assert secret is not None
        assert secret.metadata.labels["team"] == "growth"
        assert secret.metadata.labels[names.MANAGED_BY_LABEL] == names.MANAGED_BY_VALUE
        assert secret.metadata.annotations["reloader.stakater.com/match"] == "true"

        config_map = trackers.core.read_namespaced_config_map("consumed-facts", trackers.namespace)
        assert config_map.data == {
            "eventTrackerArn": status["eventTrackerArn"],
            "name": "consumed",
            "datasetGroupArn": dataset_group,
            "region": status["region"],
            "accountId": status["accountId"],
        }
        assert remote["trackingId"] not in yaml.safe_dump(config_map.to_dict())
        assert config_map.metadata.owner_references[0].uid == trackers.get("consumed")["metadata"]["uid"]
        assert status["configMapName"] == "consumed-facts"

        trackers.patch("consumed", {"spec": {"secretKeys": {"trackingId": "TRACKING_ID"}}})
        wait_for(
            lambda: set(decoded(trackers, "consumed-tracking")) == {"TRACKING_ID", "PERSONALIZE_EVENT_TRACKER_ARN"},
            timeout=30,
            what="the Secret rewritten with the new keys only",
        )
        secret = trackers.secret("consumed-tracking")
        assert secret is not None
        assert secret.metadata.annotations[names.DATA_HASH_ANNOTATION] == data_hash(secret.data)
        assert sha256(decoded(trackers, "consumed-tracking")["TRACKING_ID"]) == sha256(remote["trackingId"])

    def test_a_deleted_or_edited_config_map_heals_within_seconds(self, trackers: Trackers, dataset_group: str) -> None:
        trackers.create(manifest("facts", dataset_group, configMapName="facts-cm"))
        trackers.wait_phase("facts", "Active", timeout=60)
        core, namespace = trackers.core, trackers.namespace
        wanted = core.read_namespaced_config_map("facts-cm", namespace).data

        core.delete_namespaced_config_map("facts-cm", namespace)
        started = time.monotonic()
        wait_for(lambda: _config_map_data(trackers, "facts-cm") == wanted, timeout=HEAL_SECONDS, what="ConfigMap back")
        print(f"ConfigMap recreated {time.monotonic() - started:.1f}s after its deletion")

        core.patch_namespaced_config_map("facts-cm", namespace, {"data": {"region": "somewhere-else"}})
        started = time.monotonic()
        wait_for(
            lambda: _config_map_data(trackers, "facts-cm") == wanted, timeout=HEAL_SECONDS, what="ConfigMap repaired"
        )
        print(f"ConfigMap repaired {time.monotonic() - started:.1f}s after the edit")

        trackers.patch("facts", {"spec": {"configMapName": None}})
        wait_for(lambda: _config_map_data(trackers, "facts-cm") is None, timeout=30, what="ConfigMap removed")


def _config_map_data(trackers: Trackers, name: str) -> dict[str, str] | None:
    from kubernetes.client.rest import ApiException

    try:
        return trackers.core.read_namespaced_config_map(name, trackers.namespace).data
    except ApiException as error:
        if error.status == 404:
            return None
        raise
