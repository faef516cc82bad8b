"""Fixtures for the sandbox's own tests: a seeded sandbox on a fixed clock, and clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from sandbox import Sandbox
from server.clock import VirtualClock
from tests.sandbox.helpers_sandbox import FIXED_NOW


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
