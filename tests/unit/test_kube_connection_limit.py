"""How many API server connections kopf may hold (kubesession.connection_limit), row by row."""

from __future__ import annotations

import pytest

from personalize_operator.kube.session import SCANNING_WATCHES, connection_limit
from personalize_operator.runtime.settings import is_namespace_pattern


@pytest.mark.parametrize(
    ("namespaces", "scanning", "expected"),
    [
        ([], False, 20 + 1),  # one cluster-wide watch
        ([], True, 20 + 1 + SCANNING_WATCHES),  # and the CRD and Namespace watches
        (["a"], False, 20 + 1),
        (["a", "b", "c"], False, 20 + 3),  # a watch per namespace
        (["a", "a"], False, 20 + 1),  # named twice, watched once
        (["a", "b"], True, 20 + 2 + SCANNING_WATCHES),
        (["team-*"], True, None),  # as many watches as matching namespaces: unknown, so unbounded
        (["a", "!kube-system"], True, None),
    ],
)
def test_connection_limit(namespaces: list[str], scanning: bool, expected: int | None) -> None:
    assert connection_limit(namespaces, scanning=scanning, requests=20) == expected


@pytest.mark.parametrize(
    ("namespace", "pattern"),
    [("team-a", False), ("team-*", True), ("team-?", True), ("team-[ab]", True), ("!kube-system", True)],
)
def test_namespace_patterns(namespace: str, pattern: bool) -> None:
    assert is_namespace_pattern(namespace) is pattern
