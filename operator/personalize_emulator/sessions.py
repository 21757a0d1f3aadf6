"""Temporary credentials issued by STS AssumeRole, and the account each access key acts in.

Why: an operator serving many teams assumes one role per team, and every
call made with the role's credentials acts in the role's account: its ARNs
carry that account, and another account's resources are not found. So the
caller's account comes from the access key: keys this emulator issued act in
their role's account until they expire (then ExpiredToken), any other key
acts in the configured account, as the emulator always did.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field

from personalize_emulator import errors

DEFAULT_DURATION = 3600  # AWS's default DurationSeconds
EXPIRED_MESSAGE = "The security token included in the request is expired"
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Session:
    """One AssumeRole answer: the credentials and who they stand for."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: float  # seconds since the epoch
    account_id: str
    role_arn: str
    session_name: str
    external_id: str | None
    issued_at: float

    @property
    def role_name(self) -> str:
        return self.role_arn.split(":role/", 1)[-1].rsplit("/", 1)[-1]

    @property
    def assumed_role_arn(self) -> str:
        partition = self.role_arn.split(":")[1]
        return f"arn:{partition}:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"

    @property
    def role_id(self) -> str:
        return "AROA" + self.access_key_id[4:20]

    def admin_view(self) -> dict[str, object]:
        """For tests: who assumed what and until when (never the secret or the token)."""
        return {
            "accessKeyId": self.access_key_id,
            "roleArn": self.role_arn,
            "roleSessionName": self.session_name,
            "externalId": self.external_id,
            "accountId": self.account_id,
            "issuedAt": self.issued_at,
            "expiration": self.expiration,
        }


class Sessions:
    """Thread-safe registry of issued credentials; emptied by reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, Session] = {}

    def issue(
        self, *, role_arn: str, session_name: str, external_id: str | None, duration: float, now: float
    ) -> Session:
        session = Session(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30)[:40],
            session_token=secrets.token_urlsafe(96),
            expiration=now + duration,
            account_id=role_arn.split(":")[4],
            role_arn=role_arn,
            session_name=session_name,
            external_id=external_id,
            issued_at=now,
        )
        with self._lock:
            self._by_key[session.access_key_id] = session
        return session

    def find(self, access_key_id: str) -> Session | None:
        with self._lock:
            return self._by_key.get(access_key_id)

    def account_of(
        self, access_key_id: str, token: str | None, now: float, default_account: str, *, expired_code: str
    ) -> str:
        """The account a request acts in; raises ExpiredToken(Exception) or an invalid-token error."""
        session = self.find(access_key_id)
        if session is None:
            if access_key_id.startswith("ASIA"):  # a temporary key this emulator never issued
                raise errors.unrecognized_client()
            return default_account
        if token != session.session_token:
            raise errors.unrecognized_client()
        if now >= session.expiration:
            raise errors.ApiError(
                expired_code, EXPIRED_MESSAGE, status=400 if expired_code.endswith("Exception") else 403
            )
        return session.account_id

    def listed(self) -> list[dict[str, object]]:
        with self._lock:
            return [s.admin_view() for s in sorted(self._by_key.values(), key=lambda s: s.issued_at)]

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()
