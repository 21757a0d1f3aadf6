"""Access key ids the emulator refuses, so tests can see what clients do with bad credentials.

Why: signatures are not verified (the emulator holds no secrets), so a
refusal has to be asked for. Every protocol (Personalize, PutEvents, STS)
checks here and answers as AWS does for an unknown key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class RefusedCredentials:
    """A thread-safe set of access key ids answered as invalid; empty at start and after reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused: frozenset[str] = frozenset()

    def refuse(self, access_key_ids: Iterable[str]) -> list[str]:
        """Replace the refused set; returns it sorted."""
        with self._lock:
            self._refused = frozenset(access_key_ids)
            return sorted(self._refused)

    def listed(self) -> list[str]:
        with self._lock:
            return sorted(self._refused)

    def is_refused(self, access_key_id: str) -> bool:
        with self._lock:
            return access_key_id in self._refused

    def clear(self) -> None:
        self.refuse(())
