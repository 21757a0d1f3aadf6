"""The operator's ClientPool against the emulator: one client per identity and region, botocore refreshing."""

from __future__ import annotations

import time

import pytest

from personalize_emulator.testing import Emulator
from personalize_operator.aws.client import ClientPool, Identity
from personalize_operator.aws.errors import AccessDenied

ROLE = "arn:aws:iam::111111111111:role/personalize-team-a"
TEAM_A = Identity(role_arn=ROLE, external_id="team-a-7f3c", session_name="personalize-operator@team-a")


def test_a_role_identity_acts_in_the_roles_account_with_its_external_id_and_session_name(emulator: Emulator) -> None:
    group = emulator.assumed_client(ROLE).create_dataset_group(name="a-1")["datasetGroupArn"]
    pool = ClientPool(max_attempts=1)

    team = pool.for_region("us-east-1", identity=TEAM_A)
    arn = team.create(name="clicks", dataset_group_arn=group, tags={"team": "a"})

    assert arn.startswith("arn:aws:personalize:us-east-1:111111111111:event-tracker/")
    assert pool.for_region("us-east-1", identity=TEAM_A) is team
    assert pool.for_region("us-east-1") is not team
    assert pool.for_region("us-east-1").describe(arn) is None  # the operator's own account does not see it
    [session] = [s for s in emulator.admin.sessions() if s["roleSessionName"] == "personalize-operator@team-a"]
    assert (session["externalId"], session["accountId"]) == ("team-a-7f3c", "111111111111")


def test_short_lived_role_credentials_are_renewed_by_botocore_between_calls(emulator: Emulator) -> None:
    emulator.admin.configure(credential_duration=2)
    group = emulator.assumed_client(ROLE).create_dataset_group(name="a-1")["datasetGroupArn"]
    team = ClientPool(max_attempts=1).for_region("us-east-1", identity=TEAM_A)
    assert list(team.list_arns(group)) == []
    first = [s for s in emulator.admin.sessions() if s["roleSessionName"] == TEAM_A.session_name]
    time.sleep(max(0.0, max(s["expiration"] for s in first) - time.time()) + 0.5)

    assert list(team.list_arns(group)) == []

    again = [s for s in emulator.admin.sessions() if s["roleSessionName"] == TEAM_A.session_name]
    assert len(again) > len(first)


def test_a_refused_assume_role_is_access_denied_on_the_resource_not_a_crash(emulator: Emulator) -> None:
    emulator.admin.refuse_credentials(["test"])  # the operator's own key: STS refuses to assume anything with it
    team = ClientPool(max_attempts=1).for_region("us-east-1", identity=TEAM_A)
    with pytest.raises(AccessDenied) as refused:
        team.describe("arn:aws:personalize:us-east-1:111111111111:event-tracker/x")
    assert refused.value.code == "InvalidClientTokenId"
