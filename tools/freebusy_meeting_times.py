"""find_meeting_times (the ``freebusy`` toolset): a short ranked list of slots, who is free, which rooms.

Two ways to the same answer. Feishu's own CLI asks the UNDOCUMENTED ``freebusy/suggestion`` and
``freebusy/room_find`` (scheduling-api.md §3.4, §4.5); the server probes for them (the first call
is the probe; their absence is remembered) and otherwise, or when they suggest nothing, computes
the slots from documented endpoints: batch free/busy (10 people, 2 weeks a call), room search
and room free/busy. Either way slots lie within the user's working hours (a server setting,
default Mon-Fri 09:00-18:00 in their timezone) and never before now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from tools.common import times, working_hours
from tools.common.composite import Endpoint, JsonObject, Request, Upstream
from tools.common.event_models import check_recurrence
from tools.common.fields import NOT_BOOLEAN
from tools.common.names import CHAT_MEMBERS, CHAT_SEARCH, chat_members, people_and_chats
from tools.common.recurring_split import repeats
from tools.common.resolve import (
    PROFILE,
    PROFILES,
    ROOM_SEARCH,
    SEARCH_USER,
    USER_INFO,
    NameText,
    Person,
    Picks,
    search_rooms,
)
from tools.common.slots import Candidate, covers, grid_starts, pick, rank, score
from tools.common.window import TimeWindow
from tools.freebusy import FREEBUSY_BATCH, FREEBUSY_LIST, Span, people_busy
from tools.rooms import ROOM_FREEBUSY
from tools.spec import Operation, Replay

FB_SCOPES = ("calendar:calendar.free_busy:read", "calendar:calendar")
SUGGESTION = Endpoint("suggest_times", "POST", "/open-apis/calendar/v4/freebusy/suggestion", FB_SCOPES, True)
ROOM_FIND = Endpoint("find_free_rooms", "POST", "/open-apis/calendar/v4/freebusy/room_find", FB_SCOPES, True)
ROOM_CHOICES = 3


class MeetingTimesInput(TimeWindow):
    max_days: ClassVar[float] = 31

    attendees: Annotated[
        list[NameText], Field(min_length=1, max_length=50, description="People or group chats: names or ids.")
    ]
    duration_minutes: Annotated[int, Field(ge=5, le=480, description="Length of the meeting."), NOT_BOOLEAN]
    room_capacity: Annotated[
        int | None, Field(ge=1, le=1000, description="Also find a room this big."), NOT_BOOLEAN
    ] = None
    room_query: Annotated[str | None, Field(max_length=64, description="Room/building/floor words.")] = None
    limit: Annotated[int, Field(ge=1, le=10, description="Most slots."), NOT_BOOLEAN] = 5
    recurrence: Annotated[
        str | None,
        Field(max_length=2000, description="RRULE of a recurring meeting, UNTIL not COUNT: all its times must fit."),
    ] = None

    # The attendees once their names are settled (``_prepare``): people, and chats (``oc_`` id ->
    # the name given).
    _people: list[Person] = PrivateAttr(default_factory=list)
    _chats: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _rule(self) -> Self:
        if self.recurrence is not None:
            check_recurrence(self.recurrence)
            if any(p.split("=")[0].upper() == "COUNT" for p in self.recurrence.removeprefix("RRULE:").split(";")):
                # Feishu's suggestion takes no COUNT (its CLI's skill: "convert it to UNTIL").
                raise ValueError("recurrence: COUNT is not supported here; end the rule with UNTIL=YYYYMMDD instead")
        return self


class RoomChoice(BaseModel):
    room_id: str
    name: str
    capacity: int = 0
    # A recurring meeting's room: the latest it may be booked to (Feishu's room_find); end the series by then.
    free_until: str = ""


class Slot(BaseModel):
    start: str
    end: str
    free: list[str]
    busy: list[str] = []
    unknown: list[str] = []
    rooms: list[RoomChoice] = []
    why: str


class MeetingTimes(BaseModel):
    slots: list[Slot]
    source: Literal["feishu_suggestion", "free_busy"]
    note: str = ""


async def _prepare(inp: MeetingTimesInput, up: Upstream, picks: Picks) -> MeetingTimesInput:
    inp._people, inp._chats = await people_and_chats(up, inp.attendees, picks)
    return inp


async def _gather(inp: MeetingTimesInput, up: Upstream) -> JsonObject:
    zone = times.zone(inp._tz)
    hours = working_hours.parse(up.working_hours)
    now = datetime.fromtimestamp(up.now(), zone)
    lo, hi, length = max(inp._lo, now), inp._hi, timedelta(minutes=inp.duration_minutes)
    people, chats = inp._people, inp._chats
    me = await up.send(Request(USER_INFO))
    names = {p.open_id: p.name for p in people} | {str(me.get("open_id")): "you"}
    spans = hours.spans(lo, hi, zone)
    base: JsonObject = {"names": names, "hours": hours.describe(), "lo": lo, "hi": hi}
    if not spans:
        return base | {"source": "free_busy", "slots": []}
    suggested = await _suggested(inp, up, people, list(chats), spans, length)
    # Who is free when comes from the calendars either way: Feishu's suggestion cannot say whose
    # calendar it could not read, and "unknown" must never read as "free".
    members, unlisted = await chat_members(up, list(chats))
    names |= {m: n for m, n in members.items() if m not in names}
    ids = [str(me.get("open_id")), *(p.open_id for p in people), *members]
    busy = await people_busy(up, list(dict.fromkeys(i for i in ids if i)), lo, hi)
    # A chat whose members Feishu does not list to the user (a public chat they are not in) is one
    # "unknown" attendee in every slot: never counted free.
    for chat_id in unlisted:
        busy[chat_id], names[chat_id] = None, f"members of {chats[chat_id]}"
    base["unlisted"] = [chats[c] for c in unlisted]
    want_room = bool(inp.room_capacity or inp.room_query)
    if suggested:
        scored = [score(c.start, c.end, busy, names, c.reason, _repeats(inp, c.start, c.end, hi)) for c in suggested]
        slots = pick([c for c in scored if c.times], inp.limit)
        if want_room:
            await _rooms_found(inp, up, people, slots)
        return base | {"source": "feishu_suggestion", "slots": _explain(rank(slots, want_room), inp)}
    candidates = [
        score(start, start + length, busy, names, "", _repeats(inp, start, start + length, hi))
        for start in grid_starts(spans, length)
    ]
    candidates = [c for c in candidates if c.times]
    if want_room:
        await _add_rooms(inp, up, candidates, lo, hi)
    slots = pick(rank(candidates, want_room), inp.limit)
    return base | {"source": "free_busy", "slots": _explain(rank(slots, want_room), inp)}


def _repeats(inp: MeetingTimesInput, start: datetime, end: datetime, hi: datetime) -> list[datetime]:
    """The times a meeting from ``start`` takes place within the window (see recurring_split.repeats)."""
    zone = times.zone(inp._tz)
    return repeats(inp.recurrence, start.astimezone(zone), end - start, hi, zone)


async def _add_rooms(inp: MeetingTimesInput, up: Upstream, slots: list[Candidate], lo: datetime, hi: datetime) -> None:
    """Each slot's free rooms (smallest that fits first), from room search and room free/busy."""
    rooms = [
        r
        for r in await search_rooms(up, inp.room_query or "")
        if int(r.get("capacity") or 0) >= (inp.room_capacity or 1)
    ]
    rooms.sort(key=lambda r: (int(r.get("capacity") or 0), str(r.get("name"))))
    rooms = rooms[:20]  # one room free/busy call covers 20 rooms
    if not rooms:
        return
    answer = await up.send(
        Request(
            ROOM_FREEBUSY,
            query=[
                *(("room_ids", str(r["room_id"])) for r in rooms),
                ("time_min", times.rfc3339(lo)),
                ("time_max", times.rfc3339(hi)),
            ],
        )
    )
    booked = {
        room: [(datetime.fromisoformat(s["start_time"]), datetime.fromisoformat(s["end_time"])) for s in slots_]
        for room, slots_ in (answer.get("free_busy") or {}).items()
    }
    for slot in slots:
        slot.rooms = [r for r in rooms if not slot.taken(booked.get(str(r["room_id"]), []))][:ROOM_CHOICES]


