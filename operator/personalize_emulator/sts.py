"""AWS STS over the Query protocol: GetCallerIdentity and AssumeRole, on the emulator's port.

Why: tools check "who am I" before anything else (`personalize-operator
doctor`), an operator serving many teams assumes one role per team
(AssumeRole's temporary credentials then act in the role's account, see
`sessions`), and boto3 reaches STS through AWS_ENDPOINT_URL_STS like any other
service. The Query protocol is a form-encoded `POST /`
(`Action=GetCallerIdentity&Version=2011-06-15`) signed for service `sts`;
answers and errors are XML in AWS's shape. Keys listed as refused answer
403 InvalidClientTokenId, as STS does for an unknown access key.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from personalize_emulator import errors, protocol
from personalize_emulator.credentials import RefusedCredentials
from personalize_emulator.protocol import Response
from personalize_emulator.sessions import DEFAULT_DURATION, Session, Sessions
from personalize_emulator.state import Caller

SERVICE = "sts"
API_VERSION = "2011-06-15"
XML_NAMESPACE = f"https://sts.amazonaws.com/doc/{API_VERSION}/"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
XML_CONTENT_TYPE = "text/xml"
USER_NAME = "personalize-emulator"
OPERATIONS = ("GetCallerIdentity", "AssumeRole")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
DURATION_RANGE = (900, 43200)
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


def caller_identity_xml(
    caller: Caller, access_key_id: str, request_id: str, session: Session | None = None, user_name: str = USER_NAME
) -> bytes:
    """GetCallerIdentity's answer, element for element as STS writes it (an assumed role's for its keys)."""
    arn = f"arn:{caller.partition}:iam::{caller.account_id}:user/{user_name}"
    uid = user_id(access_key_id)
    if session is not None:
        arn, uid = session.assumed_role_arn, f"{session.role_id}:{session.session_name}"
    return (
        f'<GetCallerIdentityResponse xmlns="{XML_NAMESPACE}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>{escape(arn)}</Arn>\n"
        f"    <UserId>{escape(uid)}</UserId>\n"
        f"    <Account>{caller.account_id}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    ).encode()


def _timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def assume_role_xml(session: Session, request_id: str) -> bytes:
    """AssumeRole's answer, element for element as STS writes it."""
    return (
        f'<AssumeRoleResponse xmlns="{XML_NAMESPACE}">\n'
        "  <AssumeRoleResult>\n"
        "    <AssumedRoleUser>\n"
        f"      <AssumedRoleId>{escape(session.role_id)}:{escape(session.session_name)}</AssumedRoleId>\n"
        f"      <Arn>{escape(session.assumed_role_arn)}</Arn>\n"
        "    </AssumedRoleUser>\n"
        "    <Credentials>\n"
        f"      <AccessKeyId>{session.access_key_id}</AccessKeyId>\n"
        f"      <SecretAccessKey>{escape(session.secret_access_key)}</SecretAccessKey>\n"
        f"      <SessionToken>{escape(session.session_token)}</SessionToken>\n"
        f"      <Expiration>{_timestamp(session.expiration)}</Expiration>\n"
        "    </Credentials>\n"
        "  </AssumeRoleResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</AssumeRoleResponse>\n"
    ).encode()


def _validation(member: str, value: object, constraint: str) -> errors.ApiError:
    return errors.ApiError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}",
    )


def assume_role(form: dict[str, str], sessions: Sessions, now: float, duration_override: float | None) -> Session:
    """Check AssumeRole's parameters as STS does, then issue credentials that act in the role's account.

    Every role may be assumed (no IAM here); `duration_override` (the emulator's
    credential_duration) replaces the duration asked for, so tests see expiry in seconds.
    """
    role_arn, name = form.get("RoleArn", ""), form.get("RoleSessionName", "")
    external_id = form.get("ExternalId")
    if not ROLE_ARN.fullmatch(role_arn):
        raise _validation("roleArn", role_arn, "Member must be the ARN of an IAM role")
    if not SESSION_NAME.fullmatch(name):
        raise _validation("roleSessionName", name, "Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    if external_id is not None and not EXTERNAL_ID.fullmatch(external_id):
        raise _validation("externalId", external_id, "Member must satisfy regular expression pattern: [\\w+=,.@:/-]*")
    asked = int(form.get("DurationSeconds") or DEFAULT_DURATION)
    low, high = DURATION_RANGE
    if not low <= asked <= high:
        raise _validation("durationSeconds", asked, f"Member must have value between {low} and {high}")
    seconds = asked if duration_override is None else duration_override
    expiration = float(int(now + seconds))  # STS writes whole seconds: the emulator enforces what clients see
    return sessions.issue(
        role_arn=role_arn, session_name=name, external_id=external_id, duration=expiration - now, now=now
    )


def error_xml(error: errors.ApiError, request_id: str, namespace: str = XML_NAMESPACE) -> bytes:
    """A Query-protocol error (STS's and IAM's shape, each with its namespace): Sender for 4xx, Receiver for 5xx."""
    kind = "Receiver" if error.status >= 500 else "Sender"
    return (
        f'<ErrorResponse xmlns="{namespace}">\n'
        "  <Error>\n"
        f"    <Type>{kind}</Type>\n"
        f"    <Code>{escape(error.code)}</Code>\n"
        f"    <Message>{escape(error.message)}</Message>\n"
        "  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    ).encode()


def counted_form(body: bytes, count: Callable[[str], None]) -> tuple[dict[str, str], str]:
    """A Query request's form and its Action, counted (every call that names one, answered or not)."""
    form = {key: values[-1] for key, values in parse_qs(body.decode(errors="replace")).items()}
    action = form.get("Action", "")
    if action:
        count(action)
    return form, action


def xml_response(status: int, body: bytes, request_id: str) -> Response:
    headers = {"Content-Type": XML_CONTENT_TYPE, "x-amzn-RequestId": request_id}
    return Response(status=status, body=body, headers=headers)


def handle(
    *,
    headers: dict[str, str],
    body: bytes,
    account_id: str,
    refused: RefusedCredentials,
    count: Callable[[str], None],
    sessions: Sessions,
    now: float,
    credential_duration: float | None = None,
    user_name: Callable[[str], str] = lambda access_key_id: USER_NAME,
) -> Response:
    """Answer one STS Query request."""
    request_id = str(uuid.uuid4())
    try:
        form, action = counted_form(body, count)
        scope = protocol.parse_scope(headers, service=SERVICE)
        if refused.is_refused(scope.access_key):
            raise invalid_client_token()
        try:
            token = headers.get("x-amz-security-token")
            account = sessions.account_of(scope.access_key, token, now, account_id, expired_code="ExpiredToken")
        except errors.ApiError as refusal:
            if refusal.code == "UnrecognizedClientException":
                raise invalid_client_token() from refusal
            raise
        if action not in OPERATIONS:
            raise errors.ApiError("InvalidAction", f"Could not find operation {action} for version {API_VERSION}")
        if form.get("Version") != API_VERSION:
            raise errors.ApiError("InvalidParameterValue", f"Version must be {API_VERSION}")
        if action == "AssumeRole":
            return xml_response(
                200, assume_role_xml(assume_role(form, sessions, now, credential_duration), request_id), request_id
            )
        caller = Caller(account_id=account, region=scope.region)
        session = sessions.find(scope.access_key)
        return xml_response(
            200,
            caller_identity_xml(caller, scope.access_key, request_id, session, user_name(scope.access_key)),
            request_id,
        )
    except errors.ApiError as error:
        return xml_response(error.status, error_xml(error, request_id), request_id)
