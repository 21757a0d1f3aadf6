"""STS GetCallerIdentity (Query protocol) and refused credentials, through boto3 and the admin API."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import botocore.exceptions
import pytest

from personalize_emulator import sts
from personalize_emulator.state import Caller
from personalize_emulator.testing import Emulator
from support.aws_answers import assert_sts_xml

ClientFactory = Any


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_get_caller_identity_names_the_emulator_account_through_aws_endpoint_url_sts(
    make_client: ClientFactory, emulator: Emulator
) -> None:
    identity = make_client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/personalize-emulator"
    assert identity["UserId"].startswith("AIDA")
    assert emulator.admin.calls() == {"GetCallerIdentity": 1}


def test_get_caller_identity_answers_in_the_query_protocol_xml_shape(emulator: Emulator) -> None:
    caller = Caller(account_id="111122223333", region="cn-north-1")
    assert_sts_xml(
        sts.caller_identity_xml(caller, access_key_id="AKID", request_id="r-1"),
        "GetCallerIdentityResponse",
        "<Arn>arn:aws-cn:iam::111122223333:user/personalize-emulator</Arn>",
        "<Account>111122223333</Account>",
        "<RequestId>r-1</RequestId>",
    )


def test_refused_access_keys_get_invalid_client_token_from_sts_and_unrecognized_client_from_personalize(
    make_client: ClientFactory, emulator: Emulator
) -> None:
    assert emulator.admin.refuse_credentials(["test"]) == ["test"]

    assert _error(make_client("sts").get_caller_identity) == (
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    )
    code, status, _ = _error(make_client("personalize").list_event_trackers)
    assert (code, status) == ("UnrecognizedClientException", 400)


def test_reset_accepts_every_access_key_again(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.refuse_credentials(["test"])
    emulator.admin.reset()
    assert make_client("sts").get_caller_identity()["Account"] == "123456789012"
    assert emulator.admin.refuse_credentials([]) == []


def test_other_access_keys_stay_accepted_while_one_is_refused(make_client: ClientFactory, emulator: Emulator) -> None:
    emulator.admin.refuse_credentials(["AKIAREFUSED"])
    assert make_client("sts").get_caller_identity()["Account"] == "123456789012"


def test_an_unknown_sts_action_is_invalid_action(emulator: Emulator) -> None:
    request = urllib.request.Request(
        emulator.endpoint + "/",
        data=b"Action=AssumeRoot&Version=2011-06-15",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, "
            "SignedHeaders=host, Signature=0",
            "X-Amz-Date": "20260101T000000Z",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 400
    assert "<Code>InvalidAction</Code>" in raised.value.read().decode()


def test_admin_credentials_route_refuses_a_body_that_is_not_a_list(emulator: Emulator) -> None:
    from personalize_emulator.admin_client import AdminError

    with pytest.raises(AdminError, match="list of access key ids"):
        emulator.admin._call("POST", "/credentials", {"refused": "test"})
