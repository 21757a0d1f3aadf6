"""The wire: SigV4 scope, request bodies, responses and errors as AWS encodes them.

Two protocols share the port. `personalize` is AWS JSON 1.1: `POST /` with
`X-Amz-Target: AmazonPersonalize.<Operation>`, errors as a JSON body with
`__type` and `message`. `personalize-events` is REST JSON (`POST /events`),
errors as a JSON body with `message` and the code in `x-amzn-ErrorType`.
Both carry the code in that header, which is where every SDK looks.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from personalize_emulator import errors

JSON_11 = "application/x-amz-json-1.1"
REST_JSON = "application/json"

_AUTH_PARAM = re.compile(r"(\w+)=([^,\s]*)")


class Protocol(StrEnum):
    JSON = "json"
    REST_JSON = "rest-json"


@dataclass(frozen=True)
class Scope:
    """The SigV4 credential scope: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`."""

    access_key: str
    date: str
    region: str
    service: str


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (latency fault)
    drop: bool = False  # close the connection instead of answering


def parse_scope(headers: dict[str, str], *, service: str) -> Scope:
    """The scope of a SigV4 `Authorization` header; refuse requests AWS would refuse.

    Signatures are not verified (the emulator has no secrets to verify against).
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise errors.missing_authentication_token()
    algorithm, _, rest = authorization.strip().partition(" ")
    params = dict(_AUTH_PARAM.findall(rest)) if algorithm == "AWS4-HMAC-SHA256" else {}
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if "x-amz-date" not in headers and "date" not in headers:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise errors.incomplete_signature(" ".join(missing) + f" Authorization={algorithm}")
    parts = params["Credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise errors.incomplete_signature(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{'/'.join(parts[1:])}' after the key id"
        )
    scope = Scope(access_key=parts[0], date=parts[1], region=parts[2], service=parts[3])
    if scope.service != service:
        raise errors.invalid_signature(f"Credential should be scoped to correct service: '{service}'. ")
    return scope


def decode_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object; an empty body is an empty object."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise errors.serialization(f"Could not parse the request body as JSON: {error}") from error
    if not isinstance(value, dict):
        raise errors.serialization("The request body must be a JSON object.")
    return value


def shaped(shape: Shape | None, value: Any) -> Any:
    """`value` reduced to what `shape` declares, timestamps as epoch seconds (JSON protocols)."""
    if shape is None or value is None:
        return None
    if isinstance(shape, StructureShape):
        out = {}
        for name, member in shape.members.items():
            item = shaped(member, value.get(name))
            if item is not None:
                out[name] = item
        return out
    if isinstance(shape, ListShape):
        return [shaped(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        return {key: shaped(shape.value, item) for key, item in value.items()}
    if shape.type_name == "timestamp":
        return round(float(value), 3)
    return value


def success(protocol: Protocol, output: dict[str, Any] | None) -> Response:
    if protocol is Protocol.REST_JSON and not output:
        return Response(status=200, body=b"", headers=_headers(REST_JSON))
    content_type = JSON_11 if protocol is Protocol.JSON else REST_JSON
    return Response(status=200, body=_dump(output or {}), headers=_headers(content_type))


def failure(protocol: Protocol, error: errors.ApiError) -> Response:
    if protocol is Protocol.JSON:
        body = {"__type": error.code, "message": error.message}
        headers = _headers(JSON_11)
    else:
        body = {"message": error.message}
        headers = _headers(REST_JSON)
    headers["x-amzn-ErrorType"] = error.code
    return Response(status=error.status, body=_dump(body), headers=headers)


def _headers(content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
