"""The user's token on each request (server/feishu_auth.py): what a slow refresh means for a write."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from server.clock import VirtualClock
from server.feishu_client import FeishuClient
from server.retry import RetryPolicy
from tests.resilience.upstream import Upstream, reply
from tools.spec import Replay

pytestmark = pytest.mark.anyio


class SlowFirstRefresh:
    """The first refresh hangs past the attempt's timeout; later ones answer at once."""

    identity = "test:slow-refresh"

    def __init__(self) -> None:
        self.refreshes = 0

    async def access_token(self) -> str:
        return "u-old"

    async def refresh_after_rejection(self, rejected: str) -> str:
        self.refreshes += 1
        if self.refreshes == 1:
            await anyio.sleep(5)  # cut off by the attempt timeout below (0.1 s)
        return "u-new"


async def test_a_timeout_while_refreshing_is_not_a_write_that_may_have_happened() -> None:
    """Nothing was on the wire when the attempt timed out, so even a never-replayed write is retried."""
    expired = reply(99991677, status=400, msg="user access token expired")
    upstream = Upstream(expired, expired, reply(0, {"done": True}))
    http = httpx2.AsyncClient(base_url="https://open.feishu.cn", transport=upstream.transport())
    policy = RetryPolicy(connect_timeout=0.05, read_timeout=0.05, max_attempts=4)
    async with http:
        client = FeishuClient(http, SlowFirstRefresh(), policy, VirtualClock())
        data = await client.call("create_thing", "POST", "/open-apis/x", body={}, replay=Replay.NEVER, writes=True)
    assert data == {"done": True}
    assert [r.headers["authorization"] for r in upstream.requests] == ["Bearer u-old", "Bearer u-old", "Bearer u-new"]
