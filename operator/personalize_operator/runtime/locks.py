"""One pass at a time per resource.

`Gates` keeps one lock per uid so that a deletion (kopf's delete handler)
never observes AWS while a pass is halfway through a create: without it a
tracker created in that window would be leaked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Gates:
    """One lock per resource uid: a pass, or a deletion step, holds it."""

    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def held(self, uid: str) -> Iterator[None]:
        with self._lock:
            lock = self._locks.setdefault(uid, threading.Lock())
        with lock:
            yield

    def forget(self, uid: str) -> None:
        with self._lock:
            self._locks.pop(uid, None)
