"""Kubernetes operator reconciling EventTracker resources into Amazon Personalize event trackers."""

# The release version, the one source: pyproject.toml reads it, the chart's version and appVersion and the
# image tag follow it (`make release`; tests/unit/test_chart.py checks they agree). CHANGELOG.md says what changed.
__version__ = "0.2.0"
