"""One process of the refresh race: start a server on the shared store, wait for "go", make one tool call.

Run by tests/auth/test_refresh_race.py as ``python race_child.py GO_FILE TOOL ARGS_JSON`` with the
FEISHU_* settings in its environment; prints one JSON line: is_error and the result text.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
from mcp import Client

from server.app import build_server
from server.settings import Settings
from server.tokens import token_source


async def main(go: Path, tool: str, arguments: dict[str, str]) -> None:
    settings = Settings.load(os.environ)
    server = build_server(settings, token_source(settings, sign_in_from_assistant=False))
    async with Client(server) as client:
        print("ready", flush=True)
        while not go.exists():  # everything is imported and connected: only the call is left
            await anyio.sleep(0.001)
        result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(part, "text", "") for part in result.content)
    print(json.dumps({"is_error": result.is_error, "text": text}), flush=True)


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]))
