"""How long `personalize-emulator` takes from exec to its first answered API request.

Starts the console script N times with `--port 0`, reads the endpoint it
prints, and sends a SigV4-shaped ListDatasetGroups until one is answered.
Prints median/min/max and exits 1 if the median reaches the budget.

    .venv/bin/python bench/emulator_startup.py [--runs 10] [--budget 1.0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_PREFIX = "personalize-emulator listening on "
AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/personalize/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0"
)


def console_script() -> list[str]:
    """The installed console script next to this interpreter, or `python -m` as a fallback."""
    script = Path(sys.executable).with_name("personalize-emulator")
    return [str(script)] if script.exists() else [sys.executable, "-m", "personalize_emulator"]


def answered(endpoint: str) -> bool:
    request = urllib.request.Request(
        endpoint + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonPersonalize.ListDatasetGroups",
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": AUTHORIZATION,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200 and "datasetGroups" in json.loads(response.read())
    except (urllib.error.URLError, OSError):
        return False


def one_start() -> float:
    """Seconds from exec to the first answered request."""
    started = time.perf_counter()
    process = subprocess.Popen([*console_script(), "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"unexpected first line {line!r} (exit code {process.poll()})")
        endpoint = line[len(READY_PREFIX) :].strip()
        while not answered(endpoint):
            if time.perf_counter() - started > 30:
                raise RuntimeError("no answer within 30 s")
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds the median must stay under")
    args = parser.parse_args()
    times = [one_start() for _ in range(args.runs)]
    median = statistics.median(times)
    print(
        f"personalize-emulator start-up to first answer over {args.runs} runs: "
        f"median {median:.3f}s  min {min(times):.3f}s  max {max(times):.3f}s  (budget {args.budget:.1f}s)"
    )
    return 0 if median < args.budget else 1


if __name__ == "__main__":
    raise SystemExit(main())
