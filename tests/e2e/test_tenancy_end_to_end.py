"""Many teams, many accounts, one operator: the tenancy map and cross-account roles, end to end.

Each test runs its own emulator and operator over three `solo-*` namespaces
(team a, team b, and one the map does not name), with a tenancy file the test
writes and edits while the operator runs. Team a's role is in account
111111111111, team b's in 222222222222; the operator's own key acts in the
emulator's default account, so a tracker made under the wrong identity would
land (or not be found) in the wrong account. Each team role carries the
docs' team role policy, the operator's key docs/iam-policy.json: the emulator
authorizes every call with them as IAM would.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from personalize_emulator.testing import Emulator, running_emulator
from personalize_operator.tools.permissions import OPERATOR_ACTIONS
from support.kube import create_namespace, delete_namespace
from support.operator_process import OperatorProcess
from support.shipped_policies import OPERATOR_POLICY_AT_START, team_role_policy
from support.trackers import Trackers, manifest
from support.wait import GiveUp, wait_for

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/personalize-team-a"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/personalize-team-b"
CREDENTIAL_SECONDS = 4.0  # AssumeRole credentials expire this fast in these tests (botocore refreshes first)
PERSONALIZE_OPERATIONS = tuple(action.operation for action in OPERATOR_ACTIONS)


@dataclass
class Fleet:
    emulator: Emulator
    operator: OperatorProcess
    map_file: Path
    team_a: Trackers
    team_b: Trackers
    stranger: Trackers

    def write_map(self, tenants: list[dict[str, Any]]) -> None:
        """Replace the file the way a ConfigMap mount does: a new file, then an atomic symlink swap."""
        version = self.map_file.parent / f"..{uuid.uuid4().hex[:8]}.yaml"
        version.write_text(yaml.safe_dump({"tenants": tenants}))
        link = self.map_file.parent / "..swap"
        link.unlink(missing_ok=True)
        link.symlink_to(version.name)
        os.replace(link, self.map_file)

    def dataset_group(self, role_arn: str, name: str) -> str:
        """A dataset group in the role's account, made by a set-up role there (the team role may not make one)."""
        account = role_arn.split(":")[4]
        personalize = self.emulator.assumed_client(f"arn:aws:iam::{account}:role/test-set-up")
        arn = str(personalize.create_dataset_group(name=name)["datasetGroupArn"])
        wait_for(
            lambda: personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE",
            timeout=30,
            what=f"dataset group {arn} ACTIVE",
        )
        return arn

    def operator_sessions(self, role_arn: str) -> list[dict[str, Any]]:
        """AssumeRole answers the operator got for `role_arn` (the test's own set-up sessions left out)."""
        return [
            s
            for s in self.emulator.admin.sessions()
            if s["roleArn"] == role_arn and s["roleSessionName"].startswith("personalize-operator@")
        ]

    def personalize_calls(self) -> int:
        calls = self.emulator.admin.calls()
        return sum(calls.get(operation, 0) for operation in PERSONALIZE_OPERATIONS)


def team_a_entry(namespace: str) -> dict[str, Any]:
    return {
        "namespaces": [namespace],
        "roleArn": ROLE_A,
        "externalId": "team-a-external-id",
        "datasetGroups": [f"arn:aws:personalize:*:{ACCOUNT_A}:dataset-group/a-*"],
    }


def team_b_entry(namespace: str) -> dict[str, Any]:
    return {
        "namespaces": [namespace],
        "roleArn": ROLE_B,
        "datasetGroups": [f"arn:aws:personalize:*:{ACCOUNT_B}:dataset-group/b-*"],
    }


