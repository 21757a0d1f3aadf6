"""The chart's alert rules as tests read them: the rule file, each alert, its `for` in seconds.

One reader for promtool's tests (tests/prometheus/) and the end-to-end Prometheus run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from support.chart import CHART

RULES_FILE = CHART / "files" / "prometheus-rules.yaml"
RUNBOOK_BASE = "https://github.com/personalize-operator/personalize-operator/blob/main/docs/runbook.md"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def alerts(path: Path = RULES_FILE) -> dict[str, dict[str, Any]]:
    """Every alerting rule of the file, by alert name."""
    groups = yaml.safe_load(path.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def seconds(duration: str) -> float:
    """A Prometheus duration (`1m`, `1h30m`, `500ms`) in seconds."""
    parts = re.findall(r"(\d+)(ms|[smhdwy])", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(int(number) * _UNITS[unit] for number, unit in parts)
