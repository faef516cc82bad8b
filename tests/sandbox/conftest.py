"""Fixtures for the sandbox's own tests: a seeded sandbox on a fixed clock, and clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from sandbox import Sandbox, running
from server.clock import VirtualClock
from tests.sandbox.helpers_sandbox import FIXED_NOW
from tests.sandbox.lark_sdk import as_user, sdk_client


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))


@pytest.fixture
async def api(sb: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    """A client on the sandbox, signed in as the demo user."""
    async with sb.client(headers={"Authorization": f"Bearer {sb.demo_token}"}) as client:
        yield client


@pytest.fixture
async def anonymous(sb: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    async with sb.client() as client:
        yield client


@pytest.fixture
def base_url(sb: Sandbox) -> Iterator[str]:
    """The sandbox served on a loopback port, for clients that need a real socket (the official SDK)."""
    with running(sb) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Any:
    """The official lark-oapi SDK on the sandbox; each call passes its user token (``as_demo``)."""
    return sdk_client(base_url)


@pytest.fixture
def as_demo(sb: Sandbox) -> Any:
    return as_user(sb.demo_token)