@pytest.fixture
def fleet(
    kubeconfig: Path, custom: client.CustomObjectsApi, core: client.CoreV1Api, crd: str, tmp_path: Path
) -> Iterator[Fleet]:
    stem = f"solo-{uuid.uuid4().hex[:6]}"
    names = [f"{stem}-team-a", f"{stem}-team-b", f"{stem}-stranger"]
    for name in names:
        create_namespace(core, name)
    mount = tmp_path / "tenancy"
    mount.mkdir()
    with running_emulator(
        transition_delay=0.5, credential_duration=CREDENTIAL_SECONDS, iam_policy_files=OPERATOR_POLICY_AT_START
    ) as emulator:
        # The docs' team role policy on each team's role, in that team's account (docs/iam.md, "A team's role").
        emulator.admin.attach_policies([team_role_policy(ACCOUNT_A)], role_arn=ROLE_A)
        emulator.admin.attach_policies([team_role_policy(ACCOUNT_B)], role_arn=ROLE_B)
        box = Fleet(
            emulator=emulator,
            operator=OperatorProcess(
                kubeconfig=kubeconfig, endpoint=emulator.endpoint, log=tmp_path / "operator.log", namespaces=names
            ),
            map_file=mount / "tenancy.yaml",
            team_a=Trackers(custom=custom, core=core, namespace=names[0]),
            team_b=Trackers(custom=custom, core=core, namespace=names[1]),
            stranger=Trackers(custom=custom, core=core, namespace=names[2]),
        )
        box.write_map([team_a_entry(names[0])])
        box.operator.extra_env = {
            "PERSONALIZE_OPERATOR_TENANCY_FILE": str(box.map_file),
            "PERSONALIZE_OPERATOR_TENANCY_POLL_SECONDS": "1",
        }
        box.operator.start()
        try:
            yield box
        finally:
            for trackers in (box.team_a, box.team_b, box.stranger):
                _delete_all(trackers)
            box.operator.stop()
            for name in names:
                delete_namespace(core, name)


def _delete_all(trackers: Trackers) -> None:
    from support.trackers import GROUP, PLURAL, VERSION

    items = trackers.custom.list_namespaced_custom_object(GROUP, VERSION, trackers.namespace, PLURAL)["items"]
    for item in items:
        trackers.delete(item["metadata"]["name"])
    for item in items:
        trackers.wait_gone(item["metadata"]["name"], timeout=60)


def test_a_team_mapped_to_a_role_gets_its_tracker_in_the_roles_account(fleet: Fleet) -> None:
    group = fleet.dataset_group(ROLE_A, f"a-{uuid.uuid4().hex[:6]}")
    fleet.team_a.create(manifest("clicks", group))

    status = fleet.team_a.wait_phase("clicks", "Active", timeout=60)

    assert f":{ACCOUNT_A}:event-tracker/" in status["eventTrackerArn"]
    assert status["accountId"] == ACCOUNT_A
    assert status["roleArn"] == ROLE_A
    remote = fleet.emulator.admin.tracker(arn=status["eventTrackerArn"])
    assert remote is not None and remote["accountId"] == ACCOUNT_A
    sessions = fleet.operator_sessions(ROLE_A)
    assert sessions, "the emulator saw no AssumeRole by the operator for team a's role"
    assert {s["roleSessionName"] for s in sessions} == {f"personalize-operator@{fleet.team_a.namespace}"}
    assert {s["externalId"] for s in sessions} == {"team-a-external-id"}


def test_a_dataset_group_outside_the_entry_and_a_namespace_without_one_are_forbidden_without_aws_calls(
    fleet: Fleet,
) -> None:
    foreign_group = fleet.dataset_group(ROLE_A, "b-1")  # in team a's account, but not a-*
    fleet.emulator.admin.reset_calls()

    fleet.team_a.create(manifest("other-team", foreign_group))
    fleet.stranger.create(manifest("unmapped", foreign_group))

    refused = fleet.team_a.wait_phase("other-team", "Failed", reason="Forbidden", timeout=30)
    unmapped = fleet.stranger.wait_phase("unmapped", "Failed", reason="Forbidden", timeout=30)
    assert "dataset-group/b-1" in _ready(refused)["message"]
    assert "a-*" in _ready(refused)["message"]
    assert "has no entry" in _ready(unmapped)["message"]
    assert fleet.personalize_calls() == 0
    assert "AssumeRole" not in fleet.emulator.admin.calls()
    reasons = {reason for _, reason, _ in fleet.team_a.events("other-team")}
    assert "Forbidden" in reasons


