"""The AWS error taxonomy: one table from AWS's error code (and HTTP status) to the few kinds we decide on.

This module imports nothing heavy, so decide.py stays pure and free of boto3;
aws/client.py translates botocore exceptions through `classify`. The rule of thumb:
only input the AWS model refuses is a spec problem; credentials and
permissions wait for an admin with a long backoff; everything else, unknown
codes included, is retried, because a wrong "permanent" verdict leaves a
resource Failed after the outage is over.
"""

from __future__ import annotations


class AwsError(Exception):
    """A failed Personalize call; `code` is AWS's error code, `message` is safe to show."""

    def __init__(self, code: str, message: str, operation: str, *, status: int = 0) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation
        self.status = status


class Retryable(AwsError):
    """5xx, timeouts, dropped connections, unknown codes: try again soon; nothing changed remotely."""


class Throttled(Retryable):
    """Throttling and LimitExceeded on control-plane calls: AWS asks us to slow down."""


class AccessDenied(AwsError):
    """Missing or refused credentials or permissions: an admin must act; retried slowly."""


class NotFound(AwsError):
    """ResourceNotFoundException: the tracker or the dataset group does not exist."""


class AlreadyExists(AwsError):
    """ResourceAlreadyExistsException: a tracker of that name, or in that dataset group, exists."""


class InUse(AwsError):
    """ResourceInUseException: the tracker is busy (still being created, or being deleted)."""


class TooManyTags(AwsError):
    """The tracker would carry more tags than Personalize allows: the spec must change."""


class InvalidInput(AwsError):
    """Input the AWS model refuses (InvalidInputException, botocore's ParamValidationError): fix the spec."""


# One row per code AWS (or botocore) is known to answer. Codes not listed fall to `classify`'s status rules.
CODE_KINDS: dict[str, type[AwsError]] = {
    # throttling and rate limits
    "ThrottlingException": Throttled,
    "Throttling": Throttled,
    "ThrottledException": Throttled,
    "TooManyRequestsException": Throttled,
    "RequestLimitExceeded": Throttled,
    "RequestThrottled": Throttled,
    "RequestThrottledException": Throttled,
    "SlowDown": Throttled,
    "LimitExceededException": Throttled,
    # server side
    "InternalFailure": Retryable,
    "InternalServerError": Retryable,
    "InternalServerException": Retryable,
    "ServiceUnavailable": Retryable,
    "ServiceUnavailableException": Retryable,
    "RequestTimeout": Retryable,
    "RequestTimeoutException": Retryable,
    # credentials and permissions
    "AccessDeniedException": AccessDenied,
    "AccessDenied": AccessDenied,
    "UnauthorizedOperation": AccessDenied,
    "UnrecognizedClientException": AccessDenied,
    "InvalidClientTokenId": AccessDenied,
    "ExpiredToken": AccessDenied,
    "ExpiredTokenException": AccessDenied,
    "InvalidSignatureException": AccessDenied,
    "SignatureDoesNotMatch": AccessDenied,
    "IncompleteSignature": AccessDenied,
    "MissingAuthenticationToken": AccessDenied,
    "MissingAuthenticationTokenException": AccessDenied,
    "RequestExpired": AccessDenied,
    "NoCredentials": AccessDenied,
    # Personalize's own
    "ResourceNotFoundException": NotFound,
    "ResourceAlreadyExistsException": AlreadyExists,
    "ResourceInUseException": InUse,
    "TooManyTagsException": TooManyTags,
    "TooManyTagKeysException": TooManyTags,
    "InvalidInputException": InvalidInput,
    "ValidationException": InvalidInput,
    "ParamValidationError": InvalidInput,
    "InvalidNextTokenException": Retryable,  # a stale page token: list again from the start
}

# Precise Ready reasons for credential problems, so `kubectl get et` says what to fix.
ACCESS_REASONS: dict[str, str] = {
    "ExpiredToken": "CredentialsExpired",
    "ExpiredTokenException": "CredentialsExpired",
    "RequestExpired": "CredentialsExpired",
    "UnrecognizedClientException": "InvalidCredentials",
    "InvalidClientTokenId": "InvalidCredentials",
    "InvalidSignatureException": "InvalidCredentials",
    "SignatureDoesNotMatch": "InvalidCredentials",
    "IncompleteSignature": "InvalidCredentials",
    "MissingAuthenticationToken": "NoCredentials",
    "MissingAuthenticationTokenException": "NoCredentials",
    "NoCredentials": "NoCredentials",
}


def classify(code: str, status: int = 0) -> type[AwsError]:
    """The kind of an AWS error from its code, else its HTTP status; unknown is retryable."""
    if code in CODE_KINDS:
        return CODE_KINDS[code]
    if code.startswith("AccessDenied") or status in (401, 403):
        return AccessDenied
    if status == 429:
        return Throttled
    return Retryable


def make(code: str, message: str, operation: str, status: int = 0) -> AwsError:
    return classify(code, status)(code, message, operation, status=status)


THROTTLED_REASONS = frozenset({"Throttled", "LimitExceeded"})  # the reasons of a Throttled error (reason_for)


def reason_for(error: AwsError) -> str:
    """The Ready/Synced reason a failed call shows."""
    if isinstance(error, AccessDenied):
        return ACCESS_REASONS.get(error.code, "AccessDenied")
    if isinstance(error, Throttled):
        return "LimitExceeded" if error.code == "LimitExceededException" else "Throttled"
    if isinstance(error, TooManyTags):
        return "TooManyTags"
    if isinstance(error, InvalidInput):
        return "InvalidSpec"
    if isinstance(error, InUse):
        return "ResourceInUse"
    if isinstance(error, NotFound):
        return "NotFound"
    if isinstance(error, AlreadyExists):
        return "NameConflict"
    return "AWSUnavailable"
