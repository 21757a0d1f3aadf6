"""The Kubernetes permissions the operator needs: the Helm chart's rules, as data.

Why here too: `doctor` asks the API server about each of them, and
tests/unit/test_tools_doctor.py fails when this list and the chart's
`personalize-operator.rules` (templates/_helpers.tpl) disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalize_operator.api import names


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
    Permission(
        names.GROUP, names.PLURAL, ("get", "list", "watch", "patch"), "watch and read EventTrackers, set the finalizer"
    ),
    Permission(names.GROUP, f"{names.PLURAL}/status", ("patch",), "write status"),
    Permission("", "events", ("create",), "report phase changes and errors as Events"),
    Permission("", "secrets", ("get", "create", "update", "delete"), "write the trackingId Secret"),
)
# With secretWatch.enabled (PERSONALIZE_OPERATOR_SECRET_WATCH) the operator also lists and watches Secrets.
SECRET_WATCH_PERMISSION = Permission("", "secrets", ("list", "watch"), "repair deleted or edited Secrets at once")


def needed(*, secret_watch: bool) -> tuple[Permission, ...]:
    """The rules the operator needs, with or without the Secret watch."""
    return (*OPERATOR_PERMISSIONS, SECRET_WATCH_PERMISSION) if secret_watch else OPERATOR_PERMISSIONS
