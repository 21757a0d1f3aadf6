"""Is the EventTracker CRD the cluster serves the one this operator was generated with? (pure)

Why: Helm never upgrades a CRD in a chart's `crds/`, and a CRD left behind by
an older release prunes every field it does not know, silently. `make crds`
(crd.py) stamps each generated CRD with the operator version and a hash of
everything else in its spec: as annotations (for `doctor` and `kubectl`) and
as a last line of the schema's description, which the API server publishes
in its OpenAPI document, so the operator can read it with no permission on
CRDs. This module parses the stamps and judges them; crd_check.py does the
reading and the telling.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SCHEMA_HASH_ANNOTATION = "personalize.operators.dev/schema-hash"
OPERATOR_VERSION_ANNOTATION = "personalize.operators.dev/operator-version"
_STAMP_LINE = re.compile(
    r"^Generated for personalize-operator (?P<version>\S+), schema (?P<hash>sha256:[0-9a-f]{64})\.$"
)
_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Stamp:
    """What a generated CRD says about itself."""

    operator_version: str
    schema_hash: str

    def line(self) -> str:
        """The description's last line; parsed back by `from_description`."""
        return f"Generated for personalize-operator {self.operator_version}, schema {self.schema_hash}."

    def annotations(self) -> dict[str, str]:
        return {OPERATOR_VERSION_ANNOTATION: self.operator_version, SCHEMA_HASH_ANNOTATION: self.schema_hash}


def schema_hash(spec: Mapping[str, Any]) -> str:
    """sha256 of the CRD spec (before stamping) in canonical JSON: any change to schema, names, columns shows."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def from_description(description: str | None) -> Stamp | None:
    lines = (description or "").strip().splitlines()
    found = _STAMP_LINE.match(lines[-1].strip()) if lines else None
    return Stamp(found["version"], found["hash"]) if found else None


def from_annotations(annotations: Mapping[str, str] | None) -> Stamp | None:
    annotations = annotations or {}
    version, digest = annotations.get(OPERATOR_VERSION_ANNOTATION), annotations.get(SCHEMA_HASH_ANNOTATION)
    return Stamp(version, digest) if version and digest else None


class Freshness(StrEnum):
    CURRENT = "current"  # the same schema hash
    OLDER = "older"  # stamped by an older operator, or not stamped at all (before 0.2.0)
    NEWER = "newer"  # stamped by a newer operator (a rollback keeps the newer CRD: compatible by design)
    DIFFERENT = "different"  # another schema under a version that does not order (a development build)


@dataclass(frozen=True)
class Verdict:
    freshness: Freshness
    message: str

    @property
    def outdated(self) -> bool:
        """The CRD must be upgraded: it may prune fields this operator writes."""
        return self.freshness in (Freshness.OLDER, Freshness.DIFFERENT)


def _release(version: str) -> tuple[int, ...] | None:
    found = _RELEASE.match(version)
    return tuple(int(part) for part in found.groups()) if found else None


def judge(served: Stamp | None, own: Stamp, crd_name: str) -> Verdict:
    """How the served CRD relates to this operator's, and what to tell the operator's user."""
    upgrade = "upgrade it: helm upgrade with the chart of this version (docs/install.md#upgrade)"
    if served is None:
        return Verdict(
            Freshness.OLDER,
            f"CRD {crd_name} carries no schema stamp: it predates this operator ({own.operator_version}); {upgrade}",
        )
    if served.schema_hash == own.schema_hash:
        return Verdict(Freshness.CURRENT, f"CRD {crd_name} is the one of operator {own.operator_version}")
    ours, theirs = _release(own.operator_version), _release(served.operator_version)
    if ours is not None and theirs is not None and theirs < ours:
        return Verdict(
            Freshness.OLDER,
            f"CRD {crd_name} is from operator {served.operator_version}, older than this operator "
            f"({own.operator_version}); {upgrade}",
        )
    if ours is not None and theirs is not None and theirs > ours:
        return Verdict(
            Freshness.NEWER,
            f"CRD {crd_name} is from operator {served.operator_version}, newer than this operator "
            f"({own.operator_version}); kept after a rollback, it serves this operator's API version unchanged",
        )
    return Verdict(
        Freshness.DIFFERENT,
        f"CRD {crd_name} has schema {served.schema_hash} (operator {served.operator_version}), this operator "
        f"{own.operator_version} has {own.schema_hash}; {upgrade}",
    )
