"""The user's token on each request (server/feishu_auth.py): what a slow refresh means for a write."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from server.clock import VirtualClock
from server.errors import AuthRequired
from server.feishu_client import FeishuClient
from server.retry import RetryPolicy
from server.static_token import StaticToken
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


async def refused_call(tokens: object, refusal: httpx2.Response) -> AuthRequired:
    upstream = Upstream(refusal, reply(0, {"done": True}))
    http = httpx2.AsyncClient(base_url="https://open.feishu.cn", transport=upstream.transport())
    async with http:
        client = FeishuClient(http, tokens, RetryPolicy(max_attempts=4), VirtualClock())  # type: ignore[arg-type]
        with pytest.raises(AuthRequired) as raised:
            await client.call("get_event", "GET", "/open-apis/x")
    assert len(upstream.requests) == 1  # nothing to renew the token with: not sent again
    return raised.value


async def test_a_pre_obtained_token_refused_says_what_feishu_said() -> None:
    """FEISHU_USER_ACCESS_TOKEN refused as invalid (99991668) was reported as 99991677 with no log id."""
    refusal = reply(99991668, status=400, msg="Invalid access token.", headers={"X-Tt-Logid": "202612050001"})
    err = await refused_call(StaticToken("u-revoked", identity="env"), refusal)
    assert (err.code, err.log_id) == (99991668, "202612050001")
    assert err.msg == "Invalid access token; the user token was rejected and cannot be refreshed"
    assert "set a new FEISHU_USER_ACCESS_TOKEN" in err.advice
    assert "Feishu code 99991668" in str(err) and "(Feishu log id: 202612050001)" in str(err)


class RefreshRefused:
    """A stored login whose refresh Feishu itself refused: that answer is the one to show."""

    identity = "test:refresh-refused"

    async def access_token(self) -> str:
        return "u-old"

    async def refresh_after_rejection(self, rejected: str) -> str:
        raise AuthRequired("sign-in", 20037, "refresh token expired", advice="sign in again")


async def test_a_refresh_refused_by_feishu_keeps_that_answer() -> None:
    refusal = reply(99991677, status=400, msg="token expired", headers={"X-Tt-Logid": "202612050002"})
    err = await refused_call(RefreshRefused(), refusal)
    assert (err.code, err.msg, err.log_id) == (20037, "refresh token expired", "")
    assert err.advice == "sign in again"
