"""One team-mode replica in process (ASGI transport), the sandbox as Feishu, Redis for real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from auth.grant_cipher import GrantCipher
from sandbox import Sandbox
from server.clock import Clock
from server.settings import Settings
from server.team.app import Replica, build_replica
from server.team.config import CALLBACK_PATH, TeamConfig
from tests.team.browser import MemoryStorage, SignedInUser, oauth

PUBLIC = "http://127.0.0.1:8999"
APP_ID = "cli_team0tests0app"
APP_SECRET = "team-tests-app-secret-0123456789"  # a sandbox-only fake


def team_environ(domain: str | None = None) -> dict[str, str]:
    environ = {
        "FEISHU_APP_ID": APP_ID,
        "FEISHU_APP_SECRET": APP_SECRET,
        "FEISHU_TIMEZONE": "Asia/Shanghai",
        "FEISHU_TOOLSETS": "all",
    }
    if domain:
        environ["FEISHU_DOMAIN"] = domain
    return environ


def team_sandbox(public: str = PUBLIC, clock: Clock | None = None) -> Sandbox:
    sb = Sandbox(seed=True, clock=clock)
    sb.register_app(APP_ID, APP_SECRET, [public + CALLBACK_PATH])
    return sb


@dataclass
class Team:
    sb: Sandbox
    config: TeamConfig
    replica: Replica
    transport: httpx2.AsyncBaseTransport

    def user(self, open_id: str, timezone: str | None = None) -> SignedInUser:
        return SignedInUser(self.sb, open_id, self.transport, timezone=timezone)

    @asynccontextmanager
    async def session(
        self, user: SignedInUser, storage: MemoryStorage | None = None, *, metadata_url: str | None = None
    ) -> AsyncIterator[Client]:
        auth = oauth(self.config.resource, user, storage, metadata_url=metadata_url)
        async with (
            httpx2.AsyncClient(transport=self.transport, auth=auth, timeout=30) as http,
            Client(streamable_http_client(self.config.resource, http_client=http)) as client,
        ):
            yield client


@asynccontextmanager
async def in_process_team(
    redis_url: str,
    *,
    key: str | None = None,
    cimd: httpx2.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    **limits: str,
) -> AsyncIterator[Team]:
    """One replica; ``clock`` (pinned) is shared by the sandbox and the replica, as in one process."""
    sb = team_sandbox(clock=clock)
    token_key = key or GrantCipher.new_key()
    limits.setdefault("user_limits", "100/second")  # test bursts are not what limits are for
    limits.setdefault("tenant_limits", "1000/second")
    # Off unless a test asks: on a VirtualClock its waits would pass at once, round after round.
    limits.setdefault("keepalive", "off")
    config = TeamConfig.load({}, public_url=PUBLIC, redis_url=redis_url, token_key=token_key, **limits)
    settings = Settings.load(team_environ())
    replica = build_replica(settings, config, feishu_transport=sb.transport(), cimd_transport=cimd, clock=sb.clock)
    async with replica.app.router.lifespan_context(replica.app):
        yield Team(sb, config, replica, httpx2.ASGITransport(app=replica.app))


async def whoami(client: Client) -> dict[str, Any]:
    result = await client.call_tool("get_current_context", {})
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    user: dict[str, Any] = result.structured_content["user"]
    return user
