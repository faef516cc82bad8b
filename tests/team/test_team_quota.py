"""Fair use: per-user and per-tenant limits in Redis; the throttled caller is told how long to wait."""

from __future__ import annotations

import pytest

from sandbox.seed import DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID
from server.team.config import TeamConfig, TeamConfigError
from server.team.quota import QuotaError
from tests.team.harness import PUBLIC, in_process_team, whoami

pytestmark = pytest.mark.anyio


async def test_a_user_over_their_share_gets_a_tool_error_with_the_wait(redis_url: str) -> None:
    async with (
        in_process_team(redis_url, user_limits="3/minute", tenant_limits="5/minute") as team,
        team.session(team.user(DEMO_USER_OPEN_ID)) as alice,
        team.session(team.user(LI_LEI_OPEN_ID)) as bob,
    ):
        for _ in range(3):
            await whoami(alice)
        over = await alice.call_tool("get_current_context", {})
        assert over.is_error
        text = str(over.content)
        assert "this user is over its share" in text and "3 per 1 minute" in text
        assert "wait " in text and " s, then retry" in text
        await whoami(bob)  # another user still has theirs
        await whoami(bob)  # ... until the organisation's share (5 a minute) is spent
        tenant_over = await bob.call_tool("get_current_context", {})
        assert tenant_over.is_error and "organisation is over its share" in str(tenant_over.content)


def test_limits_that_do_not_parse_are_named() -> None:
    base = {"public_url": PUBLIC, "redis_url": "redis://127.0.0.1:1/0", "token_key": "A" * 43}
    with pytest.raises(QuotaError, match="FEISHU_USER_RATE_LIMIT"):
        TeamConfig.load({}, **base, user_limits="lots")
    with pytest.raises(TeamConfigError, match="https://"):
        TeamConfig.load({}, **{**base, "public_url": "http://cal.example.com"})
