"""Which identity policies are attached to whom: access keys (IAM users) and roles.

Why per access key: tests give the operator's process a key of its own with
the shipped policy attached, while their own set-up calls use another key
that has none. A principal with no policy attached is allowed everything,
as the emulator always was; one with policies is authorized by them alone.
A key with policies is the IAM user named after it (user/<access key id>).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from personalize_emulator.iam_conditions import PolicyError
from personalize_emulator.iam_evaluation import Policy, parse


def is_role(principal: str) -> bool:
    return ":role/" in principal


def load_startup(entries: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """`PRINCIPAL=FILE` entries (an access key id or a role ARN, a policy file) -> documents per principal."""
    attached: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        principal, sep, path = entry.partition("=")
        if not sep or not principal or not path:
            raise PolicyError(f"--iam-policy {entry!r}: expected ACCESS_KEY_ID=FILE or ROLE_ARN=FILE")
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise PolicyError(f"--iam-policy {entry!r}: {error}") from error
        parse(document, Path(path).name)
        attached.setdefault(principal, []).append(document)
    return attached


class AttachedPolicies:
    """Thread-safe map from an access key id or a role ARN to its parsed policies; reset to the startup set."""

    def __init__(self, startup: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> None:
        self._lock = threading.Lock()
        self._startup = {principal: list(documents) for principal, documents in (startup or {}).items()}
        self._attached: dict[str, tuple[Policy, ...]] = {}
        self.reset()

    @staticmethod
    def _parsed(principal: str, documents: Sequence[Mapping[str, Any]]) -> tuple[Policy, ...]:
        stem = principal.rsplit("/", 1)[-1]
        return tuple(parse(document, f"{stem}-policy-{index + 1}") for index, document in enumerate(documents))

    def attach(self, principal: str, documents: Sequence[Mapping[str, Any]]) -> list[str]:
        """Replace the principal's policies (an empty list detaches them all); PolicyError when one is invalid."""
        policies = self._parsed(principal, documents)
        with self._lock:
            if policies:
                self._attached[principal] = policies
            else:
                self._attached.pop(principal, None)
        return [policy.name for policy in policies]

    def of(self, principal: str) -> tuple[Policy, ...] | None:
        """The principal's policies, or None when it has none (then everything is allowed)."""
        with self._lock:
            return self._attached.get(principal)

    def listed(self) -> dict[str, list[Mapping[str, Any]]]:
        with self._lock:
            return {p: [policy.document for policy in policies] for p, policies in sorted(self._attached.items())}

    def reset(self) -> None:
        attached = {principal: self._parsed(principal, docs) for principal, docs in self._startup.items() if docs}
        with self._lock:
            self._attached = attached
