"""Fixtures for the emulator's own tests: one emulator per session, reset before every test.

The emulator runs in-process on a free port; if it cannot start, every test
that uses it errors (never skips). boto3 reaches it through
AWS_ENDPOINT_URL_PERSONALIZE / AWS_ENDPOINT_URL_PERSONALIZE_EVENTS with dummy
credentials, in standard retry mode; nothing in boto3 is mocked.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.config
import pytest

from personalize_emulator.testing import Emulator, running_emulator

# Settings the session emulator starts with (and returns to on reset).
SEED = 20240522
AWS_VARIABLES_TO_HIDE = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")

ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Emulator]:
    with running_emulator(transition_delay=0.0, seed=SEED) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_session: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The session emulator, reset, with this process's environment pointing at it."""
    emulator_session.admin.reset()
    for name in AWS_VARIABLES_TO_HIDE:
        monkeypatch.delenv(name, raising=False)
    for name, value in emulator_session.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    return emulator_session


@pytest.fixture
def make_client(emulator: Emulator) -> ClientFactory:
    """boto3 clients configured from the environment only (endpoint included), plus `Config` options."""

    def make(service: str = "personalize", **config: Any) -> Any:
        return boto3.session.Session().client(service, config=botocore.config.Config(**config))

    return make


@pytest.fixture
def personalize(make_client: ClientFactory) -> Any:
    return make_client("personalize")


@pytest.fixture
def events(make_client: ClientFactory) -> Any:
    return make_client("personalize-events")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A name maker: unique("tracker") -> "tracker-1a2b3c4d"."""
    return _unique


@pytest.fixture
def dataset_group(personalize: Any) -> str:
    """The ARN of a fresh ACTIVE dataset group (the delay is 0 after reset)."""
    return str(personalize.create_dataset_group(name=_unique("dg"))["datasetGroupArn"])
