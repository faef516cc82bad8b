from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox import Sandbox
from server.clock import VirtualClock
from tests.e2e.harness import FIXED_NOW, Harness, connected


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(seed=True, clock=VirtualClock(FIXED_NOW))


@pytest.fixture
async def mcp(sb: Sandbox) -> AsyncIterator[Harness]:
    async with connected(sb) as harness:
        yield harness
