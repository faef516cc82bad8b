"""Arguments are the input model's, exactly: unknown names are refused, `required` is the truth.

Every tool is called through a real MCP client against the sandbox, and the sandbox's request
log shows whether anything left the server.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import Tool

from bench.fuzz import MINIMAL_ARGUMENTS
from tests.e2e.harness import Harness
from tools import OPERATIONS
from tools.context import get_current_context

pytestmark = pytest.mark.anyio

EVENT = {"event_id": "e_0"}
MINIMAL = MINIMAL_ARGUMENTS
TOOLS = [op.name for op in (get_current_context, *OPERATIONS)]
# Names a model brings from elsewhere, and the name it meant.
WRONG_NAMES = {"start_time": "start", "time_max": "end", "calendar": "calendar_id", "event_ids": "event_id"}


async def _tools(mcp: Harness) -> dict[str, Tool]:
    return {tool.name: tool for tool in (await mcp.client.list_tools()).tools}


async def _message(mcp: Harness, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    """(is_error, text) of one call, with the sandbox's log cleared first."""
    mcp.sb.log.clear()
    result = await mcp.client.call_tool(tool, arguments)
    return bool(result.is_error), " ".join(getattr(block, "text", "") for block in result.content)


def test_every_tool_has_minimal_arguments() -> None:
    assert sorted(MINIMAL) == sorted(TOOLS)


@pytest.mark.parametrize("tool", TOOLS)
async def test_unknown_argument_is_refused_before_the_network(mcp: Harness, tool: str) -> None:
    is_error, text = await _message(mcp, tool, {**MINIMAL[tool], "colour_of_sky": "blue"})
    assert is_error and "nothing was sent to Feishu" in text, text
    assert "colour_of_sky: unknown argument" in text, text
    listed = text.split("Accepted arguments: ", 1)[1].removesuffix(".").split(", ")
    assert sorted(listed) == sorted((await _tools(mcp))[tool].input_schema.get("properties", {}))
    assert list(mcp.sb.log) == []


@pytest.mark.parametrize("tool", TOOLS)
async def test_unknown_argument_is_refused_even_when_null(mcp: Harness, tool: str) -> None:
    is_error, text = await _message(mcp, tool, {**MINIMAL[tool], "start_time": None})
    assert is_error and "start_time: unknown argument" in text, text
    assert list(mcp.sb.log) == []


async def test_update_event_with_other_tools_names_moves_nothing(mcp: Harness) -> None:
    """The issue's case: start_time/end_time used to be dropped, and an empty PATCH reported success."""
    created = await mcp.call("create_event", summary="Move me", **MINIMAL["create_event"])
    event_id = created["event"]["event_id"]
    arguments = {"event_id": event_id, "start_time": "2026-11-24T15:00+08:00", "end_time": "2026-11-24T16:00+08:00"}
    is_error, text = await _message(mcp, "update_event", arguments)
    assert is_error, text
    assert "start_time: unknown argument; did you mean start?" in text, text
    assert "end_time: unknown argument; did you mean end?" in text, text
    assert list(mcp.sb.log) == []
    assert (await mcp.call("get_event", event_id=event_id))["event"]["start"] == "2026-11-23T15:00:00+08:00"


@pytest.mark.parametrize(("wrong", "meant"), WRONG_NAMES.items())
async def test_the_likely_name_is_suggested(mcp: Harness, wrong: str, meant: str) -> None:
    tool = "get_event" if meant in ("calendar_id", "event_id") else "view_instances"
    arguments = {k: v for k, v in MINIMAL[tool].items() if k != meant} | {wrong: MINIMAL[tool].get(meant, "x")}
    is_error, text = await _message(mcp, tool, arguments)
    assert is_error and f"{wrong}: unknown argument; did you mean {meant}?" in text, text


async def test_no_suggestion_for_a_name_like_none_accepted(mcp: Harness) -> None:
    is_error, text = await _message(mcp, "get_event", {**EVENT, "zzzz": 1})
    assert is_error and "- zzzz: unknown argument\n" in text, text


async def test_confirmation_cannot_be_sent_as_an_argument(mcp: Harness) -> None:
    # The destructive tools' confirmation comes from the user (elicitation), never from the model.
    is_error, text = await _message(mcp, "delete_event", {**EVENT, "confirmation": {"confirm": True}})
    assert is_error and "confirmation: unknown argument" in text, text
    assert list(mcp.sb.log) == []


@pytest.mark.parametrize("tool", TOOLS)
async def test_required_is_what_the_server_requires(mcp: Harness, tool: str) -> None:
    schema = (await _tools(mcp))[tool].input_schema
    assert sorted(schema.get("required", [])) == sorted(MINIMAL[tool]), tool
    # The minimal arguments pass validation: the call reaches Feishu (whatever Feishu answers).
    is_error, text = await _message(mcp, tool, MINIMAL[tool])
    assert "nothing was sent to Feishu" not in text, text
    assert list(mcp.sb.log), f"{tool} sent nothing with its minimal arguments: {text}"
    # Without any one of them, the call fails before the network.
    for name in MINIMAL[tool]:
        is_error, text = await _message(mcp, tool, {k: v for k, v in MINIMAL[tool].items() if k != name})
        assert is_error and "nothing was sent to Feishu" in text and name in text, (tool, name, text)
        assert list(mcp.sb.log) == [], (tool, name)


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _objects(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if "properties" in node else []
    return own + [found for value in node.values() for found in _objects(value)]


async def test_every_input_object_refuses_other_properties(mcp: Harness) -> None:
    for tool in (await _tools(mcp)).values():
        assert tool.input_schema.get("additionalProperties") is False, tool.name
        for node in _objects(tool.input_schema):
            assert node.get("additionalProperties") is False, (tool.name, sorted(node["properties"]))


async def test_unknown_nested_field_names_the_fields_it_takes(mcp: Harness) -> None:
    attendee = {"type": "user", "open_id": "ou_1"}
    is_error, text = await _message(mcp, "add_attendees", {**EVENT, "attendees": [attendee]})
    assert is_error and "- attendees.0.open_id: unknown field; did you mean user_id? (it takes type, user_id," in text
    is_error, text = await _message(mcp, "create_event", {**MINIMAL["create_event"], "location": {"nam": "Room 1"}})
    assert is_error and "- location.nam: unknown field; did you mean name? (it takes name, address," in text, text
    assert list(mcp.sb.log) == []


async def test_a_flood_of_unknown_names_gets_a_short_answer(mcp: Harness) -> None:
    flood = {f"k{i}": i for i in range(1000)} | {"n" * 66_000: 1}
    is_error, text = await _message(mcp, "get_event", {**EVENT, **flood})
    assert is_error and "- and 989 more\nAccepted arguments: calendar_id, event_id," in text, text
    assert len(text) < 2000 and list(mcp.sb.log) == []
