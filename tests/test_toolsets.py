"""Which tools a client sees: toolset choices and read-only mode, through a real MCP client; the prompts."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from server.app import build_server
from server.settings import Settings
from server.tokens import StaticToken

pytestmark = pytest.mark.anyio

EVENTS = [
    "create_event",
    "delete_event",
    "update_event",
    "get_event",
    "list_events",
    "search_events",
    "reply_event",
    "list_recurring_instances",
    "view_instances",
]
ATTENDEES = ["add_attendees", "remove_attendees", "list_attendees", "list_chat_members"]
MEETINGS = ["create_meeting_chat", "unbind_meeting_chat", "create_meeting_minutes"]
ROOMS = ["get_room_freebusy", "find_rooms"]
PEOPLE = ["find_people"]
FREEBUSY = ["get_free_busy", "find_meeting_times"]
CALENDARS = ["list_calendars"]
SUBSCRIPTIONS = ["subscribe_events", "unsubscribe_events"]
SETTINGS = ["generate_caldav_config"]
EXCHANGE = ["create_exchange_binding", "delete_exchange_binding", "get_exchange_binding"]
READ_ONLY = {
    "get_current_context",
    "get_event",
    "list_events",
    "search_events",
    "list_recurring_instances",
    "view_instances",
    "get_room_freebusy",
    "list_attendees",
    "list_chat_members",
    "get_exchange_binding",
    "find_people",
    "get_free_busy",
    "find_meeting_times",
    "find_rooms",
    "list_calendars",
}


async def listed(environ: dict[str, str] | None = None, **overrides: Any) -> list[str]:
    settings = Settings.load({"FEISHU_TIMEZONE": "Asia/Shanghai", **(environ or {})}, **overrides)
    async with Client(build_server(settings, StaticToken("u-t"))) as client:
        return [tool.name for tool in (await client.list_tools()).tools]


async def test_default_toolsets() -> None:
    assert await listed() == [
        "get_current_context",
        *EVENTS,
        *MEETINGS,
        "get_room_freebusy",
        *ATTENDEES,
        *PEOPLE,
        *FREEBUSY,
        "find_rooms",
        *CALENDARS,
    ]


@pytest.mark.parametrize(
    ("toolsets", "expected"),
    [
        ("events", EVENTS),
        ("attendees", ATTENDEES),
        ("meetings", MEETINGS),
        ("rooms", ROOMS),
        ("people", PEOPLE),
        ("freebusy", FREEBUSY),
        ("calendars", CALENDARS),
        ("subscriptions", SUBSCRIPTIONS),
        ("settings", SETTINGS),
        ("exchange", EXCHANGE),
        ("rooms,exchange", ["get_room_freebusy", *EXCHANGE, "find_rooms"]),
        (
            "all",
            EVENTS
            + MEETINGS
            + ["get_room_freebusy"]
            + ATTENDEES
            + SUBSCRIPTIONS
            + SETTINGS
            + EXCHANGE
            + PEOPLE
            + FREEBUSY
            + ["find_rooms"]
            + CALENDARS,
        ),
    ],
)
async def test_each_toolset_exactly(toolsets: str, expected: list[str]) -> None:
    # The time tool is always there: every other tool needs it to read "tomorrow at 3".
    assert await listed(toolsets=toolsets) == ["get_current_context", *expected]


async def test_toolsets_from_the_environment() -> None:
    assert await listed({"FEISHU_TOOLSETS": "rooms"}) == ["get_current_context", *ROOMS]


async def test_read_only_registers_only_tools_that_change_nothing() -> None:
    names = await listed(toolsets="all", read_only=True)
    assert set(names) == READ_ONLY
    read_only_events = [name for name in ["get_current_context", *EVENTS] if name in READ_ONLY]
    assert await listed({"FEISHU_READ_ONLY": "true", "FEISHU_TOOLSETS": "events"}) == read_only_events
    assert len(read_only_events) == 6


async def test_read_only_tools_are_annotated_read_only() -> None:
    settings = Settings.load({"FEISHU_TIMEZONE": "UTC"}, toolsets="all", read_only=True)
    async with Client(build_server(settings, StaticToken("u-t"))) as client:
        tools = (await client.list_tools()).tools
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools)


def test_unknown_toolset_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown toolsets \['calendar'\].*events, attendees"):
        Settings.load({}, toolsets="events,calendar")


async def test_prompts_are_short_workflows_over_the_tools() -> None:
    settings = Settings.load({"FEISHU_TIMEZONE": "UTC"})
    async with Client(build_server(settings, StaticToken("u-t"))) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        tools = (await client.list_tools()).tools
        assert set(prompts) == {"schedule_meeting", "agenda_for_day"}
        assert [a.name for a in prompts["schedule_meeting"].arguments or []][:1] == ["topic"]
        meeting = await client.get_prompt("schedule_meeting", {"topic": "Q4 review", "attendees": "Li Lei"})
        agenda = await client.get_prompt("agenda_for_day", {"day": "2026-12-02"})
    meeting_text = meeting.messages[0].content.text  # type: ignore[union-attr]
    agenda_text = agenda.messages[0].content.text  # type: ignore[union-attr]
    assert "Q4 review" in meeting_text and "Li Lei" in meeting_text
    # The attendees' free/busy, not only mine: the workflow used to check my calendar alone.
    for tool in ("get_current_context", "find_meeting_times", "create_event", "list_attendees"):
        assert tool in meeting_text
    assert "invite" in meeting_text and "room" in meeting_text
    # The arguments the workflow names are the tools' own.
    schemas = {t.name: t.input_schema["properties"] for t in tools}
    assert {"attendees", "start", "end", "duration_minutes", "room_capacity"} <= set(schemas["find_meeting_times"])
    assert {"summary", "start", "end", "invite", "room"} <= set(schemas["create_event"])
    assert "2026-12-02" in agenda_text and "view_instances" in agenda_text and "external_content" in agenda_text
