"""Helpers shared by the test modules (not fixtures)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from mcp.types import Tool

from server.settings import Settings


def all_tools_settings(**overrides: Any) -> Settings:
    return Settings.load({"FEISHU_TIMEZONE": "Asia/Shanghai"}, toolsets="all", **overrides)


def tool_wire_json(tool: Tool) -> dict[str, Any]:
    """A tool as it travels in tools/list (camelCase, no nulls)."""
    dumped: dict[str, Any] = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def compact_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def serve_http(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], str, str]:
    """``serve --transport http --port 0`` as a child; returns it, its address and what it printed on stdout.

    The caller stops it (``stop_http``). stderr is piped so a test can read the logs afterwards.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", *args, "--transport", "http", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if not first.startswith("MCP server (streamable HTTP) at "):
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"serve printed {first!r} instead of its address; stderr:\n{err}")
    printed = [first]
    while not printed[-1].startswith("claude mcp add") and printed[-1]:
        printed.append(process.stdout.readline())
    return process, first.split(" at ", 1)[1].strip(), "".join(printed)


def stop_http(process: subprocess.Popen[str]) -> str:
    """Stop a child started by :func:`serve_http`; returns its stderr."""
    process.terminate()
    return process.communicate(timeout=30)[1]
