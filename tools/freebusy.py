"""Free/busy of people and rooms (the ``freebusy`` toolset): get_free_busy.

Feishu's batch free/busy takes 10 people and 2 weeks a call, so a larger ask is split into
several calls sent together; rooms go one per call through freebusy/list. Someone whose calendar
cannot be read is left out of Feishu's answer: they are reported "unknown", never "free". Someone
who left or is not in the tenant makes Feishu refuse the whole batch (195100): that batch's people
are then asked one by one through freebusy/list, and whoever is refused there (195100, or 191002
for a calendar the user may not read) is "unknown" too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from tools.common import times
from tools.common.composite import Endpoint, JsonObject, Request, Upstream
from tools.common.resolve import (
    PROFILE,
    PROFILES,
    ROOM_SEARCH,
    SEARCH_USER,
    USER_INFO,
    NameText,
    NotResolved,
    Person,
    Picks,
    all_settled,
    lookup_person,
    lookup_room,
)
from tools.common.window import TimeWindow
from tools.spec import Operation, Replay

SCOPES = ("calendar:calendar.free_busy:read", "calendar:calendar", "calendar:calendar:readonly")
FREEBUSY_BATCH = Endpoint("free_busy_batch", "POST", "/open-apis/calendar/v4/freebusy/batch", SCOPES)
FREEBUSY_LIST = Endpoint("free_busy_list", "POST", "/open-apis/calendar/v4/freebusy/list", SCOPES)
BATCH_PEOPLE = 10
BATCH_SPAN = timedelta(days=14)
MAX_ASKED = 20
NOT_IN_TENANT = 195100  # "user is dismiss or not exist in the tenant"
NO_ACCESS = 191002
Span = tuple[datetime, datetime]


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def windows(lo: datetime, hi: datetime, span: timedelta) -> list[Span]:
    found: list[Span] = []
    while lo < hi:
        found.append((lo, min(lo + span, hi)))
        lo += span
    return found


def _window(span: Span) -> JsonObject:
    return {"time_min": times.rfc3339(span[0]), "time_max": times.rfc3339(span[1])}


async def people_busy(up: Upstream, ids: Sequence[str], lo: datetime, hi: datetime) -> dict[str, list[Span] | None]:
    """Each person's busy spans over [lo, hi), or None when Feishu would not tell (unreadable, gone)."""
    plan = [(group, part) for group in chunks(ids, BATCH_PEOPLE) for part in windows(lo, hi, BATCH_SPAN)]
    batches = [Request(FREEBUSY_BATCH, body={**_window(part), "user_ids": group}) for group, part in plan]
    answers = await up.send_all_unless(batches, frozenset({NOT_IN_TENANT}))
    # A batch refused for one person who left: ask its people one at a time.
    alone = [
        (person, part)
        for (group, part), answer in zip(plan, answers, strict=True)
        if answer is None
        for person in group
    ]
    singles = [Request(FREEBUSY_LIST, body={**_window(part), "user_id": person}) for person, part in alone]
    single_answers = await up.send_all_unless(singles, frozenset({NOT_IN_TENANT, NO_ACCESS}))
    busy: dict[str, list[Span] | None] = {i: [] for i in ids}

    def add(person: str, items: Sequence[JsonObject] | None) -> None:
        spans = busy[person]
        if items is None or spans is None:
            busy[person] = None  # left out of an answer or refused: unknown, never "free"
        else:
            spans += [_span(item) for item in items]

    for (group, _), answer in zip(plan, answers, strict=True):
        if answer is not None:
            listed = {str(entry.get("user_id")): entry for entry in answer.get("freebusy_lists") or []}
            for person in group:
                entry = listed.get(person)
                add(person, None if entry is None else entry.get("freebusy_items") or [])
    for (person, _), single in zip(alone, single_answers, strict=True):
        add(person, None if single is None else single.get("freebusy_list") or [])
    return busy


async def rooms_busy(up: Upstream, ids: Sequence[str], lo: datetime, hi: datetime) -> dict[str, list[Span]]:
    answers = await up.send_all([Request(FREEBUSY_LIST, body={**_window((lo, hi)), "room_id": room}) for room in ids])
    return {room: [_span(i) for i in a.get("freebusy_list") or []] for room, a in zip(ids, answers, strict=True)}


