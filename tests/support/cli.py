"""`personalize-operator` subcommands as a user runs them: the console script in a child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# Values that fill every placeholder of `personalize-operator skeleton`.
SKELETON_VALUES = {
    "<resource-name>": "storefront",
    "<namespace>": "default",
    "<aws-tracker-name>": "storefront-clicks",
    "<region>": "eu-west-1",
    "<account-id>": "111122223333",
    "<dataset-group-name>": "shop",
    "<tag-key>": "team",
    "<tag-value>": "growth",
    "<secret-name>": "storefront-tracking",
    "<config-map-name>": "storefront-tracker",
}


def fill(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def leaves(value: Any) -> list[Any]:
    """Every scalar in a parsed document (to look for placeholders left)."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def personalize_operator(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with `args`; never raises on a non-zero exit."""
    executable = shutil.which("personalize-operator", path=str(Path(sys.executable).parent)) or ""
    return subprocess.run(
        [executable, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
