"""`make demo` works on this machine: the README's first command reaches Active."""

from __future__ import annotations

import os
import re
import subprocess

from support.trackers import REPO


def test_make_demo_reaches_ready_and_sends_an_event_without_showing_the_tracking_id() -> None:
    done = subprocess.run(
        ["make", "-s", "demo"],
        cwd=REPO,
        env={**os.environ, "PERSONALIZE_DEMO_EXIT": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "condition met" in output
    assert re.search(r"storefront\s+storefront-clicks\s+Active\s+storefront-tracking", output), output[-4000:]
    assert "keys (values not shown): eventTrackerArn, trackingId" in output
    assert "the emulator accepted it" in output
    assert "stopped every process" in output
    # trackingIds are UUIDs in the emulator; none may be printed.
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", output)
