"""Opaque, tamper-evident nextTokens.

A token records the position after the last item returned and the query it
belongs to, signed with a per-process key: a token that was altered, comes
from another query or from a previous emulator process is
InvalidNextTokenException, like AWS answers for a token it did not issue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Generic, TypeVar

from personalize_emulator import errors

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None


class Paginator:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def page(self, items: list[tuple[int, T]], *, query: str, token: str | None, size: int | None) -> Page[T]:
        """Slice `items` (sorted `(position, item)` pairs) after the token's position."""
        after = self._decode(token, query) if token is not None else -1
        remaining = [(position, item) for position, item in items if position > after]
        limit = size or DEFAULT_PAGE_SIZE
        chunk = remaining[:limit]
        more = len(remaining) > limit
        next_token = self._encode(chunk[-1][0], query) if more and chunk else None
        return Page(items=[item for _, item in chunk], next_token=next_token)

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:32]

    def _encode(self, after: int, query: str) -> str:
        payload = json.dumps({"after": after, "query": query}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._sign(payload)

    def _decode(self, token: str, query: str) -> int:
        body, _, signature = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as error:
            raise errors.invalid_next_token() from error
        if not hmac.compare_digest(self._sign(payload), signature):
            raise errors.invalid_next_token()
        data = json.loads(payload)
        if data.get("query") != query:
            raise errors.invalid_next_token()
        return int(data["after"])
