"""Start an emulator from any test suite: `with running_emulator(transition_delay=0) as emulator: ...`.

In-process by default (a server thread: starts in milliseconds, and keeps
working while the test process runs other processes such as the operator);
`subprocess=True` runs the real console script instead. Either way a start
that fails raises `EmulatorStartError`, so tests that need the emulator fail
rather than skip.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess as subprocesses
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from personalize_emulator.admin_client import EmulatorAdmin
from personalize_emulator.cli import READY_PREFIX
from personalize_emulator.config import EmulatorConfig

DEFAULT_REGION = "us-east-1"


class EmulatorStartError(RuntimeError):
    """The emulator did not come up; the message says why (and where its log is)."""


@dataclass
class Emulator:
    """A running emulator: where it is, how to control it, how to stop it."""

    endpoint: str
    admin: EmulatorAdmin
    config: EmulatorConfig
    region: str = DEFAULT_REGION
    log_path: Path | None = None  # subprocess mode: the emulator's stderr
    _stopper: Callable[[], None] = field(default=lambda: None, repr=False)

    def stop(self) -> None:
        self._stopper()
        self._stopper = lambda: None

    def env(self, *, region: str | None = None, access_key_id: str = "test") -> dict[str, str]:
        """Environment for a process (the operator, the demo) to reach this emulator with dummy credentials."""
        return aws_environment(self.endpoint, region=region or self.region, access_key_id=access_key_id)

    def client(
        self, service: str = "personalize", *, region: str | None = None, access_key_id: str = "test", **config: Any
    ) -> Any:
        """A boto3 client for `service` pointed here, standard retries unless `config` says otherwise."""
        import boto3
        import botocore.config

        options: dict[str, Any] = {"retries": {"mode": "standard", "total_max_attempts": 3}} | config
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=region or self.region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key="test",
            config=botocore.config.Config(**options),
        )

    def assumed_client(self, role_arn: str, service: str = "personalize", *, region: str | None = None) -> Any:
        """A client acting in `role_arn`'s account: AssumeRole here, then its temporary credentials."""
        import boto3

        sts = self.client("sts", region=region)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="emulator-test")["Credentials"]
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=region or self.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def aws_environment(endpoint: str, *, region: str = DEFAULT_REGION, access_key_id: str = "test") -> dict[str, str]:
    """The standard AWS variables that point boto3 (in any process) at the emulator at `endpoint`."""
    return {
        "AWS_ENDPOINT_URL_PERSONALIZE": endpoint,
        "AWS_ENDPOINT_URL_PERSONALIZE_EVENTS": endpoint,
        "AWS_ENDPOINT_URL_STS": endpoint,
        "AWS_ENDPOINT_URL_IAM": endpoint,
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def dataset_group_arn(name: str, *, region: str = DEFAULT_REGION, account_id: str = "123456789012") -> str:
    """The ARN the emulator (and AWS) gives a dataset group called `name`."""
    return f"arn:aws:personalize:{region}:{account_id}:dataset-group/{name}"


@contextlib.contextmanager
def running_emulator(*, subprocess: bool = False, startup_timeout: float = 10.0, **options: Any) -> Iterator[Emulator]:
    """Run an emulator for the duration of the block; `options` are `EmulatorConfig` fields."""
    config = EmulatorConfig(**options)
    emulator = _start_subprocess(config, startup_timeout) if subprocess else _start_in_process(config)
    try:
        yield emulator
    finally:
        emulator.stop()


def _start_in_process(config: EmulatorConfig) -> Emulator:
    from personalize_emulator.server import EmulatorServer

    try:
        server = EmulatorServer(config).start()
    except Exception as error:
        raise EmulatorStartError(f"the in-process emulator did not start: {error!r}") from error
    return Emulator(endpoint=server.endpoint, admin=EmulatorAdmin(server.endpoint), config=config, _stopper=server.stop)


def command(config: EmulatorConfig) -> list[str]:
    """The console-script command line for `config`."""
    defaults = EmulatorConfig()
    argv = [sys.executable, "-m", "personalize_emulator"]
    for spec in fields(EmulatorConfig):
        value = getattr(config, spec.name)
        if spec.name == "iam_policy_files":
            argv += [arg for entry in value for arg in ("--iam-policy", entry)]
            continue
        if value is not None and (value != getattr(defaults, spec.name) or spec.name == "port"):
            argv += [f"--{spec.name.replace('_', '-')}", str(value)]
    return argv


def _start_subprocess(config: EmulatorConfig, timeout: float) -> Emulator:
    log = Path(tempfile.mkstemp(prefix="personalize-emulator-", suffix=".log")[1])
    with log.open("wb") as stderr:
        process = subprocesses.Popen(
            command(config), stdout=subprocesses.PIPE, stderr=stderr, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
    endpoint = _read_endpoint(process, timeout)
    if endpoint is None:
        _terminate(process)
        raise EmulatorStartError(
            f"personalize-emulator did not report its endpoint within {timeout}s "
            f"(exit code {process.returncode}); its log: {log}: {log.read_text(errors='replace')[-2000:]}"
        )
    return Emulator(
        endpoint=endpoint,
        admin=EmulatorAdmin(endpoint),
        config=config,
        log_path=log,
        _stopper=lambda: _terminate(process),
    )


def _read_endpoint(process: subprocesses.Popen[bytes], timeout: float) -> str | None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = process.stdout.readline().decode(errors="replace")
            if not line:
                return None  # the process ended
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :].strip()
    return None


def _terminate(process: subprocesses.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocesses.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
