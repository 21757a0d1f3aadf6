"""From a Kubernetes EventTracker body to the reconciler's inputs (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from personalize_operator.api import arns
from personalize_operator.api.model import EventTrackerSpec
from personalize_operator.api.names import (
    ADOPT_ANNOTATION,
    ARN_ANNOTATION,
    FINALIZER,
    PAUSED_ANNOTATION,
    READY,
    REFRESH_ANNOTATION,
    RETRY_ANNOTATION,
    SECRET_SUFFIX,
    TAKE_OVER_ANNOTATION,
    WATCHED_ANNOTATIONS,
)
from personalize_operator.reconciler import conditions
from personalize_operator.reconciler.decide import Desired, Recorded


def _flag(annotations: Mapping[str, Any], key: str) -> bool:
    return str(annotations.get(key, "")).strip().lower() == "true"


def desired_from(body: Mapping[str, Any], *, cluster: str = "") -> Desired:
    """Parse and default the spec; raises pydantic.ValidationError on a spec the CRD should have refused."""
    meta = body["metadata"]
    spec = EventTrackerSpec.model_validate(body.get("spec") or {})
    annotations = meta.get("annotations") or {}
    keys = spec.effective_secret_keys
    return Desired(
        uid=meta["uid"],
        namespace=meta["namespace"],
        name=meta["name"],
        generation=int(meta.get("generation") or 0),
        tracker_name=spec.effective_name(meta["name"]),
        dataset_group_arn=spec.dataset_group_arn,
        region=spec.region,
        secret_name=spec.effective_secret_name(meta["name"]),
        tags={tag.tag_key: tag.tag_value for tag in spec.tags or []},
        retain=str(spec.deletion_policy) == "Retain",
        adopt=_flag(annotations, ADOPT_ANNOTATION),
        paused=_flag(annotations, PAUSED_ANNOTATION),
        retry_token=str(annotations.get(RETRY_ANNOTATION, "")),
        refresh_token=str(annotations.get(REFRESH_ANNOTATION, "")),
        cluster=cluster,
        take_over_from=str(annotations.get(TAKE_OVER_ANNOTATION, "")).strip(),
        secret_keys=(keys.tracking_id, keys.event_tracker_arn),
        secret_labels=dict(spec.secret_labels),
        secret_annotations=dict(spec.secret_annotations),
        config_map_name=spec.config_map_name or "",
        restart_targets=tuple((str(t.kind), t.name) for t in spec.rollout_restart_targets),
    )


def desired_for_deletion(body: Mapping[str, Any], *, cluster: str = "") -> Desired:
    """What deletion needs even when the spec no longer parses (e.g. after a CRD change): never blocks a delete.

    The tracker is then found by the ARN in status; the region comes from that ARN.
    """
    meta = body["metadata"]
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    arn = str(status.get("eventTrackerArn") or "")
    dataset_group_arn = str(spec.get("datasetGroupArn") or "")
    region = arns.region_of(arn or dataset_group_arn)
    return Desired(
        uid=meta["uid"],
        namespace=meta["namespace"],
        name=meta["name"],
        generation=int(meta.get("generation") or 0),
        tracker_name=str(spec.get("name") or status.get("trackerName") or meta["name"]),
        dataset_group_arn=dataset_group_arn,
        region=region,
        secret_name=str(spec.get("secretName") or f"{meta['name']}{SECRET_SUFFIX}"),
        config_map_name=str(spec.get("configMapName") or status.get("configMapName") or ""),
        retain=str(spec.get("deletionPolicy") or "Delete") == "Retain",
        cluster=cluster,
    )


def recorded_from(body: Mapping[str, Any]) -> Recorded:
    status = body.get("status") or {}
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    generation = status.get("observedGeneration")
    ready = conditions.find(status.get("conditions") or [], READY)
    return Recorded(
        # A restore that drops status keeps the annotation the operator wrote: it still names the tracker.
        arn=status.get("eventTrackerArn") or annotations.get(ARN_ANNOTATION) or "",
        phase=status.get("phase") or "",
        reason=str(ready.get("reason") or ""),
        observed_generation=int(generation) if generation is not None else None,
        retry_token=status.get("retryHandled") or "",
        refresh_token=str(status.get("refreshHandled") or ""),
        secret_name=status.get("secretName") or "",
        create_requested=bool(status.get("createRequested")),
        owner_cluster=str(status.get("ownerCluster") or ""),
        config_map_name=str(status.get("configMapName") or ""),
        pending_restarts=tuple(
            (str(t.get("kind") or ""), str(t.get("name") or "")) for t in status.get("pendingRestarts") or []
        ),
    )


def has_finalizer(body: Mapping[str, Any]) -> bool:
    """Nothing may be created in AWS before the finalizer guarantees it is cleaned up again."""
    return FINALIZER in ((body.get("metadata") or {}).get("finalizers") or [])


def previous_conditions(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(c) for c in (body.get("status") or {}).get("conditions") or []]


def wake_fingerprint(body: Mapping[str, Any]) -> tuple[Any, ...]:
    """What, when it changes, calls for an immediate pass: the spec (generation) and our annotations."""
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    return (meta.get("generation"), *(annotations.get(key) for key in WATCHED_ANNOTATIONS))


def arn_annotation(body: Mapping[str, Any], status_patch: Mapping[str, Any]) -> dict[str, str | None] | None:
    """The annotation patch that keeps the ARN annotation equal to status.eventTrackerArn; None: nothing to do."""
    if "eventTrackerArn" not in status_patch:
        return None
    wanted = status_patch["eventTrackerArn"] or None
    current = ((body.get("metadata") or {}).get("annotations") or {}).get(ARN_ANNOTATION)
    return None if current == wanted else {ARN_ANNOTATION: wanted}