def _explain(slots: list[Candidate], inp: MeetingTimesInput) -> list[Candidate]:
    want_room = bool(inp.room_capacity or inp.room_query)
    for slot in slots:
        reasons = []
        if want_room and not slot.rooms:
            reasons.append(f"no free room for {inp.room_capacity or 'the group'}")
        if slot.busy:
            reasons.append(f"busy: {', '.join(slot.busy)}")
        if slot.unknown:
            reasons.append(f"free/busy unknown: {', '.join(slot.unknown)}")
        # A recurring meeting's "why" is ours: it says how many of its times were checked.
        feishu_says = "" if inp.recurrence else slot.reason
        slot.reason = "; ".join(reasons) or feishu_says or "everyone is free"
        if inp.recurrence:
            many = f"checked at each of its {slot.times} times" if slot.times > 1 else "its one time"
            slot.reason += f" ({many} in the window)"
    return slots


async def _suggested(
    inp: MeetingTimesInput,
    up: Upstream,
    people: Sequence[Person],
    chats: Sequence[str],
    spans: Sequence[Span],
    length: timedelta,
) -> list[Candidate]:
    """Feishu's own suggestion (undocumented), kept to working hours; empty when it is not offered."""
    body = {
        "search_start_time": times.rfc3339(spans[0][0]),
        "search_end_time": times.rfc3339(spans[-1][1]),
        "timezone": inp._tz,
        "duration_minutes": inp.duration_minutes,
        "attendee_user_ids": [p.open_id for p in people],
        "attendee_chat_ids": list(chats),
    }
    if inp.recurrence:
        body["event_rrule"] = inp.recurrence.removeprefix("RRULE:")
    answer = await up.send_if_offered(Request(SUGGESTION, body=body))
    if not answer:
        return []
    slots: list[Candidate] = []
    for item in answer.get("suggestions") or []:
        start = datetime.fromisoformat(str(item.get("event_start_time")))
        end = datetime.fromisoformat(str(item.get("event_end_time")))
        inside = any(a <= start and end <= b for a, b in spans)
        if inside and end - start >= length:
            slots.append(Candidate(start, end, reason=str(item.get("recommend_reason") or "")))
    return slots


