"""`feishu-calendar-mcp demo`: start the server on the sandbox, connect a real MCP client over stdio,
and walk through a short tour, printing what each tool call did."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from mcp import Client, StdioServerParameters

DEMO_TIMEZONE = "Asia/Shanghai"


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


async def tour(client: Client, out: TextIO) -> None:
    t = Tour(client, out)
    ctx = await t.call("Who am I, and what time is it?", "get_current_context", {})
    me = ctx["user"].get("open_id", "")
    t.say(f"signed in as {ctx['user'].get('name')} ({me}); now {ctx['now']} in {ctx['timezone']}")

    today = ctx["today"]["start"][:10]
    agenda = await t.call("Today's agenda", "view_instances", {"start": today, "end": today})
    for event in agenda["items"]:
        t.say(_label(event))
    t.say(f"{len(agenda['items'])} event(s) today")

    week_end = (datetime.fromisoformat(ctx["today"]["start"]) + timedelta(days=6)).date().isoformat()
    week = await t.call("This week, to find rooms and colleagues", "view_instances", {"start": today, "end": week_end})
    rooms = {
        a["room_id"]: a.get("display_name", a["room_id"])
        for e in week["items"]
        for a in e.get("attendees") or []
        if a.get("room_id")
    }
    invited = [e for e in week["items"] if (e.get("event_organizer") or {}).get("user_id") not in (None, "", me)]
    t.say(f"rooms seen: {', '.join(sorted(rooms.values())) or 'none'}")

    tomorrow = ctx["tomorrow"]["start"][:10]
    start, end = f"{tomorrow}T10:00", f"{tomorrow}T10:30"
    free = await t.call(
        "Which rooms are free tomorrow 10:00-10:30?",
        "get_room_freebusy",
        {"room_ids": sorted(rooms), "start": start, "end": end},
    )
    t.say(f"free: {', '.join(rooms[r] for r in free['free_rooms']) or 'none'}")

    created = await t.call(
        "Create a meeting", "create_event", {"summary": "Design review (demo)", "start": start, "end": end}
    )
    event = created["event"]
    t.say(f"created {event['event_id']}: {_label(event)}")
    for warning in created["warnings"]:
        t.say(f"warning: {warning}")

    colleague = await _a_colleague(t, invited, me)
    attendees: list[dict[str, Any]] = [{"type": "user", "user_id": colleague}] if colleague else []
    if free["free_rooms"]:
        attendees.append({"type": "resource", "room_id": free["free_rooms"][0]})
    added = await t.call(
        "Invite a colleague and book the room", "add_attendees", {"event_id": event["event_id"], "attendees": attendees}
    )
    for a in added["items"]:
        t.say(f"{a.get('type')}: {a.get('display_name', '?')} rsvp={a.get('rsvp_status')}")

    if invited:
        target = invited[0]
        await t.call(
            "Accept an invitation from a colleague",
            "reply_event",
            {"event_id": target["event_id"], "rsvp_status": "accept"},
        )
        t.say(f"accepted: {_label(target)}")

    await t.call("Clean up: delete the demo meeting", "delete_event", {"event_id": event["event_id"]})
    t.say("deleted; the room is free again")
    print("\nTour finished: every call above went through the MCP protocol to the sandbox.", file=out)


async def _a_colleague(t: Tour, events: list[dict[str, Any]], me: str) -> str | None:
    for event in events:
        got = await t.call(
            "Look up an invitation's attendees", "get_event", {"event_id": event["event_id"], "need_attendee": True}
        )
        for a in got["event"].get("attendees") or []:
            if a.get("type") == "user" and a.get("user_id") not in (None, me):
                t.say(f"colleague: {a.get('display_name')} ({a['user_id']})")
                return str(a["user_id"])
    return None


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


async def run_demo(out: TextIO) -> int:
    print("Starting `feishu-calendar-mcp serve --sandbox` and connecting an MCP client over stdio...", file=out)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "server", "serve", "--sandbox"],
        env={
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "TZ")},
            # The sandbox's demo user lives in Shanghai; a machine on UTC would book "10:00" at 18:00 there.
            "FEISHU_TIMEZONE": os.environ.get("FEISHU_TIMEZONE", DEMO_TIMEZONE),
        },
    )
    failures: list[BaseException] = []
    try:
        async with Client(params) as client:
            tools = await client.list_tools()
            print(f"connected: {len(tools.tools)} tools", file=out)
            await tour(client, out)
    except* TourStepFailed as group:
        # The client's task groups wrap the step's error; show it plainly, not as a traceback.
        failures.extend(_leaves(group))
    for failure in failures:
        print(f"\nThe tour stopped: {failure}", file=out)
    return 1 if failures else 0
