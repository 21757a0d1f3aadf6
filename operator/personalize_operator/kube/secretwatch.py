"""The Secrets (and ConfigMaps) we wrote heal in seconds: a label-selected watch wakes their owner when one is
deleted or edited.

The selector goes to the API server (kopf's label filters are client-side),
so the cluster's other Secrets never reach this process. Our own writes carry
a data-hash annotation that matches their data, so they wake nobody; a
deletion, or data edited by someone else, wakes the owning EventTracker,
whose next pass writes the Secret back.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubernetes import watch
from kubernetes.client.rest import ApiException

from personalize_operator.api.names import DATA_HASH_ANNOTATION, SECRET_SELECTOR
from personalize_operator.kube.secrets import data_hash, owner_uid
from personalize_operator.kube.secretsapi import SecretsApi
from personalize_operator.runtime import metrics
from personalize_operator.runtime.settings import is_namespace_pattern

log = logging.getLogger(__name__)

WATCH_SECONDS = 300  # the server closes each watch after this; we list and watch again
RETRY_SECONDS = 5.0
LIST_PAGE = 200  # Secrets per list page


def needs_repair(event_type: str, annotations: Mapping[str, str] | None, data: Mapping[str, str] | None) -> bool:
    """A deleted Secret, or one whose data no longer matches the hash we wrote (pure)."""
    if event_type == "DELETED":
        return True
    recorded = (annotations or {}).get(DATA_HASH_ANNOTATION)
    return recorded != data_hash(data or {})


def namespace_matches(namespace: str, patterns: Sequence[str]) -> bool:
    """kopf's namespace patterns: globs to include, '!glob' to exclude; none given means every namespace."""
    includes = [p for p in patterns if not p.startswith("!")]
    excludes = [p[1:] for p in patterns if p.startswith("!")]
    included = not includes or any(fnmatch.fnmatchcase(namespace, p) for p in includes)
    return included and not any(fnmatch.fnmatchcase(namespace, p) for p in excludes)


def exact_namespaces(patterns: Sequence[str]) -> list[str] | None:
    """The namespaces to watch one by one, or None when a cluster-wide watch is needed (globs, exclusions)."""
    if not patterns or any(is_namespace_pattern(p) for p in patterns):
        return None
    return list(patterns)


# The list methods of each kind watched, cluster-wide and in one namespace (CoreV1Api's names).
LISTERS = {
    "Secret": ("list_secret_for_all_namespaces", "list_namespaced_secret"),
    "ConfigMap": ("list_config_map_for_all_namespaces", "list_namespaced_config_map"),
}


class SecretWatch:
    """One thread per watched scope; `stop` ends them at the next event or timeout.

    `kind` Secret (a SecretsApi) or ConfigMap (a ConfigMapsApi): both carry our labels and data-hash annotation.
    """

    def __init__(
        self, core: SecretsApi | Any, patterns: Sequence[str], wake: Callable[[str], bool], kind: str = "Secret"
    ) -> None:
        self._core = core
        self._kind = kind
        self._patterns = list(patterns)
        self._wake = wake
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        scopes: list[str | None] = list(exact_namespaces(self._patterns) or [None])
        where = ", ".join(s or "all namespaces" for s in scopes)
        log.info("watching the operator's %ss (%s) in %s", self._kind, SECRET_SELECTOR, where)
        for scope in scopes:
            name = f"{self._kind.lower()}-watch-{scope or 'all'}"
            thread = threading.Thread(target=self._run, args=(scope,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def _run(self, namespace: str | None) -> None:
        while not self._stop.is_set():
            try:
                self._watch(namespace)
            except ApiException as error:
                metrics.WATCH_ERRORS.labels(watch=self._watch_label).inc()
                log.warning(
                    "%s watch (%s) failed: %s %s; again in %ss",
                    self._kind,
                    namespace or "all",
                    error.status,
                    error.reason,
                    RETRY_SECONDS,
                )
                self._stop.wait(RETRY_SECONDS)
            except Exception as error:  # a broken connection must not end self-healing for good
                metrics.WATCH_ERRORS.labels(watch=self._watch_label).inc()
                log.warning(
                    "%s watch (%s) failed: %s; again in %ss", self._kind, namespace or "all", error, RETRY_SECONDS
                )
                self._stop.wait(RETRY_SECONDS)

    def _lister(self, namespace: str | None) -> tuple[Callable[..., Any], tuple[str, ...]]:
        """The bound list method itself (never a wrapper): kubernetes' Watch reads the type to decode from its
        docstring, and a lambda would make it hand back plain dicts."""
        everywhere, one = LISTERS[self._kind]
        if namespace is None:
            return getattr(self._core, everywhere), ()
        return getattr(self._core, one), (namespace,)

    @property
    def _watch_label(self) -> str:
        return "secrets" if self._kind == "Secret" else "configmaps"

    def _list(self, namespace: str | None) -> str:
        """Look at every Secret of ours page by page; the list's resourceVersion, to watch from.

        Pages, and nothing kept: the list is not held for the watch's five minutes (with 1,000
        Secrets that was 10 MB of resident memory for nothing).
        """
        lister, args = self._lister(namespace)
        token: str | None = None
        while True:
            page = lister(*args, label_selector=SECRET_SELECTOR, limit=LIST_PAGE, _continue=token, _request_timeout=60)
            for item in page.items:
                self._consider("ADDED", item)
            token = page.metadata._continue
            if not token:
                return str(page.metadata.resource_version)

    def _watch(self, namespace: str | None) -> None:
        lister, args = self._lister(namespace)
        version = self._list(namespace)
        stream = watch.Watch()
        for event in stream.stream(
            lister,
            *args,
            label_selector=SECRET_SELECTOR,
            resource_version=version,
            timeout_seconds=WATCH_SECONDS,
            _request_timeout=WATCH_SECONDS + 30,
        ):
            if self._stop.is_set():
                stream.stop()
                return
            self._consider(str(event["type"]), event["object"])

    def _consider(self, event_type: str, secret: Any) -> None:
        meta = secret.metadata
        if not namespace_matches(meta.namespace, self._patterns):
            return
        uid = owner_uid(meta)
        if uid and needs_repair(event_type, meta.annotations, secret.data) and self._wake(uid):
            metrics.SECRET_WAKEUPS.inc()
            log.info(
                "%s %s/%s was %s: reconciling its EventTracker",
                self._kind,
                meta.namespace,
                meta.name,
                "deleted" if event_type == "DELETED" else "changed",
            )