async def _rooms_found(inp: MeetingTimesInput, up: Upstream, people: Sequence[Person], slots: list[Candidate]) -> None:
    """Rooms for each suggested slot: room_find (undocumented) when offered, else the documented path."""
    for slot in slots:
        body: JsonObject = {
            "event_start_time": times.rfc3339(slot.start),
            "event_end_time": times.rfc3339(slot.end),
            "timezone": inp._tz,
            "attendee_user_ids": [p.open_id for p in people],
        }
        if inp.room_capacity:
            body["min_capacity"] = inp.room_capacity
        if inp.room_query:
            body["room_name"] = inp.room_query
        if inp.recurrence:
            body["event_rrule"] = inp.recurrence.removeprefix("RRULE:")
        answer = await up.send_if_offered(Request(ROOM_FIND, body=body))
        if answer is None:
            last = max(s.starts[-1] + (s.end - s.start) for s in slots)
            await _add_rooms(inp, up, slots, slots[0].start, last)
            return
        found = [r for r in answer.get("available_rooms") or [] if isinstance(r, dict) and r.get("room_id")]
        found.sort(key=lambda r: (int(r.get("capacity") or 0), str(r.get("room_name"))))
        slot.rooms = [
            {"room_id": r["room_id"], "name": r.get("room_name", ""), "capacity": r.get("capacity", 0)}
            | ({"free_until": str(r.get("reserve_until_time") or "")} if inp.recurrence else {})
            for r in found
            if not inp.recurrence or covers(r.get("reserve_until_time"), slot)
        ][:ROOM_CHOICES]


def _respond(inp: MeetingTimesInput, data: dict[str, Any]) -> MeetingTimes:
    zone = times.zone(inp._tz)
    everyone = list(dict.fromkeys(data["names"].values()))
    slots = [
        Slot(
            start=times.rfc3339(c.start.astimezone(zone)),
            end=times.rfc3339(c.end.astimezone(zone)),
            free=[n for n in everyone if n not in c.busy and n not in c.unknown],
            busy=c.busy,
            unknown=c.unknown,
            rooms=[
                RoomChoice(
                    room_id=str(r["room_id"]),
                    name=str(r.get("name") or ""),
                    capacity=int(r.get("capacity") or 0),
                    free_until=str(r.get("free_until") or ""),
                )
                for r in c.rooms
            ],
            why=c.reason,
        )
        for c in data["slots"]
    ]
    notes = [
        f"You are not in the group chat {chat!r}, so Feishu does not list its members to you and their "
        "free/busy is not counted (shown as unknown). Ask the user to join the chat in Feishu (a public "
        "one) or be added to it, or to name the people in it."
        for chat in data.get("unlisted", [])
    ]
    if not slots:
        notes.append(
            f"No {inp.duration_minutes}-minute slot: between {times.rfc3339(data['lo'])} "
            f"and {times.rfc3339(data['hi'])} "
            f"there is no time within working hours ({data['hours']}, {inp._tz}) that is still ahead. "
            "Widen the window or ask the user about other days."
        )
    return MeetingTimes(slots=slots, source=data["source"], note=" ".join(notes))


find_meeting_times = Operation(
    name="find_meeting_times",
    title="Find meeting times",
    description=(
        "Ranked slots in your working hours when attendees are free (free rooms with room_capacity); 'why' "
        "explains a lower rank. Example: attendees=['Li Lei'], duration_minutes=30, start='2026-11-23', "
        "end='2026-11-27'."
    ),
    interface_function="",  # not one of the 23 calendar operations: free/busy, rooms (see module doc)
    method="POST",
    route=FREEBUSY_BATCH.route,
    input_model=MeetingTimesInput,
    output_model=MeetingTimes,
    toolset="freebusy",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=FREEBUSY_BATCH.scopes,
    respond=_respond,
    prepare=_prepare,
    gather=_gather,
    endpoints=(
        SEARCH_USER,
        PROFILES,
        PROFILE,
        USER_INFO,
        FREEBUSY_BATCH,
        FREEBUSY_LIST,
        SUGGESTION,
        ROOM_FIND,
        ROOM_SEARCH,
        ROOM_FREEBUSY,
        CHAT_MEMBERS,
        CHAT_SEARCH,
    ),
)
