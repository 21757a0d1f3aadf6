"""AWS STS over the Query protocol: GetCallerIdentity, on the emulator's port.

Why: tools check "who am I" before anything else (`personalize-operator
doctor`), and boto3 reaches STS through AWS_ENDPOINT_URL_STS like any other
service. The Query protocol is a form-encoded `POST /`
(`Action=GetCallerIdentity&Version=2011-06-15`) signed for service `sts`;
answers and errors are XML in AWS's shape. Keys listed as refused answer
403 InvalidClientTokenId, as STS does for an unknown access key.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from personalize_emulator import errors, protocol
from personalize_emulator.credentials import RefusedCredentials
from personalize_emulator.protocol import Response
from personalize_emulator.state import Caller

SERVICE = "sts"
API_VERSION = "2011-06-15"
XML_NAMESPACE = f"https://sts.amazonaws.com/doc/{API_VERSION}/"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
XML_CONTENT_TYPE = "text/xml"
USER_NAME = "personalize-emulator"
OPERATIONS = ("GetCallerIdentity",)
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."


def is_query_request(method: str, path: str, headers: dict[str, str]) -> bool:
    """A Query-protocol call: form-encoded POST / without X-Amz-Target (which JSON protocols carry)."""
    content_type = headers.get("content-type", "")
    return (
        method == "POST"
        and path == "/"
        and "x-amz-target" not in headers
        and content_type.startswith(FORM_CONTENT_TYPE)
    )


def invalid_client_token() -> errors.ApiError:
    return errors.ApiError("InvalidClientTokenId", INVALID_TOKEN_MESSAGE, status=403)


def user_id(access_key_id: str) -> str:
    """A stable IAM-user-like unique id (AIDA...) for an access key id."""
    return "AIDA" + hashlib.sha256(access_key_id.encode()).hexdigest()[:17].upper()


def caller_identity_xml(caller: Caller, access_key_id: str, request_id: str) -> bytes:
    """GetCallerIdentity's answer, element for element as STS writes it."""
    arn = f"arn:{caller.partition}:iam::{caller.account_id}:user/{USER_NAME}"
    return (
        f'<GetCallerIdentityResponse xmlns="{XML_NAMESPACE}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>{escape(arn)}</Arn>\n"
        f"    <UserId>{escape(user_id(access_key_id))}</UserId>\n"
        f"    <Account>{caller.account_id}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    ).encode()


def error_xml(error: errors.ApiError, request_id: str) -> bytes:
    """A Query-protocol error: Sender for 4xx, Receiver for 5xx."""
    kind = "Receiver" if error.status >= 500 else "Sender"
    return (
        f'<ErrorResponse xmlns="{XML_NAMESPACE}">\n'
        "  <Error>\n"
        f"    <Type>{kind}</Type>\n"
        f"    <Code>{escape(error.code)}</Code>\n"
        f"    <Message>{escape(error.message)}</Message>\n"
        "  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    ).encode()


def _xml(status: int, body: bytes, request_id: str) -> Response:
    headers = {"Content-Type": XML_CONTENT_TYPE, "x-amzn-RequestId": request_id}
    return Response(status=status, body=body, headers=headers)


def handle(
    *,
    headers: dict[str, str],
    body: bytes,
    account_id: str,
    refused: RefusedCredentials,
    count: Callable[[str], None],
) -> Response:
    """Answer one STS Query request."""
    request_id = str(uuid.uuid4())
    try:
        form = {key: values[-1] for key, values in parse_qs(body.decode(errors="replace")).items()}
        action = form.get("Action", "")
        if action:
            count(action)
        scope = protocol.parse_scope(headers, service=SERVICE)
        if refused.is_refused(scope.access_key):
            raise invalid_client_token()
        if action not in OPERATIONS:
            raise errors.ApiError("InvalidAction", f"Could not find operation {action} for version {API_VERSION}")
        if form.get("Version") != API_VERSION:
            raise errors.ApiError("InvalidParameterValue", f"Version must be {API_VERSION}")
        caller = Caller(account_id=account_id, region=scope.region)
        return _xml(200, caller_identity_xml(caller, scope.access_key, request_id), request_id)
    except errors.ApiError as error:
        return _xml(error.status, error_xml(error, request_id), request_id)
