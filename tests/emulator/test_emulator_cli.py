"""The console script: start-up line, flags, shutdown. (bench/emulator_startup.py measures the 1 s budget.)"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from personalize_emulator.cli import READY_PREFIX
from personalize_emulator.testing import EmulatorStartError, running_emulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_port_zero_prints_the_bound_endpoint_and_serves() -> None:
    started = time.monotonic()
    with running_emulator(subprocess=True, transition_delay=0, tracker_quota=1) as emulator:
        assert emulator.endpoint.startswith("http://127.0.0.1:")
        assert emulator.admin.health()
        assert time.monotonic() - started < 10  # generous: other builds share this machine
        client = emulator.client()
        group = client.create_dataset_group(name="from-cli")["datasetGroupArn"]
        client.create_event_tracker(
            name="t1", datasetGroupArn=client.create_dataset_group(name="g2")["datasetGroupArn"]
        )
        with pytest.raises(client.exceptions.LimitExceededException):  # --tracker-quota 1 reached the process
            client.create_event_tracker(name="t2", datasetGroupArn=group)


def test_an_explicit_port_is_used() -> None:
    port = _free_port()
    with running_emulator(subprocess=True, port=port) as emulator:
        assert emulator.endpoint == f"http://127.0.0.1:{port}"


def test_sigterm_stops_the_process_cleanly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "personalize_emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(READY_PREFIX)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        pytest.param(["--transition-delay", "-1"], "must be >= 0", id="negative-delay"),
        pytest.param(["--account-id", "abc"], "account_id must be 12 digits", id="bad-account"),
        pytest.param(["--tracker-quota", "many"], "invalid", id="non-numeric-quota"),
    ],
)
def test_bad_flags_exit_2_with_a_reason(flags: list[str], complaint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "personalize_emulator", "--port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert complaint in result.stderr
    assert result.stdout == ""


def test_help_lists_the_transition_delay() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "personalize_emulator", "--help"], capture_output=True, text=True, timeout=30
    )
    assert "--transition-delay SECONDS" in result.stdout


@pytest.mark.parametrize("in_subprocess", [pytest.param(False, id="in-process"), pytest.param(True, id="subprocess")])
def test_an_emulator_that_cannot_start_raises_so_tests_fail(in_subprocess: bool) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EmulatorStartError, match=r"Address already in use|cannot listen"):  # noqa: SIM117
            with running_emulator(subprocess=in_subprocess, port=port):
                pass
