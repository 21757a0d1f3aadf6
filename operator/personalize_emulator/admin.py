"""The test-control API under /_emulator/, a path no AWS client ever uses.

Plain JSON over HTTP, unauthenticated, never faulted:

    GET    /_emulator/health                 {"ok": true}
    GET    /_emulator/state                  dataset groups, trackers (with tags and trackingIds),
                                             holds, planned failures, faults, config
    POST   /_emulator/reset                  empty account, start-up config, no rules, counts zeroed
    GET    /_emulator/config                 the settings in force
    POST   /_emulator/config                 {"transitionDelay"?, "trackerQuota"?, "maxTagsPerResource"?,
                                              "credentialDuration"?, "tpsLimit"?}
    GET    /_emulator/calls                  {"CreateEventTracker": 3, ...}
    DELETE /_emulator/calls                  zero the counts (calls and rate-limited calls)
    GET    /_emulator/rate-limited           calls refused by the tpsLimit, per operation
    GET    /_emulator/faults                 the fault rules and how often each fired
    POST   /_emulator/faults                 {"kind": throttle|internal|latency|drop|error, "rate"?,
                                              "operations"?, "count"?, "seconds"?, "code"?, "status"?,
                                              "message"?} -> the rule with its id
    DELETE /_emulator/faults                 remove every fault rule
    POST   /_emulator/seed                   {"seed": int|null}: reseed the fault dice
    POST   /_emulator/holds                  {"status", "arn"?, "namePattern"?, "kind"?} -> the hold
    POST   /_emulator/holds/release          {"id"?} or {"arn"?, "namePattern"?, "kind"?}; {} releases all
    POST   /_emulator/failures               {"reason", "namePattern"?, "arn"?, "kind"?} -> the rule
    DELETE /_emulator/failures               remove every planned failure
    POST   /_emulator/delete                 {"arn"}: delete a resource out of band
    GET    /_emulator/credentials            {"refused": [access key ids]}
    POST   /_emulator/credentials            {"refused": [...]}: answer these keys as invalid (all protocols)
    GET    /_emulator/iam                    {"policies": {access key id or role ARN: [policy documents]}}
    POST   /_emulator/iam                    {"accessKeyId" | "roleArn", "policies": [documents]}: replace that
                                             principal's identity policies ([] detaches); a principal with
                                             policies is authorized by them, one without is allowed everything
    GET    /_emulator/sessions               {"sessions": [AssumeRole answers: accessKeyId, roleArn,
                                              roleSessionName, externalId, accountId, issuedAt, expiration]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from personalize_emulator.config import RUNTIME_SETTINGS
from personalize_emulator.faults import FaultRule
from personalize_emulator.iam_conditions import PolicyError
from personalize_emulator.lifecycle import Status
from personalize_emulator.protocol import Response
from personalize_emulator.rules import Hold, Kind, PlannedFailure, Selector
from personalize_emulator.service import Service

PREFIX = "/_emulator"

Route = Callable[[Service, dict[str, Any]], Any]


class AdminError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _selector(body: dict[str, Any]) -> Selector:
    kind = body.get("kind")
    return Selector(arn=body.get("arn"), name_pattern=body.get("namePattern"), kind=Kind(kind) if kind else None)


def _config_json(service: Service) -> dict[str, Any]:
    config = service.store.config
    return {api: getattr(config, attr) for api, attr in RUNTIME_SETTINGS.items()} | {
        "accountId": config.account_id,
        "seed": config.seed,
    }


def _state(service: Service, _: dict[str, Any]) -> dict[str, Any]:
    return {**service.store.snapshot(), "faults": service.faults.rules(), "config": _config_json(service)}


def _reset(service: Service, _: dict[str, Any]) -> dict[str, Any]:
    service.store.reset()
    service.faults.clear()
    service.faults.seed(service.store.config.seed)
    service.calls.reset()
    service.refused.clear()
    service.sessions.clear()
    service.limiter.reset()
    service.iam.reset()
    return {"ok": True}


def _reset_calls(service: Service, _: dict[str, Any]) -> dict[str, Any]:
    service.calls.reset()
    service.limiter.reset()
    return {"ok": True}


def _set_config(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - set(RUNTIME_SETTINGS)
    if unknown:
        raise AdminError(f"unknown settings {sorted(unknown)}; known: {sorted(RUNTIME_SETTINGS)}")
    service.store.configure(**{RUNTIME_SETTINGS[key]: value for key, value in body.items()})
    return _config_json(service)


def _add_fault(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    operations = body.get("operations")
    rule = FaultRule(
        kind=body["kind"],
        rate=float(body.get("rate", 1.0)),
        operations=frozenset(operations) if operations is not None else None,
        count=body.get("count"),
        seconds=float(body.get("seconds", 0.0)),
        code=str(body.get("code", "")),
        status=int(body.get("status", 400)),
        message=str(body.get("message", "")),
    )
    return service.faults.add(rule).as_json()


def _clear_faults(service: Service, _: dict[str, Any]) -> dict[str, Any]:
    service.faults.clear()
    return {"ok": True}


def _seed(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    service.faults.seed(body.get("seed"))
    return {"ok": True}


def _hold(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    return service.store.hold(Hold(status=Status(body["status"]), selector=_selector(body))).as_json()


def _release(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    if "id" in body:
        released = service.store.release(hold_id=int(body["id"]))
    elif body:
        released = service.store.release(selector=_selector(body))
    else:
        released = service.store.release()
    return {"released": [hold.as_json() for hold in released]}


def _plan_failure(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    return service.store.plan_failure(PlannedFailure(reason=body["reason"], selector=_selector(body))).as_json()


def _clear_failures(service: Service, _: dict[str, Any]) -> dict[str, Any]:
    service.store.clear_failures()
    return {"ok": True}


def _delete(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    if not service.store.remove(body["arn"]):
        raise AdminError(f"no resource {body['arn']}", status=404)
    return {"ok": True}


def _refuse_credentials(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    refused = body["refused"]
    if not isinstance(refused, list) or not all(isinstance(key, str) for key in refused):
        raise AdminError("refused must be a list of access key ids")
    return {"refused": service.refused.refuse(refused)}


def _attach_policies(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    principals = [body[key] for key in ("accessKeyId", "roleArn") if key in body]
    documents = body.get("policies")
    if len(principals) != 1 or not isinstance(principals[0], str):
        raise AdminError("name exactly one of accessKeyId and roleArn")
    if not isinstance(documents, list):
        raise AdminError("policies must be a list of IAM policy documents")
    try:
        names = service.iam.attach(principals[0], documents)
    except PolicyError as error:
        raise AdminError(f"MalformedPolicyDocument: {error}") from error
    return {"principal": principals[0], "policies": names}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/health"): lambda service, _: {"ok": True},
    ("GET", "/state"): _state,
    ("POST", "/reset"): _reset,
    ("GET", "/config"): lambda service, _: _config_json(service),
    ("POST", "/config"): _set_config,
    ("GET", "/calls"): lambda service, _: service.calls.snapshot(),
    ("DELETE", "/calls"): _reset_calls,
    ("GET", "/rate-limited"): lambda service, _: service.limiter.refused(),
    ("GET", "/faults"): lambda service, _: service.faults.rules(),
    ("POST", "/faults"): _add_fault,
    ("DELETE", "/faults"): _clear_faults,
    ("POST", "/seed"): _seed,
    ("GET", "/holds"): lambda service, _: service.store.snapshot()["holds"],
    ("POST", "/holds"): _hold,
    ("POST", "/holds/release"): _release,
    ("DELETE", "/holds"): lambda service, _: _release(service, {}),
    ("GET", "/failures"): lambda service, _: service.store.snapshot()["failures"],
    ("POST", "/failures"): _plan_failure,
    ("DELETE", "/failures"): _clear_failures,
    ("POST", "/delete"): _delete,
    ("GET", "/credentials"): lambda service, _: {"refused": service.refused.listed()},
    ("GET", "/sessions"): lambda service, _: {"sessions": service.sessions.listed()},
    ("POST", "/credentials"): _refuse_credentials,
    ("GET", "/iam"): lambda service, _: {"policies": service.iam.listed()},
    ("POST", "/iam"): _attach_policies,
}


def is_admin(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(service: Service, method: str, path: str, raw: bytes) -> Response:
    route = ROUTES.get((method, path[len(PREFIX) :] or "/"))
    try:
        if route is None:
            raise AdminError(f"no admin route {method} {path}", status=404)
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise AdminError("the body must be a JSON object")
        return _json(200, route(service, body))
    except AdminError as error:
        return _json(error.status, {"error": str(error)})
    except (KeyError, ValueError, TypeError, re.error) as error:
        return _json(400, {"error": f"{type(error).__name__}: {error}"})


def _json(status: int, value: Any) -> Response:
    return Response(status=status, body=json.dumps(value).encode(), headers={"Content-Type": "application/json"})
