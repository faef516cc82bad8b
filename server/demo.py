"""`feishu-calendar-mcp demo`: start the server on the sandbox, connect a real MCP client over stdio,
and walk through a short tour, printing what each tool call did."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from mcp import Client, StdioServerParameters

from server.clock import SANDBOX_NOW_VARIABLE, Clock, sandbox_clock

DEMO_TIMEZONE = "Asia/Shanghai"
# Rooms answer a booking a moment after the request: read it back this often, this many times.
ROOM_READ_INTERVAL = 1.0
ROOM_READS = 10
# What the server process inherits (a pinned sandbox clock included; never any FEISHU_ secret).
PASSED_ENV = ("PATH", "HOME", "PYTHONPATH", "TZ", SANDBOX_NOW_VARIABLE)


class TourStepFailed(RuntimeError):
    """A tool call of the tour returned an error (its message is the model's view of it)."""


class Tour:
    def __init__(self, client: Client, out: TextIO) -> None:
        self.client = client
        self.out = out
        self.step = 0

    async def call(self, title: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.step += 1
        shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        print(f"\n[{self.step}] {title}\n    -> {tool}({shown})", file=self.out)
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
            raise TourStepFailed(f"{tool} failed: {text}")
        return dict(result.structured_content or {})

    def say(self, line: str) -> None:
        print(f"    {line}", file=self.out)


def _label(event: dict[str, Any]) -> str:
    text = event.get("external_content", {}).get("summary", "(no title)")
    return f"{event.get('start', '?')} - {event.get('end', '?')}  {text}"


def _starts_after(event: dict[str, Any], moment: datetime) -> bool:
    start = str(event.get("start", ""))
    return len(start) > 10 and datetime.fromisoformat(start) > moment  # all-day events are not invitations


async def tour(client: Client, out: TextIO, clock: Clock) -> None:
    """Every step must run: a step that finds nothing to act on fails the tour, never skips.

    ``clock`` paces the read-back of the room booking (rooms answer a moment after the request).
    """
    t = Tour(client, out)
    ctx = await t.call("Who am I, and what time is it?", "get_current_context", {})
    me = ctx["user"].get("open_id", "")
    now = datetime.fromisoformat(ctx["now"])
    t.say(f"signed in as {ctx['user'].get('name')} ({me}); now {ctx['now']} in {ctx['timezone']}")

    today = ctx["today"]["start"][:10]
    agenda = await t.call("Today's agenda", "view_instances", {"start": today, "end": today})
    for event in agenda["items"]:
        t.say(_label(event))
    t.say(f"{len(agenda['items'])} event(s) today")

    week_end = (datetime.fromisoformat(ctx["today"]["start"]) + timedelta(days=6)).date().isoformat()
    week = await t.call(
        "The coming week, to find rooms and invitations", "view_instances", {"start": today, "end": week_end}
    )
    rooms = {
        a["room_id"]: a.get("display_name", a["room_id"])
        for e in week["items"]
        for a in e.get("attendees") or []
        if a.get("room_id")
    }
    t.say(f"rooms seen: {', '.join(sorted(rooms.values())) or 'none'}")
    if not rooms:
        raise TourStepFailed("no meeting room appears in the coming week, so there is none to book")
    invitations = [  # upcoming ones from others, whose attendee list I may read
        e
        for e in week["items"]
        if (e.get("event_organizer") or {}).get("user_id") not in (None, "", me)
        and _starts_after(e, now)
        and e.get("attendee_ability", "none") != "none"
    ]
    pending, colleague = await _pending_invitation(t, invitations, me)

    tomorrow = ctx["tomorrow"]["start"][:10]
    start, end = f"{tomorrow}T10:00", f"{tomorrow}T10:30"
    free = await t.call(
        "Which rooms are free tomorrow 10:00-10:30?",
        "get_room_freebusy",
        {"room_ids": sorted(rooms), "start": start, "end": end},
    )
    t.say(f"free: {', '.join(rooms[r] for r in free['free_rooms']) or 'none'}")
    if not free["free_rooms"]:
        raise TourStepFailed(f"none of the rooms seen is free tomorrow {start[11:]}-{end[11:]}")
    room = free["free_rooms"][0]

    created = await t.call(
        "Create a meeting", "create_event", {"summary": "Design review (demo)", "start": start, "end": end}
    )
    event = created["event"]
    t.say(f"created {event['event_id']}: {_label(event)}")
    for warning in created["warnings"]:
        t.say(f"warning: {warning}")

    added = await t.call(
        "Invite a colleague and book the room",
        "add_attendees",
        {
            "event_id": event["event_id"],
            "attendees": [{"type": "user", "user_id": colleague}, {"type": "resource", "room_id": room}],
        },
    )
    for a in added["items"]:
        t.say(f"{a.get('type')}: {a.get('display_name', '?')} rsvp={a.get('rsvp_status')}")
    await _room_answer(t, clock, event["event_id"], room)

    await t.call("Accept the invitation", "reply_event", {"event_id": pending["event_id"], "rsvp_status": "accept"})
    t.say(f"accepted: {_label(pending)}")

    await t.call("Clean up: delete the demo meeting", "delete_event", {"event_id": event["event_id"]})
    t.say("deleted; the room is free again")
    print("\nTour finished: every call above went through the MCP protocol to the sandbox.", file=out)


async def _pending_invitation(t: Tour, invitations: list[dict[str, Any]], me: str) -> tuple[dict[str, Any], str]:
    """The first upcoming invitation still waiting for my answer, and a colleague invited to it."""
    for event in invitations:
        got = await t.call(
            "Is this invitation waiting for my answer?",
            "get_event",
            {"event_id": event["event_id"], "need_attendee": True},
        )
        attendees = got["event"].get("attendees") or []
        mine = next((a for a in attendees if a.get("user_id") == me), None)
        others = [a for a in attendees if a.get("type") == "user" and a.get("user_id") not in (None, me)]
        if mine is None or mine.get("rsvp_status") != "needs_action" or not others:
            t.say(f"not waiting for me: {_label(event)}")
            continue
        t.say(f"waiting for my answer: {_label(event)}")
        t.say(f"colleague: {others[0].get('display_name')} ({others[0]['user_id']})")
        return event, str(others[0]["user_id"])
    raise TourStepFailed("no upcoming invitation from a colleague is waiting for an answer")


async def _room_answer(t: Tour, clock: Clock, event_id: str, room: str) -> None:
    """Read the booking back until the room has answered (Feishu books rooms asynchronously)."""
    for _ in range(ROOM_READS):
        listed = await t.call("Read the room's answer back", "list_attendees", {"event_id": event_id})
        booking = next((a for a in listed["items"] if a.get("room_id") == room), None)
        status = booking.get("rsvp_status") if booking else "missing"
        name = booking.get("display_name") if booking else room
        if status == "accept":
            t.say(f"room {name}: booked (rsvp={status})")
            return
        if status != "needs_action":
            raise TourStepFailed(f"the room did not accept the booking (rsvp_status={status})")
        t.say(f"room {name}: booking in progress (rsvp={status}); reading again in {ROOM_READ_INTERVAL:g} s")
        await clock.sleep(ROOM_READ_INTERVAL)
    raise TourStepFailed(f"the room had not answered after {ROOM_READS} reads")


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


async def run_demo(out: TextIO, clock: Clock | None = None) -> int:
    print("Starting `feishu-calendar-mcp serve --sandbox` and connecting an MCP client over stdio...", file=out)
    params = StdioServerParameters(
        command=sys.executable,
        # -P: the current folder is not put on the server's import path, so a tools.py or server/
        # in the folder the demo runs from cannot shadow ours.
        args=["-P", "-m", "server", "serve", "--sandbox"],
        env={
            **{k: v for k, v in os.environ.items() if k in PASSED_ENV},
            # The sandbox's demo user lives in Shanghai; a machine on UTC would book "10:00" at 18:00 there.
            "FEISHU_TIMEZONE": os.environ.get("FEISHU_TIMEZONE", DEMO_TIMEZONE),
        },
    )
    failures: list[BaseException] = []
    try:
        async with Client(params) as client:
            tools = await client.list_tools()
            print(f"connected: {len(tools.tools)} tools", file=out)
            await tour(client, out, clock or sandbox_clock(os.environ))
    except* TourStepFailed as group:
        # The client's task groups wrap the step's error; show it plainly, not as a traceback.
        failures.extend(_leaves(group))
    for failure in failures:
        print(f"\nThe tour stopped: {failure}", file=out)
    return 1 if failures else 0
