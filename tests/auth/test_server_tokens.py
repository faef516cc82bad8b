"""How the server picks its token and how auth failures reach the model (ToolError or URL elicitation)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mcp import Client

from auth.errors import AuthError
from auth.record import TokenRecord
from auth.store import FileTokenStore, save_record
from server.app import build_server
from server.errors import AuthRequired
from server.settings import Settings
from server.signin import remember_url_elicitation
from server.tokens import StaticToken, StoredLogin, login_command, login_scopes, token_source
from tests.auth.fake_accounts import APP_ID, APP_SECRET, OPEN_ID

pytestmark = pytest.mark.anyio
BASE = "https://open.feishu.test"


def settings_for(tmp_path: Path, port: int = 17653, **extra: str) -> Settings:
    env = {
        "FEISHU_APP_ID": APP_ID,
        "FEISHU_APP_SECRET": APP_SECRET,
        "FEISHU_DOMAIN": BASE,
        "FEISHU_CONFIG_DIR": str(tmp_path),
        "FEISHU_LOGIN_PORT": str(port),
        "FEISHU_TIMEZONE": "Asia/Shanghai",
        **extra,
    }
    return Settings.load(env)


async def test_env_token_beats_the_store(tmp_path: Path) -> None:
    save_record(FileTokenStore(tmp_path), TokenRecord(APP_ID, OPEN_ID, "u-stored", time.time() + 3600), None)
    chosen = token_source(settings_for(tmp_path, FEISHU_USER_ACCESS_TOKEN="u-from-env"))
    assert isinstance(chosen, StaticToken) and await chosen.access_token() == "u-from-env"
    stored = token_source(settings_for(tmp_path))
    assert isinstance(stored, StoredLogin) and await stored.access_token() == "u-stored"


async def test_login_command_names_domain_and_profile(tmp_path: Path) -> None:
    assert login_command(settings_for(tmp_path)) == f"feishu-calendar-mcp login --domain {BASE}"
    lark = Settings.load({"FEISHU_DOMAIN": "lark", "FEISHU_PROFILE": "work team"})
    assert login_command(lark) == "feishu-calendar-mcp login --domain lark --profile 'work team'"


async def test_scopes_follow_the_served_toolsets(tmp_path: Path) -> None:
    default = login_scopes(settings_for(tmp_path))
    everything = login_scopes(settings_for(tmp_path, FEISHU_TOOLSETS="all"))
    read_only = login_scopes(settings_for(tmp_path, FEISHU_READ_ONLY="1"))
    assert default[-1] == everything[-1] == "offline_access"
    assert "calendar:calendar" not in everything and "calendar:exchange.bindings:read" in everything
    assert "calendar:exchange.bindings:read" not in default
    assert not any(s.endswith((":create", ":delete", ":update")) for s in read_only)


async def test_auth_failures_become_auth_required_with_the_command(tmp_path: Path) -> None:
    source = token_source(settings_for(tmp_path))
    with pytest.raises(AuthRequired) as caught:
        await source.access_token()
    assert f"feishu-calendar-mcp login --domain {BASE}" in str(caught.value)
    assert caught.value.code == 99991661


async def test_a_tool_call_without_login_names_the_login_command(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    server = build_server(settings, token_source(settings))
    server.middleware.append(remember_url_elicitation)
    async with Client(server) as client:
        result = await client.call_tool("view_instances", {"start": "2026-11-23", "end": "2026-11-24"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "nobody is signed in" in text and f"feishu-calendar-mcp login --domain {BASE}" in text


async def test_extra_scopes_are_added_once(tmp_path: Path) -> None:
    scopes = login_scopes(settings_for(tmp_path), ("contact:user.email:readonly", "calendar:calendar.event:read"))
    assert scopes.count("calendar:calendar.event:read") == 1
    assert scopes[-2:] == ("contact:user.email:readonly", "offline_access")


async def test_keyring_store_without_the_package_says_how_to_fix(tmp_path: Path) -> None:
    # This venv has no `keyring` package: choosing that store must say what to install.
    with pytest.raises(AuthError, match="pip install keyring"):
        token_source(settings_for(tmp_path, FEISHU_TOKEN_STORE="keyring"))


async def test_a_rejected_env_token_says_to_replace_or_unset_it(tmp_path: Path) -> None:
    chosen = token_source(settings_for(tmp_path, FEISHU_USER_ACCESS_TOKEN="u-from-env"))
    with pytest.raises(AuthRequired, match="unset it and run `feishu-calendar-mcp login`"):
        await chosen.refresh_after_rejection("u-from-env")
