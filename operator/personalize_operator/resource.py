"""From a Kubernetes EventTracker body to the reconciler's inputs (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from personalize_operator.decide import ADOPT_ANNOTATION, RETRY_ANNOTATION, Desired, Recorded
from personalize_operator.model import EventTrackerSpec


def desired_from(body: Mapping[str, Any]) -> Desired:
    """Parse and default the spec; raises pydantic.ValidationError on a spec the CRD should have refused."""
    meta = body["metadata"]
    spec = EventTrackerSpec.model_validate(body.get("spec") or {})
    annotations = meta.get("annotations") or {}
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
        adopt=str(annotations.get(ADOPT_ANNOTATION, "")).lower() == "true",
        retry_token=str(annotations.get(RETRY_ANNOTATION, "")),
    )


def recorded_from(body: Mapping[str, Any]) -> Recorded:
    status = body.get("status") or {}
    generation = status.get("observedGeneration")
    return Recorded(
        arn=status.get("eventTrackerArn") or "",
        phase=status.get("phase") or "",
        observed_generation=int(generation) if generation is not None else None,
        retry_token=status.get("retryHandled") or "",
        secret_name=status.get("secretName") or "",
    )


def previous_conditions(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(c) for c in (body.get("status") or {}).get("conditions") or []]
