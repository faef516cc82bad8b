"""``serve --transport http``: streamable HTTP on 127.0.0.1, every request authenticated by the local key.

In this mode stdout is not the protocol, so it carries what the user needs (the address and a
ready client entry with the key); logs stay on stderr and never show the key.
"""

from __future__ import annotations

import json
import os
import socket
from typing import TYPE_CHECKING, Any, TextIO

import anyio
import uvicorn

from auth.store import config_dir
from server.http_results import ResultsWrittenOnce
from server.local_key import LocalKeyAuth, key_file, load_or_create_key

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from server.settings import Settings

HOST = "127.0.0.1"
SERVER_NAME = "feishu-calendar"


def client_instructions(url: str, key: str, key_path: str) -> str:
    """What ``serve`` prints: the address and how each client sends the key."""
    headers = {"Authorization": f"Bearer {key}"}
    entry = {"type": "http", "url": url, "headers": headers}
    return "\n".join(
        [
            f"MCP server (streamable HTTP) at {url}",
            f"Clients must send 'Authorization: Bearer <key>'; the key is in {key_path} (kept across restarts).",
            "",
            "Cursor (~/.cursor/mcp.json) and other mcpServers-style clients:",
            json.dumps({"mcpServers": {SERVER_NAME: entry}}, indent=2),
            "",
            "VS Code (mcp.json):",
            json.dumps({"servers": {SERVER_NAME: entry}}, indent=2),
            "",
            "Claude Code:",
            f"claude mcp add --transport http {SERVER_NAME} {url} --header 'Authorization: Bearer {key}'",
            "",
        ]
    )


def bind(port: int) -> socket.socket:
    """The listening socket, bound before anything is printed (port 0 picks a free port)."""
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits ~40 ms for a delayed ACK (Nagle), 4x the latency of a plain run.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if os.name == "posix":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve_http(server: MCPServer[Any], settings: Settings, port: int, out: TextIO) -> None:
    """Serve until interrupted; the key is created on first use and reused afterwards."""
    directory = config_dir(os.environ, settings.config_dir)
    key = load_or_create_key(directory)
    app = LocalKeyAuth(ResultsWrittenOnce(server.streamable_http_app(host=HOST)), key, key_file(directory))
    sock = bind(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/mcp"
    print(client_instructions(url, key, str(key_file(directory))), file=out, flush=True)
    # log_config=None: uvicorn keeps our logging set-up (stderr) instead of its own, whose
    # access log would go to stdout. Access lines carry the path only, never headers.
    config = uvicorn.Config(app, log_config=None, log_level=settings.log_level.lower(), lifespan="on")
    try:
        anyio.run(uvicorn.Server(config).serve, [sock])
    finally:
        sock.close()
