"""The errors the emulator answers with, as AWS names them.

One exception type carries the AWS error code, the HTTP status and the
message; every layer raises it and only the protocol layer encodes it.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error response: `code` is AWS's `__type`, `status` the HTTP status."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def invalid_input(message: str) -> ApiError:
    return ApiError("InvalidInputException", message)


def not_found(message: str) -> ApiError:
    return ApiError("ResourceNotFoundException", message)


def already_exists(message: str) -> ApiError:
    return ApiError("ResourceAlreadyExistsException", message)


def in_use(message: str) -> ApiError:
    return ApiError("ResourceInUseException", message)


def limit_exceeded(message: str) -> ApiError:
    return ApiError("LimitExceededException", message)


def too_many_tags(message: str) -> ApiError:
    return ApiError("TooManyTagsException", message)


def invalid_next_token(message: str = "Invalid next token.") -> ApiError:
    return ApiError("InvalidNextTokenException", message)


def serialization(message: str) -> ApiError:
    """A value of the wrong JSON type: AWS's front end answers SerializationException."""
    return ApiError("SerializationException", message)


def unknown_operation(message: str, *, status: int = 400) -> ApiError:
    return ApiError("UnknownOperationException", message, status=status)


def throttling(message: str = "Rate exceeded") -> ApiError:
    return ApiError("ThrottlingException", message, status=400)


def internal_failure(message: str = "The request processing has failed because of an unknown error.") -> ApiError:
    return ApiError("InternalFailure", message, status=500)


def missing_authentication_token() -> ApiError:
    """No Authorization header: 403, per AWS's Common Errors table for Personalize."""
    return ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", status=403)


def incomplete_signature(message: str) -> ApiError:
    return ApiError("IncompleteSignatureException", message, status=403)


def invalid_signature(message: str) -> ApiError:
    return ApiError("InvalidSignatureException", message, status=403)


def unrecognized_client() -> ApiError:
    """An access key AWS does not know (the emulator's refused credentials): Personalize's answer."""
    return ApiError("UnrecognizedClientException", "The security token included in the request is invalid.")
