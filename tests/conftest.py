"""Shared test fixtures: anyio backend, a clean environment, and an in-memory MCP client helper."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see the developer's real Feishu settings or tokens."""
    for name in list(os.environ):
        # Proxy variables too: loopback tests must not go through the machine's proxy, and
        # server/http_engine.py leaves the upstream to httpx2's own transport when one is set.
        if name.startswith("FEISHU_") or name.lower() in PROXY_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("FEISHU_TIMEZONE", "Asia/Shanghai")
    yield


@pytest.fixture(params=["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run under several machine time zones: nothing may depend on the machine's zone."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()
