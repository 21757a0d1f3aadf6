"""Pictures of the Grafana dashboard's panels, drawn from a run's Prometheus data (docs/observability.md).

Why: the docs show what the person on call sees, from data a real run produced,
not a mock-up. One PNG per dashboard row, one plot per panel, one line per
series (named by the target's legendFormat), the run's events marked.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend is chosen first

Points = list[tuple[float, float]]


@dataclass
class Panel:
    title: str
    lines: list[tuple[str, Points]] = field(default_factory=list)


@dataclass
class Row:
    title: str
    panels: list[Panel] = field(default_factory=list)


def legend(template: str, labels: dict[str, str], fallback: str) -> str:
    """Grafana's legendFormat: `{{label}}` replaced by the series' label value."""
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda match: labels.get(match.group(1), ""), template or "").strip()
    return text or fallback


def rows(dashboard: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(row title, its panels) in dashboard order; panels before any row go under the dashboard's title."""
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found.append((panel["title"], list(panel.get("panels", []))))
        elif found:
            found[-1][1].append(panel)
        else:
            found.append((dashboard.get("title", "Dashboard"), [panel]))
    return found


def with_gaps(points: Points, start: float, step: float) -> tuple[list[float], list[float]]:
    """Seconds since `start` and values, a NaN where the series had no sample (as Grafana leaves a gap)."""
    xs: list[float] = []
    ys: list[float] = []
    for index, (at, value) in enumerate(points):
        if index and at - points[index - 1][0] > 1.5 * step:
            xs.append(at - start)
            ys.append(math.nan)
        xs.append(at - start)
        ys.append(value)
    return xs, ys


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def draw(row: Row, start: float, step: float, marks: dict[str, float], path: Path) -> Path:
    """One figure for the row: a plot per panel, time in seconds since `start`, events as dashed lines."""
    columns = 4 if len(row.panels) % 4 == 0 else 3
    lines_of_plots = math.ceil(len(row.panels) / columns)
    figure, axes = plt.subplots(lines_of_plots, columns, figsize=(5 * columns, 3.2 * lines_of_plots), squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(row.panels):
            ax.set_visible(False)
            continue
        panel = row.panels[index]
        for name, points in panel.lines:
            xs, ys = with_gaps(points, start, step)
            ax.plot(xs, ys, label=name, linewidth=1.4)
        for label, at in marks.items():
            ax.axvline(at - start, color="grey", linestyle="--", linewidth=0.8)
            ax.annotate(label, (at - start, 0.02), xycoords=("data", "axes fraction"), fontsize=7, rotation=90,
                        va="bottom", ha="right", color="grey")  # fmt: skip
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel("seconds into the run", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.margins(y=0.15)
        if panel.lines:
            ax.legend(fontsize=7, loc="best")
    figure.suptitle(f"personalize-operator dashboard: {row.title}", fontsize=12)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
