"""`personalize-operator doctor` against a real API server and the emulator: it passes, and names what is broken.

Runs on a control plane of its own, because removing the CRD would take every
other test's EventTrackers with it, and on an emulator of its own, because
refusing the credentials would stop the shared operator. (So these tests start
the local control plane even when PERSONALIZE_TEST_KUBECONFIG names a cluster.)
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config

from local_cluster.cluster import ControlPlane, ControlPlaneError
from local_cluster.processes import free_port
from personalize_emulator.testing import Emulator, running_emulator
from personalize_operator.api import crd, crd_freshness
from personalize_operator.kube import crd_check
from personalize_operator.tools import exits
from support.cli import personalize_operator
from support.kube import CRD_NAME, install_crd
from support.operator_process import OperatorProcess
from support.shipped_policies import team_role_policy
from support.trackers import REPO, kubectl
from support.wait import wait_for

CHECKS = ("kubeconfig", "CRD", "AWS identity", "ListEventTrackers in us-east-1", "AWS permissions")
RBAC_CHECKS = (
    "RBAC eventtrackers.personalize.operators.dev",
    "RBAC eventtrackers/status.personalize.operators.dev",
    "RBAC events",
    "RBAC secrets",
    "RBAC configmaps",
)


PORT_RACE = "address already in use"


def _start_plane(tmp_path_factory: pytest.TempPathFactory, attempts: int = 3) -> ControlPlane:
    """A started control plane; a port taken between free_port() and bind (other processes) is tried again."""
    for attempt in range(1, attempts + 1):
        plane = ControlPlane(workdir=tmp_path_factory.mktemp("doctor-plane"))
        try:
            plane.start()
        except ControlPlaneError:
            logs = " ".join(log.read_text(errors="replace") for log in plane.log_dir.glob("*.log"))
            if PORT_RACE not in logs or attempt == attempts:
                raise
            continue
        return plane
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    plane = _start_plane(tmp_path_factory)
    try:
        yield plane.kubeconfig
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def own_emulator() -> Iterator[Emulator]:
    with running_emulator(transition_delay=0) as emulator:
        yield emulator


@pytest.fixture
def installed(own_cluster: Path, own_emulator: Emulator) -> Path:
    """The CRD as this operator renders it, and credentials the emulator accepts."""
    install_crd(own_cluster, REPO / "crds")
    own_emulator.admin.accept_all_credentials()
    return own_cluster


def doctor(kubeconfig: Path, emulator: Emulator, *args: str) -> tuple[int, dict[str, dict[str, object]], str]:
    env = {
        **emulator.env(),
        "KUBECONFIG": str(kubeconfig),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = personalize_operator("doctor", "--region", "us-east-1", "-o", "json", *args, env=env)
    checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
    text = personalize_operator("doctor", "--region", "us-east-1", *args, env=env).stdout
    return done.returncode, checks, text


def test_doctor_passes_with_the_crd_installed_and_the_emulator_reachable(
    installed: Path, own_emulator: Emulator
) -> None:
    code, checks, text = doctor(installed, own_emulator)
    assert code == exits.OK, text
    assert tuple(checks) == CHECKS + RBAC_CHECKS
    assert all(check["ok"] for check in checks.values())
    assert "identical to what this operator renders" in checks["CRD"]["detail"]
    assert "account 123456789012" in checks["AWS identity"]["detail"]
    assert text.splitlines()[-1] == f"{len(checks)} of {len(checks)} checks passed"


def test_doctor_fails_naming_the_crd_when_it_is_removed(installed: Path, own_emulator: Emulator) -> None:
    kubectl(installed, "delete", "crd", CRD_NAME, "--wait=true")

    code, checks, text = doctor(installed, own_emulator)

    assert code == exits.REFUSED
    assert [name for name, check in checks.items() if not check["ok"]] == ["CRD"]
    assert f"FAIL CRD: CustomResourceDefinition {CRD_NAME} is not installed" in text


def test_doctor_names_the_schema_drift_of_an_older_crd(installed: Path, own_emulator: Emulator) -> None:
    older = copy.deepcopy(crd.render_crd())
    spec_schema = older["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_schema["properties"]["tags"]["maxItems"] = 50
    kubectl(installed, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=yaml.safe_dump(older))

    code, checks, _ = doctor(installed, own_emulator)

    assert code == exits.REFUSED
    assert not checks["CRD"]["ok"]
    assert "openAPIV3Schema.properties.spec.properties.tags.maxItems: cluster has 50" in str(checks["CRD"]["detail"])


def served_description(kubeconfig: Path) -> str | None:
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        return crd_check.served_description(api)


def outdated_events(kubeconfig: Path) -> list[dict[str, Any]]:
    events = json.loads(kubectl(kubeconfig, "get", "events", "-n", "default", "-o", "json").stdout)["items"]
    return [e for e in events if e["reason"] == "CRDOutdated" and e["involvedObject"]["name"] == CRD_NAME]


def unstamped_crd() -> dict[str, object]:
    """The CRD as a release before 0.2.0 installed it: no stamp, in annotations or description (v1beta1 kept)."""
    older = copy.deepcopy(crd.render_crd())
    del older["metadata"]["annotations"]
    for version in older["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        schema["description"] = schema["description"].rsplit("\n\n", 1)[0]
    return older


def test_doctor_says_a_crd_without_a_stamp_predates_this_operator(installed: Path, own_emulator: Emulator) -> None:
    kubectl(installed, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=yaml.safe_dump(unstamped_crd()))

    code, checks, _ = doctor(installed, own_emulator)

    assert code == exits.REFUSED
    assert not checks["CRD"]["ok"]
    assert f"CRD {CRD_NAME} carries no schema stamp: it predates this operator" in str(checks["CRD"]["detail"])


def test_the_operator_says_at_start_up_that_the_served_crd_is_older(
    installed: Path, own_emulator: Emulator, tmp_path: Path
) -> None:
    """A log line, a Warning Event on the CRD and the metric; the operator runs on all the same."""
    kubectl(installed, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=yaml.safe_dump(unstamped_crd()))
    message = f"CRD {CRD_NAME} carries no schema stamp: it predates this operator"
    # The API server republishes its OpenAPI document shortly after a CRD changes.
    wait_for(
        lambda: crd_freshness.from_description(served_description(installed)) is None,
        timeout=30,
        what="the unstamped schema published",
    )
    operator = OperatorProcess(installed, own_emulator.endpoint, tmp_path / "operator.log", metrics_port=free_port())
    operator.start()
    try:
        wait_for(lambda: message in operator.output(), timeout=30, what="the outdated-CRD log line")
        assert operator.metric("personalize_operator_crd_outdated") == 1.0
        ours = wait_for(lambda: outdated_events(installed), timeout=30, what="the CRDOutdated Event (after the log)")
        assert ours[0]["type"] == "Warning" and message in ours[0]["message"]
    finally:
        operator.stop()

    install_crd(installed, REPO / "crds")
    wait_for(
        lambda: crd_freshness.from_description(served_description(installed)) == crd.stamp(),
        timeout=30,
        what="the stamped schema published",
    )
    current = OperatorProcess(installed, own_emulator.endpoint, tmp_path / "current.log", metrics_port=free_port())
    current.start()
    try:
        wait_for(lambda: f"CRD {CRD_NAME} is the one of operator" in current.output(), timeout=30, what="current")
        assert current.metric("personalize_operator_crd_outdated") == 0.0
    finally:
        current.stop()


def test_doctor_fails_naming_the_aws_identity_when_credentials_are_refused(
    installed: Path, own_emulator: Emulator
) -> None:
    own_emulator.admin.refuse_credentials(["test"])

    code, checks, text = doctor(installed, own_emulator)

    assert code == exits.REFUSED
    assert [name for name, check in checks.items() if not check["ok"]] == [
        "AWS identity",
        "ListEventTrackers in us-east-1",
        "AWS permissions",
    ]
    assert "FAIL AWS identity: AWS credentials refused by STS GetCallerIdentity (InvalidClientTokenId" in text
    assert "UnrecognizedClientException" in str(checks["ListEventTrackers in us-east-1"]["detail"])


def test_doctor_fails_naming_each_rule_a_service_account_without_bindings_lacks(
    installed: Path, own_emulator: Emulator
) -> None:
    code, checks, _ = doctor(installed, own_emulator, "--service-account", "default/nobody", "-n", "default")

    assert code == exits.REFUSED
    assert [name for name, check in checks.items() if not check["ok"]] == list(RBAC_CHECKS)
    assert "ServiceAccount default/nobody may not get, create, update, delete in default" in str(
        checks["RBAC secrets"]["detail"]
    )


def test_doctor_checks_list_and_watch_on_secrets_with_the_secret_watch(installed: Path, own_emulator: Emulator) -> None:
    code, checks, _ = doctor(installed, own_emulator, "--secret-watch")

    assert code == exits.OK
    assert checks["RBAC secrets (secret watch)"]["ok"]
    assert "may list, watch" in str(checks["RBAC secrets (secret watch)"]["detail"])


def test_doctor_simulates_each_tenancy_role_and_names_what_a_role_lacks(
    installed: Path, own_emulator: Emulator, tmp_path: Path
) -> None:
    team_a, team_b = "arn:aws:iam::111111111111:role/team-a", "arn:aws:iam::222222222222:role/team-b"
    lacking = team_role_policy("222222222222")
    for statement in lacking["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "personalize:DeleteEventTracker"]
    own_emulator.admin.attach_policies([team_role_policy("111111111111")], role_arn=team_a)
    own_emulator.admin.attach_policies([lacking], role_arn=team_b)
    tenancy = tmp_path / "tenancy.yaml"
    tenancy.write_text(
        yaml.safe_dump(
            {
                "tenants": [
                    {
                        "namespaces": ["a"],
                        "roleArn": team_a,
                        "datasetGroups": ["arn:aws:personalize:*:*:dataset-group/*"],
                    },
                    {
                        "namespaces": ["b"],
                        "roleArn": team_b,
                        "datasetGroups": ["arn:aws:personalize:*:*:dataset-group/*"],
                    },
                ]
            }
        )
    )
    try:
        code, checks, text = doctor(installed, own_emulator, "--tenancy-file", str(tenancy))
    finally:
        own_emulator.admin.reset()

    assert code == exits.REFUSED
    assert [name for name, check in checks.items() if not check["ok"]] == [f"AWS permissions {team_b}"]
    assert checks[f"AWS permissions {team_a}"]["ok"]
    assert (
        f"{team_b} is denied personalize:DeleteEventTracker on "
        "arn:aws:personalize:us-east-1:222222222222:event-tracker/personalize-operator-doctor (implicitDeny)"
    ) in text
