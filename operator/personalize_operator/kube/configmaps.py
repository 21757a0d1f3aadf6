"""The ConfigMap (spec.configMapName): what applications may know without reading a Secret.

The event tracker's ARN, its name, the dataset group, the region and the account, never the trackingId.
Owned, written and healed exactly like the Secret (kube/secrets.py: controller ownerReference, data-hash
annotation, read-then-replace keeping everyone else's fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from personalize_operator.api.names import CONFIG_MAP_KEYS, DATA_HASH_ANNOTATION
from personalize_operator.kube.configmapsapi import ConfigMapsApi
from personalize_operator.kube.secrets import (
    DEFAULT_SHAPE,
    Calls,
    Owner,
    SecretConflict,
    SecretWrite,
    Shape,
    apply,
    data_hash,
    delete_if_ours,
    owned_metadata,
)


class ConfigMapConflict(SecretConflict):
    """A ConfigMap of that name exists and is not controlled by this EventTracker: never overwritten."""


@dataclass(frozen=True)
class Facts:
    """The non-secret facts of one tracker."""

    event_tracker_arn: str
    name: str
    dataset_group_arn: str
    region: str
    account_id: str

    def as_data(self) -> dict[str, str]:
        values = (self.event_tracker_arn, self.name, self.dataset_group_arn, self.region, self.account_id)
        return dict(zip(CONFIG_MAP_KEYS, values, strict=True))


def render(owner: Owner, name: str, facts: Facts, shape: Shape = DEFAULT_SHAPE) -> dict[str, Any]:
    """The ConfigMap body (pure)."""
    data = facts.as_data()
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": owned_metadata(owner, "ConfigMap", name, shape, {DATA_HASH_ANNOTATION: data_hash(data)}),
        "data": data,
    }


def config_map_calls(api: ConfigMapsApi) -> Calls:
    return Calls(
        "ConfigMap",
        api.read_namespaced_config_map,
        api.create_namespaced_config_map,
        api.replace_namespaced_config_map,
        api.delete_namespaced_config_map,
    )


@dataclass
class ConfigMapStore:
    """The reconciler's ConfigMap edge: ConfigMapConflict or SecretError, never ApiException."""

    api: ConfigMapsApi

    def write(self, owner: Owner, name: str, facts: Facts, shape: Shape = DEFAULT_SHAPE) -> SecretWrite:
        return apply(config_map_calls(self.api), render(owner, name, facts, shape), owner, conflict=ConfigMapConflict)

    def remove(self, owner: Owner, name: str) -> bool:
        return delete_if_ours(config_map_calls(self.api), owner.namespace, name, owner)
