"""The Makefile's targets are the README's entry points: none may be silently replaced by a later one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["help", "bench", "test", "demo"])
def test_no_target_is_defined_twice(target: str) -> None:
    make = shutil.which("make")
    assert make, "make is needed to run the README's commands"
    run = subprocess.run([make, "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "overriding recipe" not in run.stderr, run.stderr


def test_bench_runs_the_idle_cost_and_the_operator_benchmark() -> None:
    run = subprocess.run(["make", "-n", "bench"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "bench/idle_cost.py" in run.stdout
    assert "bench/operator.py" in run.stdout
