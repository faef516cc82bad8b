"""The two UNDOCUMENTED endpoints Feishu's own CLI uses (scheduling-api.md §3.4, §4.5):
``POST /calendar/v4/freebusy/suggestion`` (slots when everyone is free) and
``POST /calendar/v4/freebusy/room_find`` (rooms free for one slot).

Shapes follow the official CLI's request/response structs. What no source says, the sandbox
decides (sandbox/README.md): suggestions are 30-minute-aligned slots within 09:00-18:00 on
weekdays in the request's ``timezone``, never in the past, at most 10; the caller always counts
as an attendee; a private calendar's busy time is not known to it. With ``event_rrule`` a slot is
the first occurrence of the rule and every occurrence within the searched span must be free;
``COUNT`` is refused (the CLI's skill: the system does not support it). ``room_find`` lists rooms with
no booking in the slot; with ``event_rrule`` (the series from the slot on) its ``reserve_until_time``
is the end of the last occurrence before the room is taken (the CLI's skill: cut UNTIL to it).
``world.directory.undocumented_endpoints = False`` makes both answer as
an unknown path does (404, 99991201), as they would if Feishu withdrew them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox import freebusy, recurrence, rooms, wire
from sandbox.state import MeetingRoom, World
from sandbox.wire import CALENDAR_V4, api_route, invalid

if TYPE_CHECKING:
    from sandbox.core import Api
    from sandbox.wire import Call

SCOPES = ("calendar:calendar.free_busy:read", "calendar:calendar")
STEP = 30 * 60
MAX_SUGGESTIONS = 10
DEFAULT_MINUTES = 60
WORK_START, WORK_END = dt.time(9), dt.time(18)
ROOM_HORIZON = 2 * 365 * 86400  # how far ahead a room may be booked (a series is cut there)
GUIDANCE = "Show these time slots to the user and let them choose one before creating the event."


def routes(sb: Api) -> list[BaseRoute]:
    return [
        _switchable(sb, api_route(sb, "POST", CALENDAR_V4 + "/freebusy/suggestion", suggestion, scopes=SCOPES)),
        _switchable(sb, api_route(sb, "POST", CALENDAR_V4 + "/freebusy/room_find", room_find, scopes=SCOPES)),
    ]


def _switchable(sb: Api, route: BaseRoute) -> Route:
    """The route, answering "path not found" (before any auth) while the endpoints are switched off."""
    assert isinstance(route, Route)
    inner = route.endpoint

    async def endpoint(request: Request) -> Response:
        if not sb.world.directory.undocumented_endpoints:
            return JSONResponse({"code": 99991201, "msg": "path not found"}, status_code=404)
        response: Response = await inner(request)
        return response

    return Route(route.path, endpoint, methods=["POST"])


def _zone(call: Call) -> ZoneInfo:
    name = call.body.get("timezone") or "Asia/Shanghai"
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", name, "must be an IANA time zone name") from None


def _ids(call: Call, name: str, prefix: str) -> list[str]:
    value = call.body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith(prefix) for v in value):
        raise invalid(name, value, f"must be a list of {prefix}... ids")
    return value


def attendees_of(call: Call) -> list[str]:
    """The caller, the listed users and the members of the listed chats (open_ids)."""
    world = call.sb.world
    people = [call.user.open_id] if call.user is not None else []
    people += _ids(call, "attendee_user_ids", "ou_")
    for chat_id in _ids(call, "attendee_chat_ids", "oc_"):
        chat = world.chats.get(chat_id)
        if chat is None:
            raise invalid("attendee_chat_ids", chat_id, "no such chat")
        people += chat.member_open_ids
    return list(dict.fromkeys(people))


def suggestion(call: Call) -> dict[str, Any]:
    lo = int(wire.parse_rfc3339("search_start_time", call.body.get("search_start_time")).timestamp())
    hi = int(wire.parse_rfc3339("search_end_time", call.body.get("search_end_time")).timestamp())
    if hi <= lo:
        raise invalid("search_end_time", call.body.get("search_end_time"), "must be after search_start_time")
    # The CLI leaves duration_minutes out when it cannot tell (its struct has omitempty): the
    # service then picks one; which is not documented, the sandbox takes an hour.
    minutes = call.body.get("duration_minutes", DEFAULT_MINUTES)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
        raise invalid("duration_minutes", minutes, "must be an integer from 1 to 1440")
    zone = _zone(call)
    rule = _event_rrule(call)
    world = call.sb.world
    busy: list[tuple[int, int]] = []
    for open_id in attendees_of(call):
        user = world.users.get(open_id)
        # Someone who left or is elsewhere has no calendar it can read, like a private one: their
        # time is unknown to it (what Feishu does is not documented; free/busy itself says 195100).
        if (
            user is not None
            and freebusy.in_tenant(call, user)
            and freebusy.readable(call, world.primary_calendar(open_id))
        ):
            busy += [(s, e) for s, e, _ in freebusy.user_busy(world, user, lo, hi)]
    for item in call.body.get("excluded_event_times") or []:
        if isinstance(item, dict):
            excluded_start = wire.parse_rfc3339("event_start_time", item.get("event_start_time"))
            excluded_end = wire.parse_rfc3339("event_end_time", item.get("event_end_time"))
            busy.append((int(excluded_start.timestamp()), int(excluded_end.timestamp())))
    now = int(call.sb.clock.now())
    slot = max(lo, now)
    slot += -slot % STEP
    found: list[dict[str, Any]] = []
    length = minutes * 60
    merged = _merged(busy)
    while slot + length <= hi and len(found) < MAX_SUGGESTIONS:
        end = slot + length
        if not _working(slot, end, zone):
            slot += STEP
            continue
        # A recurring meeting: the slot is its first occurrence, and every occurrence that fits in
        # the searched span must be free too (the sandbox's reading; nothing documents it).
        repeats = [slot] if rule is None else [s for s in recurrence.starts(rule, slot, zone, hi) if s + length <= hi]
        if repeats[:1] == [slot] and all(_clear(merged, o, o + length) for o in repeats):
            found.append(
                {
                    "event_start_time": dt.datetime.fromtimestamp(slot, zone).isoformat(),
                    "event_end_time": dt.datetime.fromtimestamp(end, zone).isoformat(),
                    "recommend_reason": _reason(len(repeats), rule),
                }
            )
        slot += STEP
    return {"suggestions": found, "ai_action_guidance": GUIDANCE}


def _merged(busy: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The busy blocks sorted and merged: disjoint, so one look-up says whether a span is clear."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(busy):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _clear(merged: list[tuple[int, int]], start: int, end: int) -> bool:
    before = bisect.bisect_left(merged, (end,)) - 1  # the last block starting before ``end``
    return before < 0 or merged[before][1] <= start


def _event_rrule(call: Call) -> str | None:
    """``event_rrule``: an RFC 5545 rule without COUNT (the CLI's skill: "the system does not support
    COUNT at all; convert it to UNTIL"; the code Feishu answers is not known, the sandbox says 190002)."""
    rule = call.body.get("event_rrule")
    if rule in (None, ""):
        return None
    if not isinstance(rule, str):
        raise invalid("event_rrule", rule, "must be an RFC 5545 RRULE string")
    recurrence.check_recurrence(rule, "event_rrule")
    if "COUNT" in recurrence.rule_parts(rule):
        raise invalid("event_rrule", rule, "COUNT is not supported: end the rule with UNTIL")
    return rule.removeprefix("RRULE:")


def _reason(occurrences: int, rule: str | None) -> str:
    if rule is None:
        return "All attendees are free"
    return f"All attendees are free at all {occurrences} occurrences in the searched time"


def _working(start: int, end: int, zone: ZoneInfo) -> bool:
    first, last = dt.datetime.fromtimestamp(start, zone), dt.datetime.fromtimestamp(end, zone)
    if first.weekday() >= 5 or first.date() != (last - dt.timedelta(seconds=1)).date():
        return False
    return first.time() >= WORK_START and last.time() <= WORK_END and last.date() == first.date()


def _floor_number(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return digits or text.casefold()


def room_find(call: Call) -> dict[str, Any]:
    start = wire.parse_rfc3339("event_start_time", call.body.get("event_start_time"))
    end = wire.parse_rfc3339("event_end_time", call.body.get("event_end_time"))
    lo, hi = int(start.timestamp()), int(end.timestamp())
    if hi <= lo:
        raise invalid("event_end_time", call.body.get("event_end_time"), "must be after event_start_time")
    zone = _zone(call)
    rule = _event_rrule(call)
    attendees_of(call)  # validates the ids; the sandbox does not rank rooms by who comes
    bounds = {}
    for name in ("min_capacity", "max_capacity"):
        value = call.body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise invalid(name, value, "must be a non-negative integer")
        bounds[name] = value
    world = call.sb.world
    horizon = int(call.sb.clock.now()) + ROOM_HORIZON
    available = []
    for room in sorted(world.rooms.values(), key=lambda r: (r.capacity, r.name)):
        if bounds["min_capacity"] is not None and room.capacity < bounds["min_capacity"]:
            continue
        if bounds["max_capacity"] is not None and room.capacity > bounds["max_capacity"]:
            continue
        if not _place_matches(call, room):
            continue
        until = _free_until(world, room.room_id, rule, lo, hi - lo, zone, horizon)
        if until is None:
            continue
        available.append(
            {
                "room_id": room.room_id,
                "room_name": room.name,
                "capacity": room.capacity,
                "reserve_until_time": dt.datetime.fromtimestamp(until, zone).isoformat(),
            }
        )
    return {"available_rooms": available}


def _free_until(
    world: World, room_id: str, rule: str | None, start: int, length: int, zone: ZoneInfo, horizon: int
) -> int | None:
    """How long the room may be booked for the meeting: None when its slot is taken; otherwise the
    horizon, or for a series (``event_rrule`` from the slot on) the end of its last occurrence
    before the first one the room is taken at (the CLI's skill: cut the rule's UNTIL to it)."""
    if rule is None:
        return None if rooms.bookings(world, room_id, start, start + length) else horizon
    series = list(dict.fromkeys([start, *recurrence.starts(rule, start, zone, horizon)]))
    taken = _merged([(b.start, b.end) for b in rooms.bookings(world, room_id, start, series[-1] + length)])
    last = None
    for moment in series:
        if not _clear(taken, moment, moment + length):
            return last
        last = moment + length
    return horizon


def _place_matches(call: Call, room: MeetingRoom) -> bool:
    directory = call.sb.world.directory
    detail = directory.room_details.get(room.room_id)
    levels = [n.casefold() for n in directory.level_names(detail.room_level_id)] if detail else []
    city, building, floor, name = (call.body.get(k) for k in ("city", "building", "floor", "room_name"))
    if isinstance(city, str) and city and not any(city.casefold() in level for level in levels[:1]):
        return False
    if isinstance(building, str) and building:
        names = {room.building.casefold(), *levels[1:2], *(n.removeprefix("building ") for n in levels[1:2])}
        if building.casefold() not in names:
            return False
    if isinstance(floor, str) and floor and _floor_number(floor) != _floor_number(room.floor):
        return False
    return not (isinstance(name, str) and name and name.casefold() not in room.name.casefold())