def test_expired_role_credentials_are_refreshed_without_a_restart(fleet: Fleet) -> None:
    group = fleet.dataset_group(ROLE_A, f"a-{uuid.uuid4().hex[:6]}")
    fleet.team_a.create(manifest("clicks", group))
    status = fleet.team_a.wait_phase("clicks", "Active", timeout=60)
    before = fleet.operator_sessions(ROLE_A)
    pid = fleet.operator.process.pid if fleet.operator.process else None

    expired_at = max(s["expiration"] for s in before)
    time.sleep(max(0.0, expired_at - time.time()) + 1.0)  # every credential the operator holds has expired
    fleet.team_a.patch("clicks", {"spec": {"tags": [{"tagKey": "team", "tagValue": "growth"}]}})

    wait_for(
        lambda: (
            (fleet.emulator.admin.tracker(arn=status["eventTrackerArn"]) or {}).get("tags", {}).get("team") == "growth"
        ),
        timeout=30,
        what="the tag edit made after expiry applied in AWS",
    )
    after = fleet.operator_sessions(ROLE_A)
    assert any(s["issuedAt"] > expired_at for s in after), "no AssumeRole after the credentials expired"
    print(
        f"{len(after)} AssumeRole for {fleet.personalize_calls()} Personalize calls with"
        f" {CREDENTIAL_SECONDS:.0f}s credentials (botocore renews any credential within 15 min of expiry)"
    )
    assert fleet.operator.process is not None and fleet.operator.process.pid == pid
    assert "ExpiredToken" not in fleet.operator.output()
    assert fleet.team_a.wait_phase("clicks", "Active", timeout=30)["accountId"] == ACCOUNT_A


def test_a_team_added_to_the_map_while_running_gets_its_pending_resource_active(fleet: Fleet) -> None:
    group = fleet.dataset_group(ROLE_B, f"b-{uuid.uuid4().hex[:6]}")
    fleet.team_b.create(manifest("views", group))
    fleet.team_b.wait_phase("views", "Failed", reason="Forbidden", timeout=30)
    pid = fleet.operator.process.pid if fleet.operator.process else None

    fleet.write_map([team_a_entry(fleet.team_a.namespace), team_b_entry(fleet.team_b.namespace)])

    status = fleet.team_b.wait_phase("views", "Active", timeout=60)
    assert status["accountId"] == ACCOUNT_B
    assert fleet.operator.process is not None and fleet.operator.process.pid == pid


def test_a_malformed_map_keeps_the_last_good_one_and_a_namespace_that_lost_its_entry_still_deletes(
    fleet: Fleet,
) -> None:
    fleet.write_map([team_a_entry(fleet.team_a.namespace), team_b_entry(fleet.team_b.namespace)])
    group = fleet.dataset_group(ROLE_B, f"b-{uuid.uuid4().hex[:6]}")
    fleet.team_b.create(manifest("views", group))
    status = fleet.team_b.wait_phase("views", "Active", timeout=60)

    fleet.map_file.unlink()
    fleet.map_file.write_text("tenants:\n  - namespaces: [x]\n    roleArn: not-a-role\n")
    wait_for(lambda: "tenancy file refused" in fleet.operator.output(), timeout=30, what="the bad map refused")
    assert "line 3" in fleet.operator.output()

    fleet.write_map([team_a_entry(fleet.team_a.namespace)])  # team b's entry is gone
    time.sleep(3)
    fleet.team_b.delete("views")
    fleet.team_b.wait_gone("views", timeout=60)
    assert fleet.emulator.admin.tracker(arn=status["eventTrackerArn"]) is None, "team b's tracker was leaked"


def test_a_malformed_map_at_start_up_stops_the_operator_naming_the_line(
    kubeconfig: Path, crd: str, tmp_path: Path
) -> None:
    bad = tmp_path / "tenancy.yaml"
    bad.write_text("tenants:\n  - namespaces: [team-a]\n    datasetGroups: [dataset-group/a-1]\n")
    operator = OperatorProcess(
        kubeconfig=kubeconfig,
        endpoint="http://127.0.0.1:9",
        log=tmp_path / "operator.log",
        namespaces=[f"solo-{uuid.uuid4().hex[:6]}"],
        extra_env={"PERSONALIZE_OPERATOR_TENANCY_FILE": str(bad)},
    )
    try:
        with contextlib.suppress(GiveUp):  # it may exit before or after its probes first answer
            operator.start(ready=False)
        wait_for(lambda: operator.exit_code() is not None, timeout=60, what="the operator to exit")
    finally:
        operator.stop()
    assert f"{bad}: line 3: tenants.0.datasetGroups.0" in operator.output()


def _ready(status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in status.get("conditions", []) if c["type"] == "Ready")
