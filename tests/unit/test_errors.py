"""The error taxonomy, row by row: AWS's code (or HTTP status) to the kind the reconciler decides on."""

from __future__ import annotations

import botocore.exceptions
import pytest

from personalize_operator.aws.client import translate
from personalize_operator.aws.errors import (
    CODE_KINDS,
    AccessDenied,
    AlreadyExists,
    AwsError,
    InUse,
    InvalidInput,
    NotFound,
    Retryable,
    Throttled,
    TooManyTags,
    classify,
    reason_for,
)

ROWS = [
    ("ThrottlingException", 400, Throttled, "Throttled"),
    ("TooManyRequestsException", 429, Throttled, "Throttled"),
    ("LimitExceededException", 400, Throttled, "LimitExceeded"),
    ("InternalFailure", 500, Retryable, "AWSUnavailable"),
    ("ServiceUnavailable", 503, Retryable, "AWSUnavailable"),
    ("SomethingNobodyKnows", 400, Retryable, "AWSUnavailable"),
    ("SomethingNobodyKnows", 502, Retryable, "AWSUnavailable"),
    ("403", 403, AccessDenied, "AccessDenied"),
    ("429", 429, Throttled, "Throttled"),
    ("AccessDeniedException", 403, AccessDenied, "AccessDenied"),
    ("AccessDeniedForSomethingNew", 400, AccessDenied, "AccessDenied"),
    ("UnrecognizedClientException", 400, AccessDenied, "InvalidCredentials"),
    ("InvalidClientTokenId", 403, AccessDenied, "InvalidCredentials"),
    ("InvalidSignatureException", 400, AccessDenied, "InvalidCredentials"),
    ("SignatureDoesNotMatch", 403, AccessDenied, "InvalidCredentials"),
    ("ExpiredToken", 400, AccessDenied, "CredentialsExpired"),
    ("ExpiredTokenException", 400, AccessDenied, "CredentialsExpired"),
    ("RequestExpired", 400, AccessDenied, "CredentialsExpired"),
    ("ResourceNotFoundException", 400, NotFound, "NotFound"),
    ("ResourceAlreadyExistsException", 400, AlreadyExists, "NameConflict"),
    ("ResourceInUseException", 400, InUse, "ResourceInUse"),
    ("TooManyTagsException", 400, TooManyTags, "TooManyTags"),
    ("TooManyTagKeysException", 400, TooManyTags, "TooManyTags"),
    ("InvalidInputException", 400, InvalidInput, "InvalidSpec"),
    ("InvalidNextTokenException", 400, Retryable, "AWSUnavailable"),
]


@pytest.mark.parametrize(
    ("code", "status", "kind", "reason"), [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in ROWS]
)
def test_each_code_has_one_kind_and_reason(code: str, status: int, kind: type[AwsError], reason: str) -> None:
    assert classify(code, status) is kind
    assert reason_for(kind(code, "m", "Op", status=status)) == reason


def test_only_input_the_model_refuses_is_a_spec_problem() -> None:
    spec_problems = {code for code, kind in CODE_KINDS.items() if kind is InvalidInput}
    assert spec_problems == {"InvalidInputException", "ValidationException", "ParamValidationError"}


def _client_error(code: str, status: int, message: str = "msg") -> botocore.exceptions.ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return botocore.exceptions.ClientError(response, "CreateEventTracker")  # type: ignore[arg-type]


def test_client_errors_are_translated_through_the_table() -> None:
    translated = translate(_client_error("ExpiredTokenException", 400), "CreateEventTracker")
    assert isinstance(translated, AccessDenied)
    assert (translated.code, translated.status, translated.operation) == (
        "ExpiredTokenException",
        400,
        "CreateEventTracker",
    )


def test_a_param_validation_error_is_invalid_input_not_a_connection_failure() -> None:
    error = botocore.exceptions.ParamValidationError(report="Invalid length for parameter name, value: 0")
    translated = translate(error, "CreateEventTracker")
    assert isinstance(translated, InvalidInput) and "Invalid length" in translated.message


def test_missing_credentials_are_access_problems() -> None:
    assert isinstance(translate(botocore.exceptions.NoCredentialsError(), "X"), AccessDenied)


def test_connection_failures_and_timeouts_are_retryable() -> None:
    for error in (
        botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        botocore.exceptions.ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
    ):
        assert type(translate(error, "X")) is Retryable
