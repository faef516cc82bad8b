"""Which engine carries the requests to Feishu (server/http_engine.py), the way back to httpx2's
own transport, and a clean shutdown of aiohttp's session by the stdio and HTTP servers."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from sandbox import Sandbox, running
from server.http_engine import AiohttpTransport, upstream_transport
from server.local_key import KEY_FILE_NAME
from server.settings import Settings, SettingsError
from tests.helpers import serve_http, stop_http

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]
LIMITS = httpx2.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=60)


def settings(**environ: str) -> Settings:
    return Settings.load({"FEISHU_TIMEZONE": "Asia/Shanghai", **environ})


async def test_aiohttp_carries_the_requests_by_default() -> None:
    transport = upstream_transport(settings(), LIMITS)
    assert isinstance(transport, AiohttpTransport)
    await transport.aclose()


async def test_the_setting_goes_back_to_httpx2s_own_transport() -> None:
    assert upstream_transport(settings(FEISHU_HTTP_ENGINE="httpx2"), LIMITS) is None


def test_an_unknown_engine_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="FEISHU_HTTP_ENGINE='curl'"):
        settings(FEISHU_HTTP_ENGINE="curl")


async def test_without_aiohttp_installed_httpx2_carries_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # what `import aiohttp` meets when it is not installed
    assert upstream_transport(settings(), LIMITS) is None


@pytest.mark.parametrize(
    ("variable", "domain", "aiohttp"),
    [
        ("HTTPS_PROXY", "feishu", False),  # https://open.feishu.cn goes through the proxy: httpx2's job
        ("https_proxy", "lark", False),
        ("ALL_PROXY", "feishu", False),  # socks5 and the like: only httpx2 speaks them
        ("HTTP_PROXY", "feishu", True),  # a proxy for http:// only does not concern https://open.feishu.cn
        ("HTTP_PROXY", "http://127.0.0.1:8900", False),
    ],
)
async def test_a_proxy_in_the_environment_is_left_to_httpx2(
    monkeypatch: pytest.MonkeyPatch, variable: str, domain: str, aiohttp: bool
) -> None:
    monkeypatch.setenv(variable, "http://proxy.example:3128")
    transport = upstream_transport(settings(FEISHU_DOMAIN=domain), LIMITS)
    assert isinstance(transport, AiohttpTransport) is aiohttp
    if transport is not None:
        await transport.aclose()


def test_outside_asyncios_loop_httpx2_carries_them() -> None:
    assert upstream_transport(settings(), LIMITS) is None  # no running loop (trio has none of asyncio's)


@pytest.fixture
def sandbox_url() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox(seed=True)
    with running(sb) as url:
        yield sb, url


def child_env(sb: Sandbox, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TZ")}
    # Any ResourceWarning (an unclosed session, connector or socket) is printed, so the test sees it.
    env |= {"PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "always::ResourceWarning", "FEISHU_LOG_LEVEL": "INFO"}
    return env | {"FEISHU_DOMAIN": url, "FEISHU_USER_ACCESS_TOKEN": sb.demo_token, **extra}


def assert_closed_cleanly(log: str) -> None:
    assert "requests to Feishu: aiohttp's engine under httpx2" in log
    assert "Unclosed" not in log and "ResourceWarning" not in log, log


async def test_the_stdio_server_closes_aiohttps_session_on_shutdown(sandbox_url: tuple[Sandbox, str]) -> None:
    sb, url = sandbox_url
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "server", "serve"], cwd=ROOT, env=child_env(sb, url)
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            listed = await client.call_tool("list_calendars", {})
        errlog.seek(0)
        log = errlog.read()
    assert not listed.is_error, listed.content
    assert_closed_cleanly(log)


async def test_the_http_server_closes_aiohttps_session_on_shutdown(
    sandbox_url: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, url = sandbox_url
    config = tmp_path / "feishu"
    process, mcp_url, _ = serve_http(child_env(sb, url, FEISHU_CONFIG_DIR=str(config)))
    try:
        key = (config / KEY_FILE_NAME).read_text().strip()
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
            Client(streamable_http_client(mcp_url, http_client=http)) as client,
        ):
            listed: Any = await client.call_tool("list_calendars", {})
    finally:
        log = stop_http(process)
    assert not listed.is_error, listed.content
    assert_closed_cleanly(log)


LAZY_PROBE = """
import asyncio, sys, httpx2
from server.http_engine import upstream_transport
from server.settings import Settings

async def main(url):
    limits = httpx2.Limits(max_connections=4)
    transport = upstream_transport(Settings.load({"FEISHU_DOMAIN": url}), limits)
    at_start = sorted(m for m in ("aiohttp", "httpcore2") if m in sys.modules)
    async with httpx2.AsyncClient(transport=transport) as http:
        await http.get(url)
    print(type(transport).__name__, at_start, "aiohttp" in sys.modules)

asyncio.run(main(sys.argv[1]))
"""


def test_aiohttp_and_tls_wait_for_the_first_request_not_the_start(sandbox_url: tuple[Sandbox, str]) -> None:
    sb, url = sandbox_url
    env = child_env(sb, url)
    done = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE, url], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["AiohttpTransport", "[]", "True"], done.stderr
