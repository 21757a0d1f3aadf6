"""Configuration is validated once at start-up and errors name what to fix."""

from __future__ import annotations

import pytest

from personalize_operator.cli import load_settings
from personalize_operator.runtime.settings import LogFormat, OperatorSettings, rate_bounds


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONALIZE_OPERATOR_NAMESPACES", "shop, search")
    monkeypatch.setenv("PERSONALIZE_OPERATOR_LOG_FORMAT", "json")
    settings = load_settings({"metrics_port": 0, "namespaces": None})
    assert settings.namespaces == ["shop", "search"]
    assert settings.log_format == LogFormat.JSON and settings.metrics_port == 0


def test_default_is_every_namespace_with_liveness_and_metrics() -> None:
    settings = load_settings({})
    assert settings.namespaces == [] and settings.liveness_endpoint.endswith("/healthz") and settings.metrics_port


def test_a_bad_value_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONALIZE_OPERATOR_MAX_WORKERS", "0")
    with pytest.raises(SystemExit, match="PERSONALIZE_OPERATOR_MAX_WORKERS"):
        load_settings({})


def test_scanning_off_refuses_namespace_patterns_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONALIZE_OPERATOR_SCANNING", "false")
    with pytest.raises(SystemExit, match=r"PERSONALIZE_OPERATOR_SCANNING: .*team-\*"):
        load_settings({"namespaces": ["shop", "team-*"]})


def test_scanning_off_takes_exact_namespaces_and_defaults_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings({"namespaces": ["!solo-*"]}).scanning is True
    monkeypatch.setenv("PERSONALIZE_OPERATOR_SCANNING", "false")
    assert load_settings({"namespaces": ["shop", "search"]}).scanning is False


def test_the_call_budget_s_floor_may_not_exceed_its_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (load_settings({}).aws_call_rate_ceiling, load_settings({}).aws_call_rate_floor) == (50.0, 1.0)
    monkeypatch.setenv("PERSONALIZE_OPERATOR_AWS_CALL_RATE_CEILING", "5")
    monkeypatch.setenv("PERSONALIZE_OPERATOR_AWS_CALL_RATE_FLOOR", "6")
    with pytest.raises(SystemExit, match="PERSONALIZE_OPERATOR_AWS_CALL_RATE_FLOOR"):
        load_settings({})


class TestTheOldFixedRate:
    """0.2.0's PERSONALIZE_OPERATOR_AWS_CALLS_PER_SECOND survives an upgrade as the budget's ceiling."""

    @pytest.mark.parametrize(
        ("ceiling", "floor", "old_rate", "expected"),
        [
            (None, None, None, (50.0, 1.0)),  # nothing set: the defaults
            (None, None, 8.0, (8.0, 1.0)),  # the old name alone is the ceiling
            (None, None, 0.5, (0.5, 0.5)),  # ...and a default floor above it comes down to it
            (20.0, None, 8.0, (20.0, 1.0)),  # the new name wins
            (None, 2.0, 8.0, (8.0, 2.0)),  # a floor that was set stays
        ],
    )
    def test_rate_bounds(
        self, ceiling: float | None, floor: float | None, old_rate: float | None, expected: tuple[float, float]
    ) -> None:
        assert (
            rate_bounds(ceiling=ceiling, floor=floor, old_rate=old_rate, default_ceiling=50.0, default_floor=1.0)
            == expected
        )

    def test_the_old_environment_variable_sets_the_ceiling(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PERSONALIZE_OPERATOR_AWS_CALLS_PER_SECOND", "0.5")
        settings = OperatorSettings()
        assert (settings.aws_call_rate_ceiling, settings.aws_call_rate_floor) == (0.5, 0.5)

    def test_a_floor_above_the_old_rate_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PERSONALIZE_OPERATOR_AWS_CALLS_PER_SECOND", "0.5")
        monkeypatch.setenv("PERSONALIZE_OPERATOR_AWS_CALL_RATE_FLOOR", "2")
        with pytest.raises(ValueError, match="aws_call_rate_floor"):
            OperatorSettings()