def _span(item: JsonObject) -> Span:
    return datetime.fromisoformat(str(item["start_time"])), datetime.fromisoformat(str(item["end_time"]))


def merged(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


class FreeBusyInput(TimeWindow):
    people: Annotated[
        list[NameText], Field(max_length=MAX_ASKED, description="Names, open_ids or me ([]: rooms only).")
    ]
    rooms: Annotated[list[NameText], Field(max_length=MAX_ASKED, description="Room names or room_ids.")] = Field(
        default_factory=list
    )

    # (name, id) of each person and room, once their names are settled (``_prepare``).
    _people: list[tuple[str, str]] = PrivateAttr(default_factory=list)
    _rooms: list[tuple[str, str]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if not 1 <= len(self.people) + len(self.rooms) <= MAX_ASKED:
            raise ValueError(f"people/rooms: give 1 to {MAX_ASKED} people and rooms in all")
        return self


class BusySpan(BaseModel):
    start: str
    end: str


class Availability(BaseModel):
    kind: Literal["person", "room"]
    name: str
    id: str
    status: Annotated[Literal["known", "unknown"], Field(description="unknown: calendar not readable.")]
    busy: list[BusySpan] = []


class FreeBusy(BaseModel):
    timezone: str
    start: str
    end: str
    items: list[Availability]


async def _prepare(inp: FreeBusyInput, up: Upstream, picks: Picks) -> FreeBusyInput:
    """Names to ids, people and rooms together, so one question covers every ambiguous name."""
    found: list[Person | JsonObject | NotResolved] = [
        await lookup_person(up, n, picks) for n in dict.fromkeys(inp.people)
    ]
    found += [await lookup_room(up, name, picks) for name in dict.fromkeys(inp.rooms)]
    settled = all_settled(found)
    inp._people = [(p.name, p.open_id) for p in settled if isinstance(p, Person)]
    inp._rooms = [(str(r.get("name") or r["room_id"]), str(r["room_id"])) for r in settled if isinstance(r, dict)]
    return inp


async def _gather(inp: FreeBusyInput, up: Upstream) -> JsonObject:
    person_ids = list(dict.fromkeys(i for _, i in inp._people))
    room_ids = list(dict.fromkeys(i for _, i in inp._rooms))
    return {
        "people": inp._people,
        "rooms": inp._rooms,
        "people_busy": await people_busy(up, person_ids, inp._lo, inp._hi) if person_ids else {},
        "rooms_busy": await rooms_busy(up, room_ids, inp._lo, inp._hi) if room_ids else {},
    }


def availability(
    kind: Literal["person", "room"], name: str, ident: str, spans: Sequence[Span] | None, tz: str
) -> Availability:
    if spans is None:
        return Availability(kind=kind, name=name, id=ident, status="unknown")
    zone = times.zone(tz)
    busy = [
        BusySpan(start=times.rfc3339(a.astimezone(zone)), end=times.rfc3339(b.astimezone(zone)))
        for a, b in merged(spans)
    ]
    return Availability(kind=kind, name=name, id=ident, status="known", busy=busy)


def _respond(inp: FreeBusyInput, data: dict[str, Any]) -> FreeBusy:
    return FreeBusy(
        timezone=inp._tz,
        start=times.rfc3339(inp._lo),
        end=times.rfc3339(inp._hi),
        items=[availability("person", n, i, data["people_busy"].get(i), inp._tz) for n, i in data["people"]]
        + [availability("room", n, i, data["rooms_busy"].get(i, []), inp._tz) for n, i in data["rooms"]],
    )


get_free_busy = Operation(
    name="get_free_busy",
    title="Free/busy of people and rooms",
    description=(
        "Busy times of up to 20 people and rooms (names or ids) from start to end, in your timezone. "
        "Example: people=['Li Lei'], start='2026-11-24', end='2026-11-24'."
    ),
    interface_function="",  # not one of the 23 calendar operations: freebusy/batch + freebusy/list
    method="POST",
    route=FREEBUSY_BATCH.route,
    input_model=FreeBusyInput,
    output_model=FreeBusy,
    toolset="freebusy",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=SCOPES,
    respond=_respond,
    prepare=_prepare,
    gather=_gather,
    endpoints=(SEARCH_USER, USER_INFO, PROFILES, PROFILE, ROOM_SEARCH, FREEBUSY_BATCH, FREEBUSY_LIST),
)
