"""Namespaced installs: the operator's RoleBinding outlives the namespace's EventTrackers.

Why: deleting a namespace deletes everything in it at once, including the
RoleBinding that gives the operator its permissions there (the chart binds one
ClusterRole per watched namespace), while the EventTrackers wait on the
operator's finalizer to delete their AWS trackers. Without that binding the
operator can neither see nor finish them and the namespace stays Terminating
for ever. The namespace controller orders nothing but pods first, so the
operator puts a finalizer of its own on the RoleBinding while any EventTracker
exists in the namespace and removes it once the last one is gone. A RoleBinding
that is being deleted still grants (the authorizer reads it until it is really
gone), and the ClusterRole it names is not in the namespace. One guarded object
is the point: releasing it is the operator's last act there, authorized by the
object itself.

Stopping is the other way out: when the operator stops while its RoleBinding
is being deleted and some EventTracker there is not (the namespace was dropped
from watch.namespaces by a `helm upgrade`, not deleted: a namespace deletion
marks every EventTracker), it lets go. Enabled by the chart in namespaces mode
through PERSONALIZE_OPERATOR_RBAC_GUARD (settings.rbac_guard: the RoleBinding's
name); off otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import kopf
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from personalize_operator.api import names
from personalize_operator.runtime.settings import OperatorSettings, is_namespace_pattern

FINALIZER = names.GUARD_FINALIZER
REQUEST_TIMEOUT = (5.0, 30.0)
ATTEMPTS = 3
LIST_PAGE = 200

logger = logging.getLogger(__name__)


class Change(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    KEEP = "keep"


@dataclass(frozen=True)
class Trackers:
    """The EventTrackers of one namespace: all of them, and those not being deleted."""

    total: int
    live: int


def decide(*, has_finalizer: bool, deleting: bool, trackers: Trackers, stopping: bool = False) -> Change:
    """The finalizer wanted on the RoleBinding (pure).

    Running: present exactly while EventTrackers exist (none can be added to an object being deleted).
    Stopping: kept so a restart stays protected, except when no EventTracker is left or the binding is being
    deleted while some EventTracker is not (its namespace left the watch list: nobody would ever remove it).
    """
    if stopping:
        release = trackers.total == 0 or (deleting and trackers.live > 0)
        return Change.REMOVE if has_finalizer and release else Change.KEEP
    if trackers.total > 0:
        return Change.ADD if not (has_finalizer or deleting) else Change.KEEP
    return Change.REMOVE if has_finalizer else Change.KEEP


def should_sync(*, had_any: bool, has_any: bool, dirty: bool) -> bool:
    """Whether an EventTracker event calls for a sync of its namespace's RoleBinding (pure).

    Only when the namespace gains its first EventTracker or loses its last one (the finalizer follows
    "any exist"), or the last sync failed. Not on every new name: a sync lists the namespace's
    EventTrackers, and creating 1,000 at once made that 1,000 lists of up to 1,000 objects.
    """
    return dirty or had_any != has_any


def finalizer_patch(finalizers: list[str], resource_version: str, change: Change) -> list[dict[str, Any]]:
    """A JSON patch adding or removing our finalizer, applied only to the version read (pure)."""
    kept = [name for name in finalizers if name != FINALIZER]
    wanted = [*kept, FINALIZER] if change == Change.ADD else kept
    return [
        {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version},
        {"op": "add", "path": "/metadata/finalizers", "value": wanted},
    ]


class Guard:
    """Keeps the finalizer on one namespace's RoleBinding in line with its EventTrackers."""

    def __init__(self, name: str, rbac: client.RbacAuthorizationV1Api, custom: client.CustomObjectsApi) -> None:
        self.name = name
        self._rbac = rbac
        self._custom = custom
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def _trackers(self, namespace: str) -> Trackers:
        """Count them page by page (a namespace may hold thousands; nothing is kept)."""
        total = live = 0
        token: str | None = None
        while True:
            page = self._custom.list_namespaced_custom_object(
                names.GROUP,
                names.VERSION,
                namespace,
                names.PLURAL,
                limit=LIST_PAGE,
                _continue=token,
                _request_timeout=REQUEST_TIMEOUT,
            )
            items = page["items"]
            total += len(items)
            live += sum(1 for item in items if not item["metadata"].get("deletionTimestamp"))
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return Trackers(total=total, live=live)

    def _sync_binding(self, namespace: str, trackers: Trackers, stopping: bool) -> bool:
        """True when the RoleBinding is in line (or absent), False when a concurrent write kept winning."""
        for _ in range(ATTEMPTS):
            try:
                binding = self._rbac.read_namespaced_role_binding(
                    self.name, namespace, _request_timeout=REQUEST_TIMEOUT
                )
            except ApiException as error:
                if error.status == 404:
                    logger.debug("RBAC guard: no RoleBinding %s/%s", namespace, self.name)
                    return True
                raise
            meta = binding.metadata
            finalizers = list(meta.finalizers or [])
            change = decide(
                has_finalizer=FINALIZER in finalizers,
                deleting=meta.deletion_timestamp is not None,
                trackers=trackers,
                stopping=stopping,
            )
            if change == Change.KEEP:
                return True
            patch = finalizer_patch(finalizers, meta.resource_version, change)
            try:
                self._rbac.patch_namespaced_role_binding(self.name, namespace, patch, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as error:
                if error.status in (404, 409, 422):  # gone, or changed since read (the test op failed): read again
                    continue
                raise
            logger.info("RBAC guard: %s finalizer on RoleBinding %s/%s", change, namespace, self.name)
            return True
        return False

    def sync(self, namespace: str, *, stopping: bool = False) -> bool:
        """Bring the RoleBinding in line; False (logged, never raised) when the API refused or did not answer."""
        with self._locks[namespace]:
            try:
                return self._sync_binding(namespace, self._trackers(namespace), stopping)
            except ApiException as error:
                reason = str(error.reason or "").strip()
                logger.error(
                    "RBAC guard: Kubernetes API answered %s %s for %s/%s", error.status, reason, namespace, self.name
                )
            except urllib3.exceptions.HTTPError as error:
                logger.error(
                    "RBAC guard: no answer from the Kubernetes API for %s (%s)", namespace, type(error).__name__
                )
            return False


@dataclass
class Watched:
    """The guard's running state, kept in kopf's memo: which EventTrackers each namespace has shown us."""

    guard: Guard
    namespaces: tuple[str, ...]
    seen: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dirty: set[str] = field(default_factory=set)


MEMO_KEY = "rbac_guard"


def guarded_namespaces(setting: str | None, namespaces: list[str]) -> tuple[str, ...]:
    """Where the guard runs: only with a name to guard and exact namespaces (a namespaced install) (pure)."""
    if not setting or not namespaces or any(is_namespace_pattern(namespace) for namespace in namespaces):
        return ()
    return tuple(namespaces)


@kopf.on.startup()
def start_guard(memo: kopf.Memo, **_: Any) -> None:
    """Enable the guard for a namespaced install and bring every watched namespace in line once."""
    settings: OperatorSettings = memo.get("settings") or OperatorSettings()
    namespaces = guarded_namespaces(settings.rbac_guard, settings.namespaces)
    if not namespaces:
        return
    config.load_config()
    guard = Guard(settings.rbac_guard, client.RbacAuthorizationV1Api(), client.CustomObjectsApi())
    watched = Watched(guard=guard, namespaces=namespaces)
    for namespace in namespaces:
        if not guard.sync(namespace):
            watched.dirty.add(namespace)
    memo[MEMO_KEY] = watched
    logger.info("RBAC guard on for RoleBinding %s in %s", guard.name, ", ".join(namespaces))


def guard_on(memo: kopf.Memo, **_: Any) -> bool:
    """kopf's filter for `follow_trackers`: with the guard off (cluster-wide installs), kopf never invokes it,
    so an EventTracker's event costs one handler, not two (in a burst of 200, some 1,300 events)."""
    return MEMO_KEY in memo


@kopf.on.event(names.GROUP, names.VERSION, names.PLURAL, when=guard_on)
async def follow_trackers(
    event: Mapping[str, Any], namespace: str | None, name: str | None, memo: kopf.Memo, **_: Any
) -> None:
    """An EventTracker appeared or vanished: look at its namespace again when that can change the finalizer.

    Async, and a thread only for a sync: every EventTracker event passes here, and most need nothing.
    """
    watched: Watched | None = memo.get(MEMO_KEY)
    if watched is None or namespace not in watched.namespaces or not name:
        return
    seen = watched.seen[namespace]
    had_any = bool(seen)
    if event.get("type") == "DELETED":
        seen.discard(name)
    else:
        seen.add(name)
    if not should_sync(had_any=had_any, has_any=bool(seen), dirty=namespace in watched.dirty):
        return
    if await asyncio.to_thread(watched.guard.sync, namespace):
        watched.dirty.discard(namespace)
    else:
        watched.dirty.add(namespace)


@kopf.on.cleanup()
def release_on_stop(memo: kopf.Memo, **_: Any) -> None:
    """Stopping: let go where nobody else would (see decide)."""
    watched: Watched | None = memo.get(MEMO_KEY)
    if watched is None:
        return
    for namespace in watched.namespaces:
        watched.guard.sync(namespace, stopping=True)
