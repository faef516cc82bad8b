"""`feishu-calendar-mcp serve` as a client runs it (stdio subprocess) acts with the stored login."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from auth.login import PendingLogin
from auth.store import FileTokenStore, load_record
from server.tokens import login_request
from tests.auth.conftest import APP_SECRET, Live
from tests.auth.test_oauth_sandbox import WINDOW

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def test_stdio_server_uses_and_refreshes_the_stored_login_without_leaking(live: Live) -> None:
    store = FileTokenStore(live.config_dir)
    pending = PendingLogin(login_request(live.settings(), live.port))
    await pending.finish(live.sb.consent(pending.url), store, None)
    env = {**live.environ(FEISHU_LOG_LEVEL="DEBUG"), "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "server.cli", "serve"], cwd=ROOT, env=env)
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            first = await client.call_tool("view_instances", WINDOW)
            live.sb.expire_access_tokens()
            second = await client.call_tool("view_instances", WINDOW)
        errlog.seek(0)
        server_log = errlog.read()
    assert not first.is_error and not second.is_error, (first.content, second.content)
    assert live.sb.stats.token_grants["refresh_token"] == 1
    record = load_record(store, None)
    assert record is not None and record.access_token in live.sb.world.access_tokens
    assert "refreshed the user access token" in server_log, "the server really logged at DEBUG"
    secrets = {APP_SECRET, *live.sb.world.access_tokens, *live.sb.world.refresh_tokens}
    assert [s[:6] for s in secrets if s in server_log] == []
