"""Writes whose request went unanswered and ran later at Feishu, through a real MCP client.

The sandbox's ``late`` fault holds a request back, answers nothing, and runs it just before the
``late_by``-th request after it: so each test can place the stale write exactly (before the
newer write, during its read-back, or after it) and check what the model is told.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp import Client

from sandbox import LI_LEI_OPEN_ID, Sandbox, running
from server.app import build_server
from server.clock import VirtualClock
from server.tokens import StaticToken
from tests.helpers import all_tools_settings
from tests.resilience.upstream import text

pytestmark = pytest.mark.anyio
START = "2027-03-01T10:00:00+08:00"
END = "2027-03-01T10:30:00+08:00"


@pytest.fixture(params=["in-process", "aiohttp", "httpx2"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Sandbox, Client]]:
    """The sandbox in process, or served on a loopback socket to each HTTP engine (server/http_engine.py):
    the retry and replay rules must see the same failures whichever carries the requests."""
    clock = VirtualClock(start=time.time())
    sb = Sandbox(seed=True, clock=clock)
    if request.param == "in-process":
        server = build_server(all_tools_settings(), StaticToken(sb.demo_token), transport=sb.transport(), clock=clock)
        async with Client(server) as client:
            yield sb, client
        return
    with running(sb) as url:
        settings = all_tools_settings(domain=url, http_engine=request.param)
        async with Client(build_server(settings, StaticToken(sb.demo_token), clock=clock)) as client:
            yield sb, client


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    return dict(result.structured_content or {})


async def new_event(client: Client, summary: str = "v0") -> str:
    created = await ok(client, "create_event", {"summary": summary, "start": START, "end": END})
    return str(created["event"]["event_id"])


def summary_in_sandbox(sb: Sandbox, event_id: str) -> str:
    return next(e.summary for e in sb.world.events.values() if e.event_id == event_id)


def warnings_of(result: dict[str, Any]) -> str:
    return " | ".join(result.get("warnings") or [])


async def stale_v1_then_v2(world: tuple[Sandbox, Client], late_by: int) -> tuple[str, dict[str, Any]]:
    """Rename an event to v1 with its first PATCH held back ``late_by`` requests, then to v2."""
    sb, client = world
    event_id = await new_event(client)
    sb.faults.inject("late", times=1, method="PATCH", delay=0, late_by=late_by)
    await ok(client, "update_event", {"event_id": event_id, "summary": "v1"})
    return event_id, await ok(client, "update_event", {"event_id": event_id, "summary": "v2"})


async def test_an_unanswered_update_is_read_back_before_success(world: tuple[Sandbox, Client]) -> None:
    sb, client = world
    event_id = await new_event(client)
    sb.log.clear()
    sb.faults.inject("drop", times=1, method="PATCH", after_write=True)
    result = await ok(client, "update_event", {"event_id": event_id, "summary": "v1"})
    assert [(e.method, e.fault) for e in sb.log if "instance_view" not in e.path] == [
        ("PATCH", "drop"),
        ("PATCH", None),
        ("GET", None),  # the read-back: the event shows v1, so success is reported
    ]
    assert warnings_of(result) == ""


async def test_a_stale_update_landing_during_the_newer_write_is_undone_and_named(
    world: tuple[Sandbox, Client],
) -> None:
    sb = world[0]
    # v1's first PATCH is held; after it: v1's replay, v1's read-back, v2's PATCH, then it runs.
    event_id, newer = await stale_v1_then_v2(world, late_by=4)
    assert len(sb.faults.late_runs) == 1  # the stale v1 did run after v2's PATCH
    assert summary_in_sandbox(sb, event_id) == "v2"  # the read-back caught it and sent v2 again
    notes = warnings_of(newer)
    assert "summary is 'v1', not 'v2'" in notes
    assert "sent again and now shows" in notes


async def test_a_stale_update_landing_after_the_newer_write_is_named_on_the_next_read(
    world: tuple[Sandbox, Client],
) -> None:
    sb, client = world
    event_id, newer = await stale_v1_then_v2(world, late_by=5)
    assert "an earlier update_event request to this event got no answer" in warnings_of(newer)
    assert '"summary": "v1"' in warnings_of(newer)  # what it would change
    seen = await ok(client, "get_event", {"event_id": event_id})  # the stale v1 runs just before this
    assert summary_in_sandbox(sb, event_id) == "v1"
    assert "no longer shows your last update_event: summary is 'v1', not 'v2'" in warnings_of(seen)
    await ok(client, "update_event", {"event_id": event_id, "summary": "v2"})  # what the note says to do
    assert summary_in_sandbox(sb, event_id) == "v2"


async def attendee_ids(client: Client, event_id: str) -> dict[str, str]:
    listed = await ok(client, "list_attendees", {"event_id": event_id})
    return {str(a.get("user_id")): str(a["attendee_id"]) for a in listed["items"] if a.get("type") == "user"}


async def test_a_stale_removal_landing_after_the_guest_was_invited_again_is_named(
    world: tuple[Sandbox, Client],
) -> None:
    sb, client = world
    event_id = await new_event(client)
    guest = [{"type": "user", "user_id": LI_LEI_OPEN_ID}]
    await ok(client, "add_attendees", {"event_id": event_id, "attendees": guest})
    attendee_id = (await attendee_ids(client, event_id))[LI_LEI_OPEN_ID]
    # The removal's first request is held; after it: its replay, its read-back, the new invitation's
    # POST and read-back, then it runs: Li Lei is removed again behind the model's back.
    sb.faults.inject("late", times=1, path="/attendees/batch_delete", delay=0, late_by=5)
    removal = {"event_id": event_id, "attendee_ids": [attendee_id]}
    await ok(client, "remove_attendees", removal)
    invited = await ok(client, "add_attendees", {"event_id": event_id, "attendees": guest})
    assert "an earlier remove_attendees request to this event got no answer" in warnings_of(invited)
    listed = await ok(client, "list_attendees", {"event_id": event_id})
    assert len(sb.faults.late_runs) == 1
    assert LI_LEI_OPEN_ID not in {a.get("user_id") for a in listed["items"]}
    assert f"no longer shows your last add_attendees: user {LI_LEI_OPEN_ID} is not an attendee" in warnings_of(listed)


async def test_a_removed_guest_brought_back_by_a_stale_invitation_is_caught_by_the_read_back(
    world: tuple[Sandbox, Client],
) -> None:
    sb, client = world
    event_id = await new_event(client)
    guest = [{"type": "user", "user_id": LI_LEI_OPEN_ID}]
    # The invitation's first POST is held; after it: its replay, its read-back, the model's
    # list_attendees, the removal's POST, then it runs, before the removal's read-back.
    sb.faults.inject("late", times=1, method="POST", path="/attendees", delay=0, late_by=5)
    await ok(client, "add_attendees", {"event_id": event_id, "attendees": guest})
    attendee_id = (await attendee_ids(client, event_id))[LI_LEI_OPEN_ID]
    removal = {"event_id": event_id, "attendee_ids": [attendee_id]}
    removed = await ok(client, "remove_attendees", removal)
    assert len(sb.faults.late_runs) == 1
    assert LI_LEI_OPEN_ID not in await attendee_ids(client, event_id)  # removed again after the read-back
    assert f"{attendee_id} is an attendee again" in removed["detail"]
    assert "sent again and now shows" in removed["detail"]


async def test_writes_to_one_event_wait_for_each_other(world: tuple[Sandbox, Client]) -> None:
    sb, client = world
    event_id = await new_event(client)
    sb.faults.inject("slow", times=1, method="PATCH", delay=0.3)  # v1 is still on its way when v2 starts
    async with anyio.create_task_group() as tg:
        tg.start_soon(ok, client, "update_event", {"event_id": event_id, "summary": "v1"})
        with anyio.fail_after(10):  # a hang guard, not a timing assertion
            while not sb.log.matching("PATCH"):
                await anyio.sleep(0.01)
        tg.start_soon(ok, client, "update_event", {"event_id": event_id, "summary": "v2"})
    assert summary_in_sandbox(sb, event_id) == "v2"  # sent second, so applied second
    assert [e.body["summary"] for e in sb.log.matching("PATCH")] == ["v1", "v2"]
