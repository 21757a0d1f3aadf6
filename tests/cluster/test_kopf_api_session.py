"""kopf's session from our login handler, against the real API server: it authenticates, and its bound holds.

A watch keeps its connection while it streams, so the test holds watches open to fill the pool.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import kopf
import pytest
from kubernetes.config import kube_config

from personalize_operator import handlers
from personalize_operator.runtime.settings import OperatorSettings


def _use_kubeconfig(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As $KUBECONFIG at start-up does (kubernetes reads the variable once, at import)."""
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # kubeconfig, not in-cluster


async def _login(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch, **ours: object) -> kopf.AiohttpSession:
    _use_kubeconfig(kubeconfig, monkeypatch)
    memo = kopf.Memo(settings=OperatorSettings(**ours))
    info = await handlers.login(memo=memo, settings=kopf.OperatorSettings(), logger=logging.getLogger("test"))
    assert isinstance(info, kopf.AiohttpSession)
    return info


def test_requests_beyond_the_bound_wait_for_a_connection(
    kubeconfig: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        info = await _login(kubeconfig, monkeypatch, namespaces=[namespace], scanning=False, max_workers=3)
        session = info.aiohttp_session
        assert session.connector is not None and session.connector.limit == 4  # 3 requests + 1 watch
        base = f"{info.server}/api/v1/namespaces/{namespace}"
        try:
            one = await session.get(base)
            assert one.status == 200 and (await one.json())["metadata"]["name"] == namespace  # TLS and credentials work
            one.release()

            stream = {"watch": "true", "timeoutSeconds": "60"}
            watches = [await session.get(f"{base}/secrets", params=stream) for _ in range(4)]
            assert all(w.status == 200 for w in watches)
            fifth = asyncio.ensure_future(session.get(base))
            done, _ = await asyncio.wait({fifth}, timeout=2.0)
            assert not done, "a fifth connection was opened past the bound"

            watches[0].close()  # a watch ends: its connection goes back to the pool, the waiting request gets it
            answer = await asyncio.wait_for(fifth, timeout=30)
            assert answer.status == 200
            answer.release()
            for w in watches[1:]:
                w.close()
        finally:
            await session.close()

    asyncio.run(scenario())


def test_namespace_patterns_leave_the_pool_unbounded(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        info = await _login(kubeconfig, monkeypatch, namespaces=["team-*"], scanning=True)
        try:
            assert info.aiohttp_session.connector is not None and info.aiohttp_session.connector.limit == 0
            answer = await info.aiohttp_session.get(f"{info.server}/version")
            assert answer.status == 200
            answer.release()
        finally:
            await info.aiohttp_session.close()

    asyncio.run(scenario())


def test_a_missing_kubeconfig_is_a_login_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kopf stops with 'Ran out of valid credentials' when no login handler gives any (errors are ignored)."""
    _use_kubeconfig(tmp_path / "absent", monkeypatch)
    memo = kopf.Memo(settings=OperatorSettings())
    with pytest.raises(kopf.LoginError):
        asyncio.run(handlers.login(memo=memo, settings=kopf.OperatorSettings(), logger=logging.getLogger("test")))
