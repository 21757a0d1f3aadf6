"""Every name the EventTracker API shows the world, in one place: group and kind, annotations, the
finalizer, Secret labels, AWS tag keys, condition types and phases.

Plain constants only (no pydantic, no botocore), so the pure decision and status modules can import
them; users, docs and tools rely on each string, so none is written anywhere else.
"""

from __future__ import annotations

from enum import StrEnum

GROUP = "personalize.operators.dev"
VERSION = "v1beta1"  # served and stored; v1alpha1 is still served, deprecated (api/crd.py)
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "EventTracker"
PLURAL = "eventtrackers"
SINGULAR = "eventtracker"
SHORT_NAMES = ("et",)
CATEGORIES = ("personalize",)

# Annotations a user sets on an EventTracker.
ADOPT_ANNOTATION = f"{GROUP}/adopt"  # adopt an existing tracker no live resource owns
RETRY_ANNOTATION = f"{GROUP}/retry"  # a new value: delete a CREATE FAILED tracker, create again
PAUSED_ANNOTATION = f"{GROUP}/paused"  # no AWS call and no Secret write until removed
# A new value: one pass at once that reads AWS itself (no status-board list, no resume); status.refreshHandled.
REFRESH_ANNOTATION = f"{GROUP}/refresh"
# Take the tracker whose cluster tag is exactly this identity (an explicit migration between clusters).
TAKE_OVER_ANNOTATION = f"{GROUP}/take-over-from-cluster"
# The annotations whose change must wake the resource at once (spec changes bump metadata.generation).
WATCHED_ANNOTATIONS = (
    ADOPT_ANNOTATION,
    RETRY_ANNOTATION,
    PAUSED_ANNOTATION,
    TAKE_OVER_ANNOTATION,
    REFRESH_ANNOTATION,
)
# Written by the operator: the tracker's ARN, so a restore that drops status still names its tracker.
ARN_ANNOTATION = f"{GROUP}/event-tracker-arn"

FINALIZER = f"{GROUP}/finalizer"
GUARD_FINALIZER = f"{GROUP}/rbac-guard"  # on the RoleBinding of a namespaced install (kube/rbac_guard.py)

# The tracking Secret's labels and annotations.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "personalize-operator"
# The owner's uid (36 characters, always a valid label value): what the Secret watch selects on.
OWNER_UID_LABEL = f"{GROUP}/owner-uid"
# The owner's name, for humans (`kubectl get secret -l ...`); set only when it fits a label value.
OWNER_LABEL = f"{GROUP}/event-tracker"
# sha256 of the Secret's data: a pod-template checksum or Reloader rolls pods when it changes.
DATA_HASH_ANNOTATION = f"{GROUP}/data-hash"
# Server-side label selector of the Secrets this operator writes (for a filtered list/watch).
SECRET_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{OWNER_UID_LABEL}"
SECRET_SUFFIX = "-tracking"  # default Secret name: <metadata.name>-tracking
TRACKING_ID_KEY = "trackingId"  # default key of the trackingId in the Secret (spec.secretKeys.trackingId)
TRACKER_ARN_KEY = "eventTrackerArn"  # default key of the ARN in the Secret (spec.secretKeys.eventTrackerArn)
# Labels and annotations users may not set through spec.secretLabels / spec.secretAnnotations: ours.
RESERVED_OBJECT_KEY_PREFIX = f"{GROUP}/"  # owner-uid, event-tracker, data-hash and any we add later
RESERVED_OBJECT_KEYS = (MANAGED_BY_LABEL,)
# The ConfigMap (spec.configMapName): the non-secret facts, never the trackingId; watched like the Secret.
CONFIG_MAP_KEYS = ("eventTrackerArn", "name", "datasetGroupArn", "region", "accountId")
# Workloads spec.rolloutRestartTargets may name, restarted as `kubectl rollout restart` does.
RESTART_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"  # kubectl's own pod-template annotation

# AWS tags: ours mark ownership; AWS's own are never set or removed by us.
RESERVED_TAG_PREFIX = f"{GROUP}/"
UID_TAG = f"{RESERVED_TAG_PREFIX}uid"
NAMESPACE_TAG = f"{RESERVED_TAG_PREFIX}namespace"
NAME_TAG = f"{RESERVED_TAG_PREFIX}name"
# The identity of the cluster whose EventTracker owns the tracker (docs/design.md, section 12).
CLUSTER_TAG = f"{RESERVED_TAG_PREFIX}cluster"
OWNERSHIP_TAG_KEYS = (UID_TAG, NAMESPACE_TAG, NAME_TAG, CLUSTER_TAG)
AWS_TAG_PREFIX = "aws:"

# Condition types: ours, then kstatus's (Flux, kpt and cli-utils read those first).
READY = "Ready"
SYNCED = "Synced"
RECONCILING = "Reconciling"
STALLED = "Stalled"
CONDITION_TYPES = (READY, SYNCED)


class Phase(StrEnum):
    """Coarse lifecycle of the resource, for humans and printer columns."""

    PENDING = "Pending"
    CREATING = "Creating"
    ACTIVE = "Active"
    FAILED = "Failed"
    DELETING = "Deleting"


class RestartResult(StrEnum):
    """What asking for one workload's rollout restart came to."""

    RESTARTED = "Restarted"
    MISSING = "Missing"  # no such workload: an Event, never a failure
    FORBIDDEN = "Forbidden"  # the operator may not patch it (the chart value rbac.rolloutRestart is off)
