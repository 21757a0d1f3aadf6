"""The emulator authorizes Personalize calls with the identity policies attached to the signer, as IAM does.

Over HTTP with boto3: policies on an access key (an IAM user) and on a role
(AssumeRole's sessions), set through the admin API and the startup option;
AccessDeniedException in AWS's words; IAM SimulatePrincipalPolicy from the
same evaluator. A signer with no policy attached is allowed everything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from personalize_emulator.admin_client import AdminError
from personalize_emulator.testing import Emulator, running_emulator
from support.shipped_policies import operator_policy, policy_without

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::111111111111:role/personalize-team-a"
OWNERSHIP = [{"tagKey": "personalize.operators.dev/uid", "tagValue": "uid-1"}]


def denied(call: Any, **params: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call(**params)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    return str(refused.value.response["Error"]["Message"])


def test_a_key_without_policies_is_allowed_everything(emulator: Emulator, dataset_group: str) -> None:
    personalize = emulator.client(access_key_id="nobody-attached")

    arn = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group)["eventTrackerArn"]

    personalize.delete_event_tracker(eventTrackerArn=arn)


def test_the_shipped_policy_allows_every_call_the_operator_makes(emulator: Emulator, dataset_group: str) -> None:
    emulator.admin.attach_policies([operator_policy()], access_key_id="operator")
    personalize = emulator.client(access_key_id="operator")

    arn = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group, tags=OWNERSHIP)["eventTrackerArn"]
    personalize.describe_event_tracker(eventTrackerArn=arn)
    personalize.list_event_trackers(datasetGroupArn=dataset_group)
    personalize.tag_resource(resourceArn=arn, tags=[{"tagKey": "team", "tagValue": "growth"}])
    personalize.untag_resource(resourceArn=arn, tagKeys=["team"])
    personalize.list_tags_for_resource(resourceArn=arn)
    personalize.delete_event_tracker(eventTrackerArn=arn)


def test_a_missing_action_is_refused_in_aws_words_naming_action_and_resource(
    emulator: Emulator, dataset_group: str
) -> None:
    emulator.admin.attach_policies(
        [policy_without(operator_policy(), "personalize:CreateEventTracker")], access_key_id="op"
    )
    personalize = emulator.client(access_key_id="op")

    message = denied(personalize.create_event_tracker, name="t", datasetGroupArn=dataset_group)

    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/op is not authorized to perform: personalize:CreateEventTracker"
        f" on resource: arn:aws:personalize:us-east-1:{ACCOUNT}:event-tracker/t"
        " because no identity-based policy allows the personalize:CreateEventTracker action"
    )
    assert emulator.admin.trackers() == []
    assert emulator.client("sts", access_key_id="op").get_caller_identity()["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:user/op"
    )


def test_an_action_with_no_resource_type_granted_on_an_arn_is_refused_on_star(
    emulator: Emulator, dataset_group: str
) -> None:
    scoped = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "personalize:*", "Resource": "arn:*:personalize:*:*:event-tracker/*"},
        ],
    }
    emulator.admin.attach_policies([scoped], access_key_id="op")
    personalize = emulator.client(access_key_id="op")
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group)["eventTrackerArn"]

    message = denied(personalize.list_tags_for_resource, resourceArn=arn)

    assert "personalize:ListTagsForResource on resource: * because" in message


def test_an_explicit_deny_names_itself(emulator: Emulator, dataset_group: str) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "personalize:Delete*", "Resource": "*"}],
    }
    emulator.admin.attach_policies([operator_policy(), deny], access_key_id="op")
    personalize = emulator.client(access_key_id="op")
    arn = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group)["eventTrackerArn"]

    message = denied(personalize.delete_event_tracker, eventTrackerArn=arn)

    assert message.endswith("with an explicit deny in an identity-based policy")


def test_a_roles_policies_authorize_its_sessions(emulator: Emulator) -> None:
    emulator.admin.attach_policies([operator_policy()], role_arn=ROLE)
    setup = emulator.assumed_client("arn:aws:iam::111111111111:role/set-up")  # same account, no policy attached
    group = setup.create_dataset_group(name="a-1")["datasetGroupArn"]
    personalize = emulator.assumed_client(ROLE)

    arn = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    message = denied(personalize.describe_dataset_group, datasetGroupArn=group)

    assert ":111111111111:event-tracker/" in arn
    assert message.startswith(
        "User: arn:aws:sts::111111111111:assumed-role/personalize-team-a/emulator-test is not authorized to perform:"
        f" personalize:DescribeDatasetGroup on resource: {group} "
    )


def test_attached_policies_are_listed_and_reset_detaches_them(emulator: Emulator) -> None:
    emulator.admin.attach_policies([operator_policy()], access_key_id="op")
    assert emulator.admin.attached_policies() == {"op": [operator_policy()]}

    emulator.admin.reset()

    assert emulator.admin.attached_policies() == {}


def test_a_malformed_policy_is_refused_by_the_admin_api(emulator: Emulator) -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "x:y"}]}

    with pytest.raises(AdminError, match="MalformedPolicyDocument"):
        emulator.admin.attach_policies([bad], access_key_id="op")


def simulate(emulator: Emulator, source: str, actions: list[str], resources: list[str]) -> dict[str, str]:
    iam = emulator.client("iam")
    answer = iam.simulate_principal_policy(PolicySourceArn=source, ActionNames=actions, ResourceArns=resources)
    return {result["EvalActionName"]: result["EvalDecision"] for result in answer["EvaluationResults"]}


def test_simulate_principal_policy_answers_from_the_same_policies(emulator: Emulator) -> None:
    emulator.admin.attach_policies([policy_without(operator_policy(), "personalize:TagResource")], access_key_id="op")
    emulator.admin.attach_policies([operator_policy()], role_arn=ROLE)
    tracker = f"arn:aws:personalize:us-east-1:{ACCOUNT}:event-tracker/x"

    user = simulate(emulator, f"arn:aws:iam::{ACCOUNT}:user/op", ["personalize:DescribeEventTracker"], [tracker])
    star = simulate(emulator, f"arn:aws:iam::{ACCOUNT}:user/op", ["personalize:TagResource"], ["*"])
    role = simulate(emulator, ROLE, ["personalize:TagResource", "personalize:Describe*"], ["*"])

    assert user == {"personalize:DescribeEventTracker": "allowed"}
    assert star == {"personalize:TagResource": "implicitDeny"}
    assert role == {"personalize:TagResource": "allowed", "personalize:Describe*": "implicitDeny"}


def test_simulate_principal_policy_names_an_unknown_principal(emulator: Emulator) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        simulate(emulator, "arn:aws:iam::123456789012:group/x", ["personalize:TagResource"], ["*"])

    assert refused.value.response["Error"]["Code"] == "NoSuchEntity"


def test_the_startup_option_attaches_a_policy_file(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy_without(operator_policy(), "personalize:ListEventTrackers")))

    with running_emulator(subprocess=True, iam_policy_files=(f"op={policy_file}",)) as own:
        personalize = own.client(access_key_id="op")
        message = denied(personalize.list_event_trackers)
        own.admin.reset()
        assert own.admin.attached_policies() == {"op": [json.loads(policy_file.read_text())]}

    assert "personalize:ListEventTrackers on resource: *" in message
