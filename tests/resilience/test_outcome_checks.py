"""Every "outcome unknown" names a tool call, and that call really settles it against the sandbox.

For each write that is never replayed, the sandbox loses the answer after the write happened
(``drop`` with ``after_write``) or before it (plain ``drop``); the test then makes exactly the
call the advice names, parsed from the error text, and checks that its answer tells the two apart.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from sandbox import ADMIN_OPEN_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, Sandbox
from server.app import build_server
from server.clock import VirtualClock
from server.tokens import StaticToken
from tests.helpers import all_tools_settings
from tests.resilience.upstream import text
from tools import OPERATIONS
from tools.spec import Replay

pytestmark = pytest.mark.anyio
BINDING = {"admin_account": "admin@corp.example", "exchange_account": "li.lei@corp.example", "user_id": LI_LEI_OPEN_ID}


CLOCK = VirtualClock(start=time.time())  # retry waits cost no time; the sandbox reads it too


async def session(sb: Sandbox, user: str | None = None) -> AsyncIterator[Client]:
    token = sb.demo_token if user is None else sb.issue_user_token(user)
    server = build_server(all_tools_settings(), StaticToken(token), transport=sb.transport(), clock=CLOCK)
    async with Client(server) as client:
        yield client


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(seed=True, clock=CLOCK)


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[Client]:
    async for c in session(sb):
        yield c


@pytest.fixture
async def admin(sb: Sandbox) -> AsyncIterator[Client]:
    async for c in session(sb, ADMIN_OPEN_ID):
        yield c


async def unknown_then_advised(
    client: Client, sb: Sandbox, tool: str, arguments: dict[str, Any], *, wrote: bool
) -> Any:
    """Call ``tool`` with its answer lost (after or before the write); then make the advised call."""
    sb.faults.inject("drop", times=1, method="POST", after_write=wrote)
    lost = await client.call_tool(tool, arguments)
    assert lost.is_error
    advice = text(lost).partition("What to do:")[2]
    assert "may or may not have been made" in text(lost) and advice
    named = re.search(r"call (\w+)", advice)
    assert named, advice
    advised_tool = named.group(1)
    assert advised_tool in {op.name for op in OPERATIONS}, f"the advice names no tool: {advice}"
    advised = dict(arguments)
    binding = re.search(r'exchange_binding_id="([^"]+)"', advice)
    if binding:
        advised = {"exchange_binding_id": binding.group(1)}
    return advised_tool, await client.call_tool(advised_tool, advised)


async def event_with_guests(client: Client) -> str:
    start, end = "2027-03-02T10:00:00+08:00", "2027-03-02T11:00:00+08:00"
    created = await client.call_tool(
        "create_event", {"summary": "Chat me", "start": start, "end": end, "attendee_ability": "can_see_others"}
    )
    event_id = str((created.structured_content or {})["event"]["event_id"])
    guests = [{"type": "user", "user_id": LI_LEI_OPEN_ID}, {"type": "user", "user_id": HAN_MEIMEI_OPEN_ID}]
    added = await client.call_tool("add_attendees", {"event_id": event_id, "attendees": guests})
    assert not added.is_error, text(added)
    return event_id


def test_every_write_that_is_never_replayed_is_covered_here() -> None:
    covered = {"create_meeting_chat", "create_meeting_minutes", "generate_caldav_config", "create_exchange_binding"}
    assert {op.name for op in OPERATIONS if op.replay is Replay.NEVER} == covered


@pytest.mark.parametrize("wrote", [True, False])
async def test_meeting_chat(client: Client, sb: Sandbox, wrote: bool) -> None:
    event_id = await event_with_guests(client)
    tool, result = await unknown_then_advised(client, sb, "create_meeting_chat", {"event_id": event_id}, wrote=wrote)
    assert tool == "create_meeting_chat"
    assert len([c for c in sb.world.meeting_chats.values() if c.event_id == event_id]) == 1  # never two
    if wrote:  # the lost call made it: asking again says the event already has one
        assert result.is_error and "195109" in text(result)
    else:  # it did not: asking again makes it, with its id
        assert not result.is_error, text(result)
        assert str((result.structured_content or {})["data"]["meeting_chat_id"]).startswith("oc_")


@pytest.mark.parametrize("wrote", [True, False])
async def test_meeting_minutes(client: Client, sb: Sandbox, wrote: bool) -> None:
    event_id = await event_with_guests(client)
    tool, result = await unknown_then_advised(client, sb, "create_meeting_minutes", {"event_id": event_id}, wrote=wrote)
    assert tool == "create_meeting_minutes"
    assert not result.is_error, text(result)
    assert (result.structured_content or {})["data"]["doc_url"] == sb.world.minutes[event_id].doc_url


@pytest.mark.parametrize("wrote", [True, False])
async def test_caldav_config(client: Client, sb: Sandbox, wrote: bool) -> None:
    tool, result = await unknown_then_advised(
        client, sb, "generate_caldav_config", {"device_name": "Phone"}, wrote=wrote
    )
    assert tool == "generate_caldav_config"
    assert not result.is_error, text(result)
    data = (result.structured_content or {})["data"]
    assert data["password"] == sb.world.caldav[-1].password  # a working configuration, now shown
    assert len(sb.world.caldav) == (2 if wrote else 1)  # the unseen one, if any, is the only leftover


@pytest.mark.parametrize("wrote", [True, False])
async def test_exchange_binding(admin: Client, sb: Sandbox, wrote: bool) -> None:
    tool, result = await unknown_then_advised(admin, sb, "create_exchange_binding", BINDING, wrote=wrote)
    assert tool == "get_exchange_binding"
    if wrote:  # found by the id worked out from the accounts: the binding exists
        assert not result.is_error, text(result)
        assert (result.structured_content or {})["data"]["exchange_account"] == "li.lei@corp.example"
    else:  # not found: the advice's second step, creating it again, is now safe
        assert result.is_error and "195103" in text(result)
        again = await admin.call_tool("create_exchange_binding", BINDING)
        assert not again.is_error, text(again)
    assert len(sb.world.exchange_bindings) == 1
