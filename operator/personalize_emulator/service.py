"""One API request, from bytes to a Response, without sockets.

The order is AWS's: authentication, routing, the rate limit, throttling and other faults,
validation against the model, then the operation. Every call that names an
operation is counted, faulted or not, so tests can see retries.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass

from botocore.model import OperationModel

from personalize_emulator import errors, iam_authorization, iam_query, model, operations, protocol, sts, validation
from personalize_emulator.clock import Clock, SystemClock
from personalize_emulator.config import EmulatorConfig
from personalize_emulator.credentials import RefusedCredentials
from personalize_emulator.faults import FaultInjector, FaultKind
from personalize_emulator.iam_authorization import Principal
from personalize_emulator.iam_evaluation import Policy
from personalize_emulator.iam_policies import AttachedPolicies, load_startup
from personalize_emulator.protocol import Protocol, Response
from personalize_emulator.ratelimit import RateLimiter, rate_exceeded
from personalize_emulator.sessions import Sessions
from personalize_emulator.state import Caller, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # names in lower case
    body: bytes


class CallCounter:
    """Calls per operation since start or the last reset; thread safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def add(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class Service:
    """The emulated AWS side: store, faults and call counts behind both protocols."""

    def __init__(self, config: EmulatorConfig, *, clock: Clock | None = None) -> None:
        self.models = model.load()
        self.store = Store(config, clock=clock)
        self.faults = FaultInjector(config.seed)
        self.calls = CallCounter()
        self.refused = RefusedCredentials()
        self.sessions = Sessions()
        self.iam = AttachedPolicies(load_startup(config.iam_policy_files))
        self.clock = clock or SystemClock()
        self.limiter = RateLimiter(limit=lambda: self.store.config.tps_limit, now=time.monotonic)
        self._personalize = {name: self.models.operation(name) for name in operations.PERSONALIZE}
        self._events = {name: self.models.events.operation_model(name) for name in operations.PERSONALIZE_EVENTS}
        validation.precompile([*self._personalize.values(), *self._events.values()])

    def handle(self, request: Request) -> Response:
        if sts.is_query_request(request.method, request.path, request.headers):
            if _signed_for(request.headers) == iam_query.SERVICE:
                return iam_query.handle(
                    headers=request.headers,
                    body=request.body,
                    lookup=self.iam.of,
                    authenticate=self._authenticate_query,
                    base_context=self._simulation_context,
                    count=self.calls.add,
                )
            return sts.handle(
                headers=request.headers,
                body=request.body,
                account_id=self.store.config.account_id,
                refused=self.refused,
                count=self.calls.add,
                sessions=self.sessions,
                now=self.clock.now(),
                credential_duration=self.store.config.credential_duration,
                user_name=self.user_name,
            )
        if request.method == "POST" and request.path == "/" and "x-amz-target" in request.headers:
            return self._json(request)
        events_operation = self.models.events_route(request.method, request.path)
        if events_operation is not None:
            return self._rest_json(request, events_operation)
        error = errors.unknown_operation(f"No operation at {request.method} {request.path}.", status=404)
        return protocol.failure(Protocol.JSON, error)

    def _json(self, request: Request) -> Response:
        try:
            caller = self._caller(request)
            target = request.headers["x-amz-target"]
            prefix, _, name = target.partition(".")
            if prefix != self.models.target_prefix or name not in self._personalize:
                if name:
                    self.calls.add(name)
                raise errors.unknown_operation(f"Operation {target} is not supported by personalize-emulator.")
            return self._call(Protocol.JSON, self._personalize[name], operations.PERSONALIZE[name], caller, request)
        except errors.ApiError as error:
            return protocol.failure(Protocol.JSON, error)

    def _rest_json(self, request: Request, operation: OperationModel) -> Response:
        try:
            caller = self._caller(request)
            handler = operations.PERSONALIZE_EVENTS.get(operation.name)
            if handler is None:
                self.calls.add(operation.name)
                raise errors.unknown_operation(f"Operation {operation.name} is not supported by personalize-emulator.")
            return self._call(Protocol.REST_JSON, operation, handler, caller, request)
        except errors.ApiError as error:
            return protocol.failure(Protocol.REST_JSON, error)

    def _caller(self, request: Request) -> Caller:
        scope = protocol.parse_scope(request.headers, service=self.models.signing_name)
        if self.refused.is_refused(scope.access_key):
            raise errors.unrecognized_client()
        account = self.sessions.account_of(
            scope.access_key,
            request.headers.get("x-amz-security-token"),
            self.clock.now(),
            self.store.config.account_id,
            expired_code="ExpiredTokenException",
        )
        return Caller(account_id=account, region=scope.region)

    def user_name(self, access_key_id: str) -> str:
        """A key with policies attached is the IAM user named after it; every other key is one shared user."""
        return access_key_id if self.iam.of(access_key_id) is not None else sts.USER_NAME

    def _authenticate_query(self, access_key_id: str, token: str | None) -> None:
        if self.refused.is_refused(access_key_id):
            raise sts.invalid_client_token()
        try:
            self.sessions.account_of(
                access_key_id, token, self.clock.now(), self.store.config.account_id, expired_code="ExpiredToken"
            )
        except errors.ApiError as refusal:
            if refusal.code == "UnrecognizedClientException":
                raise sts.invalid_client_token() from refusal
            raise

    def _simulation_context(self, source_arn: str) -> dict[str, list[str]]:
        """The global keys of a simulated principal (IAM's simulator knows no region or session)."""
        parts = source_arn.split(":")
        account = parts[4] if len(parts) > 4 else self.store.config.account_id
        kind = "AssumedRole" if ":role/" in source_arn else "User"
        principal = Principal(source_arn, source_arn, account, kind, source_arn.rsplit("/", 1)[-1])
        context = iam_authorization.global_context(principal, "us-east-1", self.clock.now())
        context.pop("aws:RequestedRegion")
        return context

    def _principal(self, request: Request, caller: Caller) -> tuple[Principal, tuple[Policy, ...] | None]:
        """Who signed the request, and the policies IAM authorizes them with (None: no policy, all allowed)."""
        key = protocol.parse_scope(request.headers, service=self.models.signing_name).access_key
        session = self.sessions.find(key)
        if session is not None:
            principal = Principal(
                arn=session.assumed_role_arn,
                principal_arn=session.role_arn,
                account_id=session.account_id,
                kind="AssumedRole",
                user_id=f"{session.role_id}:{session.session_name}",
            )
            return principal, self.iam.of(session.role_arn)
        user = f"arn:{caller.partition}:iam::{caller.account_id}:user/{self.user_name(key)}"
        return Principal(user, user, caller.account_id, "User", sts.user_id(key)), self.iam.of(key)

    def _authorize(self, operation: str, params: dict[str, object], caller: Caller, request: Request) -> None:
        """AccessDeniedException when the signer's policies do not allow every resource the call touches."""
        principal, policies = self._principal(request, caller)
        if policies is None:
            return
        asked = iam_authorization.questions(
            operation,
            params,
            created=iam_authorization.created_arns(
                operation, params, caller.partition, caller.region, caller.account_id
            ),
            base_context=iam_authorization.global_context(principal, caller.region, self.clock.now()),
            resource_tags=lambda arn: self._resource_tags(caller, arn),
        )
        refused = iam_authorization.authorize(policies, asked)
        if refused is not None:
            raise iam_authorization.access_denied(principal, *refused)

    def _resource_tags(self, caller: Caller, arn: str) -> dict[str, str]:
        try:
            return self.store.tags(caller, arn)
        except errors.ApiError:
            return {}

    def _call(
        self,
        kind: Protocol,
        operation: OperationModel,
        handler: operations.Handler,
        caller: Caller,
        request: Request,
    ) -> Response:
        self.calls.add(operation.name)
        api = "personalize" if kind is Protocol.JSON else "personalize-events"
        if not self.limiter.admit(api, f"{caller.account_id}/{caller.region}", operation.name):
            raise rate_exceeded(api)
        delay = 0.0
        fault = self.faults.pick(operation.name)
        if fault is not None:
            log.info("injecting %s into %s", fault.kind, operation.name)
            if fault.kind is FaultKind.THROTTLE:
                raise errors.throttling()
            if fault.kind is FaultKind.INTERNAL:
                raise errors.internal_failure()
            if fault.kind is FaultKind.DROP:
                return Response(status=0, body=b"", drop=True)
            if fault.kind is FaultKind.ERROR:
                message = fault.message or f"{fault.code} injected by the emulator"
                raise errors.ApiError(fault.code, message, status=fault.status)
            delay = fault.seconds
        try:
            params = protocol.decode_body(request.body)
            validation.validate(operation.input_shape, params)
            if kind is Protocol.JSON:
                self._authorize(operation.name, params, caller, request)
            output = handler(self.store, caller, params)
            response = protocol.success(kind, protocol.shaped(operation.output_shape, output))
        except errors.ApiError as error:
            response = protocol.failure(kind, error)
        except Exception:  # an emulator bug must look like AWS's 500, not kill the connection
            log.exception("%s failed", operation.name)
            response = protocol.failure(kind, errors.internal_failure())
        response.delay = delay
        return response


def _signed_for(headers: dict[str, str]) -> str:
    """The service a SigV4 Authorization header is scoped to ("" when there is none)."""
    credential = headers.get("authorization", "").partition("Credential=")[2].split(",", 1)[0]
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else ""
