"""STS AssumeRole: temporary credentials that act in the role's account, and expire."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
import pytest

from personalize_emulator import sts
from personalize_emulator.sessions import Sessions
from personalize_emulator.testing import Emulator
from support.aws_answers import assert_sts_xml

ClientFactory = Any
ROLE = "arn:aws:iam::111111111111:role/personalize-team-a"


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def _client_with(credentials: dict[str, Any], service: str = "personalize", token: str | None = None) -> Any:
    return boto3.session.Session().client(
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=token if token is not None else credentials["SessionToken"],
    )


def test_assume_role_answers_temporary_credentials_and_the_assumed_role_user(
    make_client: ClientFactory, emulator: Emulator
) -> None:
    answer = make_client("sts").assume_role(RoleArn=ROLE, RoleSessionName="shop@team-a", ExternalId="handshake")

    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert credentials["SecretAccessKey"] and credentials["SessionToken"]
    remaining = credentials["Expiration"].timestamp() - time.time()
    assert 3500 < remaining <= 3600  # AWS's default DurationSeconds
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/personalize-team-a/shop@team-a"
    assert answer["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert emulator.admin.calls() == {"AssumeRole": 1}
    [session] = emulator.admin.sessions()
    assert (session["roleArn"], session["roleSessionName"], session["externalId"], session["accountId"]) == (
        ROLE,
        "shop@team-a",
        "handshake",
        "111111111111",
    )
    assert "SessionToken" not in str(session) and credentials["SessionToken"] not in str(session)


def test_assume_role_answers_in_the_query_protocol_xml_shape() -> None:
    session = Sessions().issue(role_arn=ROLE, session_name="s1", external_id=None, duration=900, now=0.0)
    assert_sts_xml(
        sts.assume_role_xml(session, "r-1"),
        "AssumeRoleResponse",
        "<Expiration>1970-01-01T00:15:00Z</Expiration>",
        "<Arn>arn:aws:sts::111111111111:assumed-role/personalize-team-a/s1</Arn>",
        "<RequestId>r-1</RequestId>",
    )


def test_the_roles_credentials_act_in_the_roles_account_and_see_nothing_of_another(
    make_client: ClientFactory, emulator: Emulator
) -> None:
    credentials = make_client("sts").assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]
    team = _client_with(credentials)
    mine = make_client().create_dataset_group(name="same-name")["datasetGroupArn"]

    theirs = team.create_dataset_group(name="same-name")["datasetGroupArn"]

    assert theirs == mine.replace("123456789012", "111111111111")
    assert [g["datasetGroupArn"] for g in team.list_dataset_groups()["datasetGroups"]] == [theirs]
    code, _, _ = _error(lambda: team.describe_dataset_group(datasetGroupArn=mine))
    assert code == "ResourceNotFoundException"
    assert _client_with(credentials, "sts").get_caller_identity()["Account"] == "111111111111"


def test_expired_credentials_are_refused_with_expired_token(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.configure(credential_duration=1)
    credentials = make_client("sts").assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]
    assert credentials["Expiration"].timestamp() - time.time() <= 1.0
    time.sleep(max(0.0, credentials["Expiration"].timestamp() - time.time()) + 0.2)

    code, status, message = _error(_client_with(credentials).list_dataset_groups)
    assert (code, status, message) == (
        "ExpiredTokenException",
        400,
        "The security token included in the request is expired",
    )
    code, status, _ = _error(_client_with(credentials, "sts").get_caller_identity)
    assert (code, status) == ("ExpiredToken", 403)


def test_a_wrong_session_token_or_an_unknown_temporary_key_is_refused(
    make_client: ClientFactory, emulator: Emulator
) -> None:
    credentials = make_client("sts").assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]
    code, _, _ = _error(_client_with(credentials, token="forged").list_dataset_groups)
    assert code == "UnrecognizedClientException"
    unknown = {**credentials, "AccessKeyId": "ASIA" + "X" * 16}
    code, status, _ = _error(_client_with(unknown, "sts").get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_botocores_refreshing_credentials_assume_the_role_again_once_they_run_short(
    emulator: Emulator,
) -> None:
    """Below 15 minutes left botocore refreshes before each call: short credentials show a refresh in seconds."""
    emulator.admin.configure(credential_duration=2)
    base = botocore.session.get_session()
    fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
        client_creator=base.create_client,
        source_credentials=base.get_credentials(),
        role_arn=ROLE,
        extra_args={"RoleSessionName": "refresh-test"},
    )
    credentials = botocore.credentials.DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")
    first = credentials.get_frozen_credentials().access_key
    time.sleep(2.5)  # the first credentials have expired

    second = credentials.get_frozen_credentials()

    assert second.access_key != first
    session = boto3.session.Session(
        aws_access_key_id=second.access_key, aws_secret_access_key=second.secret_key, aws_session_token=second.token
    )
    assert session.client("personalize").list_dataset_groups()["datasetGroups"] == []
    assert emulator.admin.calls()["AssumeRole"] == 2


@pytest.mark.parametrize(
    ("form", "member"),
    [
        ({"RoleArn": "arn:aws:iam::111111111111:user/alice", "RoleSessionName": "s1"}, "roleArn"),
        ({"RoleArn": ROLE, "RoleSessionName": "has space"}, "roleSessionName"),
        ({"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "60"}, "durationSeconds"),
        ({"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "43201"}, "durationSeconds"),
        ({"RoleArn": ROLE, "RoleSessionName": "s1", "ExternalId": "x"}, "externalId"),
    ],
)
def test_assume_role_parameters_sts_refuses_are_refused(emulator: Emulator, form: dict[str, str], member: str) -> None:
    """Sent raw (botocore would refuse some before sending), so the emulator's own checks are seen."""
    body = urllib.parse.urlencode({"Action": "AssumeRole", "Version": "2011-06-15", **form}).encode()
    scope = "test/20260101/us-east-1/sts/aws4_request"
    request = urllib.request.Request(
        emulator.endpoint + "/",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0",
            "X-Amz-Date": "20260101T000000Z",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    text = refused.value.read().decode()
    assert refused.value.code == 400
    assert "<Code>ValidationError</Code>" in text and f"at '{member}'" in text
