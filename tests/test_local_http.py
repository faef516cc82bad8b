"""Local HTTP needs the key: the real `serve --transport http` as a child, called with and without it."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from server.http_local import bind
from server.local_key import KEY_FILE_NAME, load_or_create_key
from tests.helpers import serve_http, stop_http

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def child_env(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "TZ")}
    return env | {"FEISHU_CONFIG_DIR": str(config), "FEISHU_TIMEZONE": "Asia/Shanghai", "FEISHU_LOG_LEVEL": "DEBUG"}


class Served:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.process, self.url, self.out = serve_http(child_env(config), "--sandbox")
        self.key = (config / KEY_FILE_NAME).read_text().strip()
        self.err = ""

    def stop(self) -> None:
        self.err = stop_http(self.process)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("config") / "feishu")
    try:
        yield server
    finally:
        server.stop()


def post(url: str, headers: dict[str, str]) -> httpx2.Response:
    return httpx2.post(url, json=INITIALIZE, headers=MCP_HEADERS | headers, timeout=30)


def test_no_key_is_refused_with_a_bearer_challenge(served: Served) -> None:
    response = post(served.url, {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert str(served.config / KEY_FILE_NAME) in response.json()["error_description"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-key", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"],
)
def test_a_wrong_key_is_refused(served: Served, authorization: str) -> None:
    response = post(served.url, {"authorization": authorization})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_key_with_one_character_changed_is_refused(served: Served) -> None:
    near = served.key[:-1] + ("A" if served.key[-1] != "A" else "B")
    assert post(served.url, {"authorization": f"Bearer {near}"}).status_code == 401


@pytest.mark.parametrize("path", ["/", "/mcp/", "/.well-known/oauth-protected-resource", "/callback"])
def test_every_path_needs_the_key(served: Served, path: str) -> None:
    base = served.url.removesuffix("/mcp")
    assert httpx2.get(base + path, timeout=30).status_code == 401


def test_the_key_opens_the_real_client(served: Served) -> None:
    import anyio

    async def use() -> None:
        headers = {"Authorization": f"Bearer {served.key}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
            Client(streamable_http_client(served.url, http_client=http)) as client,
        ):
            assert len((await client.list_tools()).tools) == 29  # every tool (the sandbox serves them all)
            context = await client.call_tool("get_current_context", {})
            assert not context.is_error and context.structured_content is not None
            assert context.structured_content["user"]["name"]

    anyio.run(use)
    # A scheme written in any case is still a bearer token (RFC 7235: case-insensitive).
    assert post(served.url, {"authorization": f"bearer {served.key}"}).status_code == 200


def test_the_key_file_is_private(served: Served) -> None:
    path = served.config / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(served.config.stat().st_mode) == 0o700
    assert len(served.key) >= 43  # 256 random bits


def test_serve_prints_the_address_and_a_ready_client_entry(tmp_path: Path) -> None:
    server = Served(tmp_path / "config")
    server.stop()
    printed = server.out
    assert f'"url": "{server.url}"' in printed
    assert f'"Authorization": "Bearer {server.key}"' in printed
    assert '"servers"' in printed and '"mcpServers"' in printed  # VS Code's shape and the others'
    assert f"claude mcp add --transport http feishu-calendar {server.url}" in printed


def test_the_key_is_kept_across_restarts_and_never_logged(tmp_path: Path) -> None:
    config = tmp_path / "config"
    first = Served(config)
    assert post(first.url, {"authorization": f"Bearer {first.key}"}).status_code == 200
    assert post(first.url, {"authorization": "Bearer wrong"}).status_code == 401
    first.stop()
    second = Served(config)
    try:
        assert second.key == first.key
        assert post(second.url, {"authorization": f"Bearer {first.key}"}).status_code == 200
    finally:
        second.stop()
    for logs in (first.err, second.err):
        assert "DEBUG" in logs or "INFO" in logs  # the logs were verbose...
        assert first.key not in logs  # ...and still never showed the key


def test_a_key_other_users_could_read_is_replaced(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    path = tmp_path / KEY_FILE_NAME
    path.chmod(0o644)
    fresh = load_or_create_key(tmp_path)
    assert fresh != key and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["", "short", "x" * 43 + " spaces inside", "\xff\xfe"])
def test_a_damaged_key_file_is_replaced(tmp_path: Path, content: str) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_bytes(content.encode("latin-1"))
    path.chmod(0o600)
    key = load_or_create_key(tmp_path)
    assert key != content and path.read_text().strip() == key


def test_the_config_folder_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    load_or_create_key(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir()] == [KEY_FILE_NAME]  # no temp file left behind


def test_servers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    keys: list[str] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        keys.append(load_or_create_key(tmp_path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and keys[0] == (tmp_path / KEY_FILE_NAME).read_text().strip()


def test_the_listener_says_it_is_tcp() -> None:
    # asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto is TCP; with proto 0 every
    # answer of the HTTP transport waited ~40 ms for a delayed ACK.
    sock = bind(0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


def test_requests_are_parsed_by_httptools() -> None:
    """uvicorn picks its C parser when httptools is installed (a dependency for that reason: over
    streamable HTTP it cut server CPU per get_event by a fifth against pure-Python h11)."""
    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    config = uvicorn.Config(app=lambda scope, receive, send: None, log_config=None)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
