"""How pytest runs this suite: importlib imports (test files may share a basename) and a short bound per unit test."""

from __future__ import annotations

import pytest

from support import builders


def test_unit_tests_are_bounded_by_thirty_seconds_not_the_suites_600(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None and marker.args == (30,)
    assert request.config.getini("timeout") == "600"  # the end-to-end bound stays


def test_tests_are_imported_with_importlib_and_support_is_a_package(request: pytest.FixtureRequest) -> None:
    assert request.config.getoption("importmode") == "importlib"
    assert builders.__name__ == "support.builders"
