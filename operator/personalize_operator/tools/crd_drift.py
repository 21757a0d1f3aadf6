"""What differs between the EventTracker CRD in a cluster and the one this operator renders (crd.py).

Pure: both sides are plain dicts. Only what the operator relies on is
compared (names, scope, and per version: served, storage, schema,
subresources, printer columns), so fields the API server adds (status,
conversion, managedFields) are not drift.
"""

from __future__ import annotations

from typing import Any

MAX_LINES = 20
_COMPARED_SPEC = ("group", "scope", "names")
_COMPARED_VERSION = (
    "served",
    "storage",
    "deprecated",
    "deprecationWarning",
    "schema",
    "subresources",
    "additionalPrinterColumns",
)


def differences(installed: Any, rendered: Any, path: str = "") -> list[str]:
    """One line per path where the two values differ: `path: cluster has X, operator renders Y`."""
    if isinstance(installed, dict) and isinstance(rendered, dict):
        lines = []
        for key in sorted(set(installed) | set(rendered)):
            where = f"{path}.{key}" if path else key
            if key not in rendered:
                lines.append(f"{where}: only in the cluster")
            elif key not in installed:
                lines.append(f"{where}: missing in the cluster (operator renders {_short(rendered[key])})")
            else:
                lines += differences(installed[key], rendered[key], where)
        return lines
    if isinstance(installed, list) and isinstance(rendered, list) and len(installed) == len(rendered):
        pairs = enumerate(zip(installed, rendered, strict=True))
        return [line for i, (a, b) in pairs for line in differences(a, b, f"{path}[{i}]")]
    if installed != rendered:
        return [f"{path}: cluster has {_short(installed)}, operator renders {_short(rendered)}"]
    return []


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def drift(installed_crd: dict[str, Any], rendered_crd: dict[str, Any]) -> list[str]:
    """Differences that matter, paths starting at spec (versions named, not numbered)."""
    installed, rendered = installed_crd.get("spec", {}), rendered_crd["spec"]
    lines = []
    for key in _COMPARED_SPEC:
        lines += differences(installed.get(key), rendered[key], f"spec.{key}")
    installed_versions = {v.get("name"): v for v in installed.get("versions", [])}
    for version in rendered["versions"]:
        name = version["name"]
        found = installed_versions.get(name)
        if found is None:
            lines.append(f"spec.versions[{name}]: missing in the cluster")
            continue
        for key in _COMPARED_VERSION:
            lines += differences(found.get(key), version.get(key), f"spec.versions[{name}].{key}")
    return lines
