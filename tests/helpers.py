"""Helpers shared by the test modules (not fixtures)."""

from __future__ import annotations

import json
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
