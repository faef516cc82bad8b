"""Contract over every tool: snapshots, titles, annotations, client-safe schemas, context budget."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from server import schema as published
from server.app import build_server
from server.settings import Settings
from server.tokens import StaticToken
from tests.helpers import all_tools_settings, compact_size, tool_wire_json
from tools import OPERATIONS
from tools.context import get_current_context

pytestmark = pytest.mark.anyio
SNAPSHOTS = Path(__file__).parent / "snapshots" / "tools"
DESCRIPTION_LIMIT = 400
PARAM_DESCRIPTION_LIMIT = 120
CONTEXT_BUDGET = 32 * 1024
ALL_TOOLS_BUDGET = 40 * 1024


async def list_all_tools() -> list[Tool]:
    server = build_server(all_tools_settings(), StaticToken("u-test"))
    async with Client(server) as client:
        return list((await client.list_tools()).tools)


@pytest.fixture
async def tools() -> list[Tool]:
    return await list_all_tools()


def walk(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += walk(value, f"{path}[{i}]")
    return found


def test_pregenerated_schemas_match_the_models() -> None:
    # First in this module: with UPDATE_TOOL_SNAPSHOTS=1 the snapshots below are then taken
    # from the regenerated file.
    ops = [get_current_context, *OPERATIONS]
    by_key = published.model_key
    inputs = sorted({op.input_model for op in ops}, key=by_key)
    outputs = sorted({op.output_model for op in ops}, key=by_key)
    current = published.generate(inputs, outputs)
    if os.environ.get("UPDATE_TOOL_SNAPSHOTS") == "1":
        published.PREGENERATED.write_text(current, encoding="utf-8")
        published.reload_pregenerated()
        return
    assert published.PREGENERATED.read_text(encoding="utf-8") == current, (
        "server/tool_schemas.json is stale: UPDATE_TOOL_SNAPSHOTS=1 python -m pytest tests/test_contract.py"
    )


async def test_tool_count(tools: list[Tool]) -> None:
    assert len(tools) == 29  # the 23 operations, the time-sense tool and the 5 scheduling tools


async def test_snapshots_match(tools: list[Tool]) -> None:
    update = os.environ.get("UPDATE_TOOL_SNAPSHOTS") == "1"
    seen = set()
    for tool in tools:
        snapshot = SNAPSHOTS / f"{tool.name}.json"
        current = json.dumps(tool_wire_json(tool), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        seen.add(snapshot.name)
        if update:
            snapshot.write_text(current)
            continue
        assert snapshot.exists(), f"no snapshot for {tool.name}: run with UPDATE_TOOL_SNAPSHOTS=1 and review"
        assert snapshot.read_text() == current, f"{tool.name} schema changed: UPDATE_TOOL_SNAPSHOTS=1 to accept"
    stale = {p.name for p in SNAPSHOTS.glob("*.json")} - seen
    assert not stale, f"snapshots of tools that no longer exist: {sorted(stale)}"


async def test_titles_annotations_descriptions(tools: list[Tool]) -> None:
    for tool in tools:
        assert tool.title, tool.name
        ann = tool.annotations
        # The title is published once, as the tool's own: the annotation would only repeat it.
        assert ann is not None and ann.title is None, tool.name
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert getattr(ann, hint) is not None, f"{tool.name}: {hint} unset"
        assert not (ann.read_only_hint and ann.destructive_hint), tool.name
        assert 20 <= len(tool.description or "") <= DESCRIPTION_LIMIT, tool.name
        assert tool.output_schema and tool.output_schema.get("type") == "object", tool.name


async def test_every_parameter_described(tools: list[Tool]) -> None:
    for tool in tools:
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
            assert len(prop["description"]) <= PARAM_DESCRIPTION_LIMIT, f"{tool.name}.{name} description too long"


async def test_schemas_clients_accept(tools: list[Tool]) -> None:
    for tool in tools:
        for label, schema in (("input", tool.input_schema), ("output", tool.output_schema or {})):
            assert schema.get("type") == "object", f"{tool.name} {label}"
            for combinator in ("anyOf", "oneOf", "allOf"):
                assert combinator not in schema, f"{tool.name} {label}: top-level {combinator}"
            for path, node in walk(schema):
                assert "$ref" not in node, f"{tool.name} {label} {path}: $ref"
                for branch in node.get("anyOf", []) + node.get("oneOf", []):
                    assert branch.get("type") != "null", f"{tool.name} {label} {path}: null union"
                assert node.get("type") != "null", f"{tool.name} {label} {path}: null type"


@pytest.mark.parametrize(
    ("toolsets", "budget"),
    # The default toolsets: what a client that configures nothing pays in every conversation;
    # every tool: what a client that asks for all of them pays.
    [(None, CONTEXT_BUDGET), ("all", ALL_TOOLS_BUDGET)],
    ids=["default", "all"],
)
async def test_context_budget(toolsets: str | None, budget: int) -> None:
    settings = Settings.load({"FEISHU_TIMEZONE": "Asia/Shanghai"}, toolsets=toolsets)
    async with Client(build_server(settings, StaticToken("u-test"))) as client:
        tools = list((await client.list_tools()).tools)
    sizes = {tool.name: compact_size(tool_wire_json(tool)) for tool in tools}
    total = compact_size({"tools": [tool_wire_json(t) for t in tools]})
    report = "\n".join(f"{size:6d}  {name}" for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]))
    print(f"tools/list ({toolsets or 'default'} toolsets): {total} bytes of {budget}\n{report}")  # shown with -s
    assert total <= budget, f"tools/list is {total} bytes > {budget}:\n{report}"
