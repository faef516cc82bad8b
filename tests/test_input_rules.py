"""Every Feishu input rule fails before the network, naming the field and the rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from mcp import Client

from server.app import build_server
from server.tokens import StaticToken
from tests.helpers import all_tools_settings

pytestmark = pytest.mark.anyio

EV = {"event_id": "evt_0"}
T1, T2 = "2026-11-23T15:00:00+08:00", "2026-11-23T16:00:00+08:00"
TIMED = {"start": T1, "end": T2}
USER = {"type": "user", "user_id": "ou_1"}

# (tool, arguments, text the error must contain: the field, and a word of the rule)
CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("create_event", {**TIMED, "summary": "x" * 1001}, ["summary", "1000"]),
    ("create_event", {**TIMED, "description": "x" * 40961}, ["description", "40960"]),
    ("create_event", {**TIMED, "location": {"name": ""}}, ["location.name", "at least 1"]),
    ("create_event", {**TIMED, "location": {"name": "x" * 513}}, ["location.name", "512"]),
    ("create_event", {**TIMED, "location": {"address": "x" * 256}}, ["location.address", "255"]),
    ("create_event", {**TIMED, "reminders": [20161]}, ["reminders.0", "20160"]),
    ("create_event", {**TIMED, "reminders": [-20161]}, ["reminders.0", "-20160"]),
    ("create_event", {**TIMED, "reminders": [True]}, ["reminders.0", "not true/false"]),
    ("create_event", {**TIMED, "reminders": [{"minutes": 15}]}, ["reminders.0", "reminders=[15]"]),
    # Exactly 40 days is refused (193103: "less than 40 days"); "longer than the limit of 40 days" read as allowed.
    ("view_instances", {"start": "2026-12-01", "end": "2027-01-09"}, ["end: the window must be under 40 days"]),
    ("list_events", {"page_size": True}, ["page_size", "not true/false"]),
    ("get_event", {"event_id": "e_0", "max_attendee_num": False}, ["max_attendee_num", "not true/false"]),
    ("create_event", {**TIMED, "recurrence": "FREQ=SOMETIMES"}, ["recurrence", "RRULE"]),
    ("create_event", {**TIMED, "recurrence": "FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z"}, ["COUNT", "UNTIL"]),
    ("create_event", {**TIMED, "recurrence": "FREQ=DAILY;" + "BYHOUR=1;" * 250}, ["recurrence", "2000"]),
    ("create_event", {"start": "2026-11-23", "end": T2}, ["start/end", "all-day"]),
    ("create_event", {"start": T2, "end": T1}, ["end", "after start"]),
    ("create_event", {"start": T1}, ["- end: Field required"]),
    ("create_event", {"summary": "no times"}, ["- start: Field required", "- end: Field required"]),
    (
        "create_event",
        {"start": "2026-11-23T15:00", "end": "2026-11-23T16:00", "timezone": "Mars/Olympus"},
        ["timezone", "IANA"],
    ),
    ("create_event", {"start": "tomorrow at 3", "end": T2}, ["start", "RFC 3339"]),
    ("create_event", {**TIMED, "visibility": "secret"}, ["visibility", "'default', 'public' or 'private'"]),
    ("create_event", {**TIMED, "attendee_ability": "all"}, ["attendee_ability", "can_see_others"]),
    ("create_event", {**TIMED, "free_busy_status": "away"}, ["free_busy_status", "'busy' or 'free'"]),
    ("create_event", {**TIMED, "vchat": {"vc_type": "zoom"}}, ["vchat.vc_type", "third_party"]),
    ("create_event", {**TIMED, "vchat": {"icon_type": "big"}}, ["vchat.icon_type", "live"]),
    ("create_event", {**TIMED, "schemas": [{"ui_name": "Banner"}]}, ["schemas.0.ui_name", "RSVP"]),
    ("create_event", {**TIMED, "schemas": [{"ui_name": "RSVP", "ui_status": "gone"}]}, ["schemas.0.ui_status", "hide"]),
    ("create_event", {**TIMED, "user_id_type": "email"}, ["user_id_type", "open_id"]),
    ("create_event", {**TIMED, "idempotency_key": "short"}, ["idempotency_key", "32"]),
    ("create_event", {**TIMED, "idempotency_key": "k" * 129}, ["idempotency_key", "128"]),
    ("update_event", {**EV, "start": T1}, ["start/end", "both"]),
    ("reply_event", {**EV, "rsvp_status": "maybe"}, ["rsvp_status", "accept"]),
    ("list_events", {"page_size": 49}, ["page_size", "50"]),
    ("list_events", {"page_size": 1001}, ["page_size", "1000"]),
    ("list_events", {"start": T1, "end": T2, "sync_token": "s"}, ["start/end", "sync_token"]),
    ("search_events", {"query": "x", "page_size": 101}, ["page_size", "100"]),
    ("search_events", {"query": "x" * 201}, ["query", "200"]),
    (
        "list_recurring_instances",
        {**EV, "start": "2026-01-01", "end": "2026-01-02", "page_size": 9},
        ["page_size", "10"],
    ),
    (
        "list_recurring_instances",
        {**EV, "start": "2026-01-01", "end": "2026-01-02", "page_size": 501},
        ["page_size", "500"],
    ),
    ("list_recurring_instances", {**EV, "start": "2026-01-01", "end": "2028-06-01"}, ["end", "limit"]),
    ("view_instances", {"start": "2026-11-01", "end": "2026-12-10"}, ["end", "40 days"]),
    ("view_instances", {"start": "2026-11-10", "end": "2026-11-01"}, ["end", "after"]),
    (
        "get_room_freebusy",
        {"room_ids": [f"omm_{i}" for i in range(21)], "start": T1, "end": T2},
        ["room_ids", "20"],
    ),
    ("get_room_freebusy", {"room_ids": [], "start": T1, "end": T2}, ["room_ids", "at least 1"]),
    ("add_attendees", {**EV, "attendees": [USER] * 1001}, ["attendees", "1000"]),
    (
        "add_attendees",
        {**EV, "attendees": [{"type": "user", "name": "Li Lei"}], "user_id_type": "user_id"},
        ["user_id_type", "names are looked up as open_ids"],
    ),
    ("add_attendees", {**EV, "attendees": [{"type": "robot", "user_id": "ou_1"}]}, ["attendees.0.type", "user"]),
    # A bare name (create_event's invite takes them) says the object to send, not just "a dictionary".
    ("add_attendees", {**EV, "attendees": ["Han Meimei"]}, ["attendees.0", '{"type": "user", "name": "Han Meimei"}']),
    ("add_attendees", {**EV, "attendees": [{"type": "resource", "user_id": "ou_1"}]}, ["room_id", "required"]),
    (
        "add_attendees",
        {**EV, "attendees": [{"type": "resource", "room_id": "omm_1", "is_optional": True}]},
        ["is_optional", "rooms"],
    ),
    ("remove_attendees", {**EV, "attendee_ids": [f"user_{i}" for i in range(501)]}, ["attendee_ids", "500"]),
    ("list_attendees", {**EV, "page_size": 101}, ["page_size", "100"]),
    ("list_chat_members", {**EV, "attendee_id": "chat_1", "page_size": 101}, ["page_size", "100"]),
    ("list_chat_members", {**EV, "attendee_id": "user_1"}, ["attendee_id", "pattern"]),
    ("get_event", {**EV, "max_attendee_num": 101}, ["max_attendee_num", "100"]),
    ("generate_caldav_config", {"device_name": "d" * 101}, ["device_name", "100"]),
    ("create_exchange_binding", {"admin_account": "a" * 501}, ["admin_account", "500"]),
    ("unbind_meeting_chat", {**EV, "meeting_chat_id": "not-a-chat"}, ["meeting_chat_id", "pattern"]),
    ("create_event", {**TIMED, "recurrence": "FREQ=DAILY;BYHOUR=99999999999999999999"}, ["recurrence", "RRULE"]),
    ("create_event", {**TIMED, "recurrence": "FREQ=DAILY;COUNT=١٢"}, ["recurrence", "ASCII"]),
    # Empty: patch.md reads it as "no change" (it cannot end a series); dateutil said "not enough values to
    # unpack" for it and for a part with no "=".
    ("update_event", {**EV, "recurrence": ""}, ["recurrence: empty", "this_and_following"]),
    ("create_event", {**TIMED, "recurrence": "FREQ=WEEKLY;MO"}, ["recurrence: each part is NAME=VALUE", "'MO'"]),
]

# Inputs that once reached "internal error of this server" (issue 10, point 4).
DAY, FAR_END = {"start": "2026-11-23", "end": "2026-11-24"}, {"start": "2026-11-23", "end": "9999-12-31"}
ZONE_TOOLS: dict[str, dict[str, Any]] = {
    "get_current_context": {},
    "create_event": {"start": "2026-11-23T15:00", "end": "2026-11-23T16:00"},
    "update_event": EV,
    "list_events": {},
    "search_events": {"query": "q"},
    "list_recurring_instances": {**EV, **DAY},
    "view_instances": DAY,
    "get_room_freebusy": {"room_ids": ["omm_1"], **DAY},
}
PAGED_TOOLS: dict[str, dict[str, Any]] = {
    "list_events": {},
    "search_events": {"query": "q"},
    "list_recurring_instances": {**EV, **DAY},
    "list_attendees": EV,
    "list_chat_members": {**EV, "attendee_id": "chat_1"},
}
HUGE_TOKEN = "t" * 66_000
FULLWIDTH_DATE = "2026-11-23".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
CASES += [
    (tool, {**args, "timezone": "Z" * 256}, ["timezone", "at most 64 characters"]) for tool, args in ZONE_TOOLS.items()
]
CASES += [
    (tool, {**args, "page_token": HUGE_TOKEN}, ["page_token", "at most 2048"]) for tool, args in PAGED_TOOLS.items()
]
CASES += [
    ("list_events", {"sync_token": HUGE_TOKEN}, ["sync_token", "at most 2048"]),
    ("view_instances", {**DAY, "timezone": "Z" * 65}, ["timezone", "at most 64 characters"]),
    ("view_instances", {"start": "2026-11-23T10:00", "end": "2026-11-23T11:00", "timezone": "Z" * 64}, ["IANA"]),
    ("list_events", FAR_END, ["end", "range", "2499-12-30"]),
    ("view_instances", FAR_END, ["end", "range", "2499-12-30"]),
    ("view_instances", {"start": "9999-12-31", "end": "9999-12-31"}, ["start", "range"]),
    ("get_room_freebusy", {"room_ids": ["omm_1"], **FAR_END}, ["end", "range", "2499-12-30"]),
    ("list_recurring_instances", {**EV, **FAR_END}, ["end", "range"]),
    ("search_events", {"query": "q", "end": "9999-12-31"}, ["end", "range"]),
    ("list_events", {"anchor_time": "9999-12-31"}, ["anchor_time", "range"]),
    ("create_event", {"start": "9999-12-31", "end": "9999-12-31"}, ["start", "range"]),
    ("view_instances", {"start": "0001-01-01", "end": "0001-01-02"}, ["start", "range"]),
    ("view_instances", {"start": "9999-12-31T23:00-23:59", "end": "9999-12-31T23:30-23:59"}, ["start", "range"]),
    ("view_instances", {"start": "١٧٩٥٤١٧٢٠٠", "end": "2026-11-24"}, ["start", "ASCII digits"]),
    ("view_instances", {"start": FULLWIDTH_DATE, "end": "2026-11-24"}, ["start", "ASCII digits"]),
    ("view_instances", {"start": "2026-11-23T\uff11\uff10:00+08:00", "end": "2026-11-24"}, ["start", "ASCII digits"]),
]


@pytest.fixture
async def client_and_requests() -> AsyncIterator[tuple[Client, list[httpx2.Request]]]:
    seen: list[httpx2.Request] = []

    def upstream(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(500, json={"code": 190003, "msg": "a bad input got through"})

    server = build_server(all_tools_settings(), StaticToken("u-test"), transport=httpx2.MockTransport(upstream))
    async with Client(server) as client:
        yield client, seen


@pytest.mark.parametrize(("tool", "arguments", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
async def test_rule_rejected_before_network(
    client_and_requests: tuple[Client, list[httpx2.Request]], tool: str, arguments: dict[str, Any], expected: list[str]
) -> None:
    client, seen = client_and_requests
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert result.is_error, text
    assert "nothing was sent to Feishu" in text, text
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert seen == [], f"{tool} sent {len(seen)} request(s) for invalid input"
