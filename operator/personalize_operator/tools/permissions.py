"""The Kubernetes permissions the operator needs: the Helm chart's rules, as data.

Why here too: `doctor` asks the API server about each of them, and
tests/unit/test_tools_doctor.py fails when this list and the chart's
`personalize-operator.rules` (templates/_helpers.tpl) disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalize_operator import model


@dataclass(frozen=True)
class Permission:
    group: str
    resource: str
    verbs: tuple[str, ...]
    why: str

    @property
    def kind(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


OPERATOR_PERMISSIONS = (
    Permission(model.GROUP, model.PLURAL, ("list", "watch", "patch"), "watch EventTrackers, set the finalizer"),
    Permission(model.GROUP, f"{model.PLURAL}/status", ("patch",), "write status"),
    Permission("", "events", ("create",), "report phase changes and errors as Events"),
    Permission("", "secrets", ("get", "create", "update", "delete"), "write the trackingId Secret"),
)
