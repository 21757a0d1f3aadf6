"""The wire protocol as AWS speaks it: authentication, routing, error encoding, endpoint variables."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from personalize_emulator.testing import Emulator

JSON_11 = "application/x-amz-json-1.1"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def send(
    emulator: Emulator,
    *,
    target: str | None = None,
    body: bytes = b"{}",
    path: str = "/",
    sign: bool = True,
    region: str = "us-east-1",
    service: str = "personalize",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One raw HTTP request, optionally SigV4-signed with dummy credentials."""
    request_headers = {"Content-Type": JSON_11} | ({"X-Amz-Target": target} if target else {}) | (headers or {})
    request = AWSRequest(method="POST", url=emulator.endpoint + path, data=body, headers=request_headers)
    if sign:
        SigV4Auth(Credentials("test", "test"), service, region).add_auth(request)
    prepared = urllib.request.Request(request.url, data=body, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return Answer(response.status, dict(response.headers.items()), _json(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers.items()), _json(error.read()))


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


class TestAuthentication:
    """Requests without a SigV4 Authorization header are refused as AWS refuses them."""

    def test_unsigned_request_is_missing_authentication_token(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.ListDatasetGroups", sign=False)
        assert answer.status == 403
        assert answer.body["__type"] == "MissingAuthenticationTokenException"
        assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"

    def test_boto3_without_signing_sees_the_same(self, emulator: Emulator) -> None:
        client = emulator.client(signature_version=botocore.UNSIGNED)
        with pytest.raises(ClientError) as refused:
            client.list_dataset_groups()
        assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    def test_unsigned_put_events_is_refused_too(self, emulator: Emulator) -> None:
        answer = send(emulator, path="/events", sign=False, body=b'{"trackingId":"x"}')
        assert answer.status == 403
        assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"

    def test_an_authorization_header_without_credential_is_incomplete(self, emulator: Emulator) -> None:
        answer = send(
            emulator,
            target="AmazonPersonalize.ListDatasetGroups",
            sign=False,
            headers={"Authorization": "AWS4-HMAC-SHA256 Signature=abc", "X-Amz-Date": "20240101T000000Z"},
        )
        assert (answer.status, answer.body["__type"]) == (403, "IncompleteSignatureException")
        assert "'Credential'" in answer.body["message"]

    def test_a_scope_for_another_service_is_an_invalid_signature(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.ListDatasetGroups", service="s3")
        assert (answer.status, answer.body["__type"]) == (403, "InvalidSignatureException")


class TestRouting:
    def test_an_unimplemented_operation_is_unknown(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.CreateSolution", body=b'{"name":"s"}')
        assert (answer.status, answer.body["__type"]) == (400, "UnknownOperationException")

    def test_another_services_target_is_unknown(self, emulator: Emulator) -> None:
        answer = send(emulator, target="DynamoDB_20120810.ListTables")
        assert answer.body["__type"] == "UnknownOperationException"

    def test_boto3_sees_unknown_operation_for_unimplemented_calls(self, personalize: Any) -> None:
        with pytest.raises(ClientError) as refused:
            personalize.list_solutions()
        assert refused.value.response["Error"]["Code"] == "UnknownOperationException"

    def test_unimplemented_events_operations_are_unknown(self, make_client: Callable[..., Any]) -> None:
        with pytest.raises(ClientError) as refused:
            make_client("personalize-events").put_users(
                datasetArn="arn:aws:personalize:us-east-1:123456789012:dataset/z", users=[{"userId": "u"}]
            )
        assert refused.value.response["Error"]["Code"] == "UnknownOperationException"

    def test_the_admin_api_needs_no_signature(self, emulator: Emulator) -> None:
        with urllib.request.urlopen(emulator.endpoint + "/_emulator/health", timeout=5) as response:
            assert json.loads(response.read()) == {"ok": True}


class TestEncoding:
    def test_success_is_json_11(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.ListDatasetGroups")
        assert answer.status == 200
        assert answer.headers["Content-Type"] == JSON_11
        assert answer.headers["x-amzn-RequestId"]
        assert answer.body == {"datasetGroups": []}

    def test_errors_carry_type_message_and_header(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.DescribeEventTracker", body=b'{"eventTrackerArn":"x"}')
        assert answer.status == 400
        assert answer.body["__type"] == "InvalidInputException"
        assert answer.body["message"].startswith("1 validation error detected: Value 'x' at 'eventTrackerArn'")
        assert answer.headers["x-amzn-ErrorType"] == "InvalidInputException"

    def test_a_body_that_is_not_json_is_a_serialization_error(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.ListDatasetGroups", body=b"{not json")
        assert (answer.status, answer.body["__type"]) == (400, "SerializationException")

    def test_a_body_that_is_not_utf8_is_a_serialization_error(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.ListDatasetGroups", body=b"\xff\xfe{}")
        assert (answer.status, answer.body["__type"]) == (400, "SerializationException")

    def test_a_member_of_the_wrong_type_is_a_serialization_error_naming_it(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.ListEventTrackers", body=b'{"maxResults":"ten"}')
        assert (answer.status, answer.body["__type"]) == (400, "SerializationException")
        assert "'maxResults'" in answer.body["message"]

    def test_missing_required_members_are_named(self, emulator: Emulator) -> None:
        answer = send(emulator, target="AmazonPersonalize.CreateEventTracker", body=b"{}")
        assert answer.body["message"] == (
            "2 validation errors detected: "
            "Value null at 'name' failed to satisfy constraint: Member must not be null; "
            "Value null at 'datasetGroupArn' failed to satisfy constraint: Member must not be null"
        )

    def test_empty_outputs_are_an_empty_object(self, emulator: Emulator, personalize: Any) -> None:
        arn = personalize.create_dataset_group(name="dg-empty-output")["datasetGroupArn"]
        answer = send(
            emulator, target="AmazonPersonalize.DeleteDatasetGroup", body=json.dumps({"datasetGroupArn": arn}).encode()
        )
        assert (answer.status, answer.body) == (200, {})


class TestEndpointVariables:
    """The emulator is selected only by the standard endpoint variables, as the operator does it."""

    def test_boto3_default_clients_reach_the_emulator(self, emulator: Emulator) -> None:
        client = boto3.client("personalize")
        assert client.meta.endpoint_url == emulator.endpoint
        assert client.list_dataset_groups()["datasetGroups"] == []
        assert boto3.client("personalize-events").meta.endpoint_url == emulator.endpoint
