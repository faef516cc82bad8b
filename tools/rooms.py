"""Meeting rooms by name, building/floor words and size, optionally only those free for a slot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, model_validator

from tools.common import times
from tools.common.approval import needs_approval
from tools.common.composite import Endpoint, JsonObject, Request, Upstream
from tools.common.fields import NOT_BOOLEAN, TimeValue, Timezone, WindowEnd, WindowStart
from tools.common.resolve import ROOM_SEARCH, NameText, Picks, all_settled, lookup_room, search_rooms
from tools.spec import Input, Operation, Replay, WireRequest

ROOM_FREEBUSY = Endpoint(
    "room_free_busy", "GET", "/open-apis/meeting_room/freebusy/batch_get", ("calendar:room:readonly",)
)
ROOMS_PER_CALL = 20
MOST_ROOMS = 20  # the smallest that fit come first; more would only cost the model's context


class FindRoomsInput(Input):
    query: Annotated[str | None, Field(max_length=64, description="Room, building or floor words.")] = None
    min_capacity: Annotated[int | None, Field(ge=1, le=1000, description="Seats needed."), NOT_BOOLEAN] = None
    start: Annotated[TimeValue | None, Field(description="With end: only rooms free then.")] = None
    end: Annotated[TimeValue | None, Field(description="End of that slot.")] = None
    timezone: Timezone = None

    _slot: tuple[datetime, datetime] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _window(self, info: ValidationInfo) -> Self:
        if (self.start is None) != (self.end is None):
            raise ValueError("start/end: give both (a slot) or neither")
        if self.start is not None and self.end is not None:
            tz = self.timezone or (info.context or {}).get("timezone") or "UTC"
            zone = times.zone(tz)
            lo = times.parse_time(self.start, tz, "start").as_instant(zone)
            hi = times.parse_time(self.end, tz, "end").as_instant(zone, end_of_day=True)
            if hi <= lo:
                raise ValueError("end: must be after start")
            self._slot = lo.astimezone(zone), hi.astimezone(zone)
        return self


class Room(BaseModel):
    room_id: str
    name: str
    capacity: int = 0
    description: str = ""
    devices: list[str] = []
    needs_approval: bool = False  # booking it takes approval_reason


class RoomsFound(BaseModel):
    rooms: list[Room]
    free_between: list[str] = []


async def busy_room_ids(up: Upstream, room_ids: list[str], lo: datetime, hi: datetime) -> set[str]:
    """The rooms, of ``room_ids``, with any booking overlapping [lo, hi)."""
    window = [("time_min", times.rfc3339(lo)), ("time_max", times.rfc3339(hi))]
    groups = [room_ids[i : i + ROOMS_PER_CALL] for i in range(0, len(room_ids), ROOMS_PER_CALL)]
    answers = await up.send_all(
        [Request(ROOM_FREEBUSY, query=[*(("room_ids", r) for r in g), *window]) for g in groups]
    )
    return {room for answer in answers for room, slots in (answer.get("free_busy") or {}).items() if slots}


async def _gather(inp: FindRoomsInput, up: Upstream) -> JsonObject:
    rooms = await search_rooms(up, inp.query or "")
    if inp.min_capacity:
        rooms = [r for r in rooms if int(r.get("capacity") or 0) >= inp.min_capacity]
    # Smallest room that fits first: big rooms stay free for big meetings.
    rooms.sort(key=lambda r: (int(r.get("capacity") or 0), str(r.get("name"))))
    if inp._slot is not None and rooms:
        busy = await busy_room_ids(up, [str(r["room_id"]) for r in rooms], *inp._slot)
        rooms = [r for r in rooms if r["room_id"] not in busy]
    return {"rooms": rooms[:MOST_ROOMS]}


def room_of(raw: JsonObject) -> Room:
    return Room(
        room_id=str(raw["room_id"]),
        name=str(raw.get("name") or ""),
        capacity=int(raw.get("capacity") or 0),
        description=str(raw.get("description") or ""),
        devices=[str(d.get("name")) for d in raw.get("device") or [] if isinstance(d, dict) and d.get("name")],
        needs_approval=needs_approval(raw),
    )


def _respond(inp: FindRoomsInput, data: dict[str, Any]) -> RoomsFound:
    slot = [times.rfc3339(moment) for moment in inp._slot] if inp._slot else []
    return RoomsFound(rooms=[room_of(r) for r in data["rooms"]], free_between=slot)


find_rooms = Operation(
    name="find_rooms",
    title="Find meeting rooms",
    description=(
        "Rooms you may book, smallest fitting first, by name or building/floor words and seats; with start+end "
        "only those free then. Example: min_capacity=6, start='2026-11-24T10:00', end='2026-11-24T11:00'."
    ),
    interface_function="",  # not one of the 23 calendar operations: vc/v1/rooms/search (+ room free/busy)
    method="POST",
    route=ROOM_SEARCH.route,
    input_model=FindRoomsInput,
    output_model=RoomsFound,
    toolset="rooms",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=ROOM_SEARCH.scopes,
    respond=_respond,
    gather=_gather,
    endpoints=(ROOM_SEARCH, ROOM_FREEBUSY),
)


class RoomFreeBusyInput(Input):
    room_ids: Annotated[
        list[NameText], Field(min_length=1, max_length=20, description="1-20 room ids (omm_...) or room names.")
    ]
    start: WindowStart
    end: WindowEnd
    timezone: Timezone = None

    _range: tuple[str, str] = PrivateAttr(default=("", ""))

    @model_validator(mode="after")
    def _to_rfc3339(self, info: ValidationInfo) -> Self:
        tz = self.timezone or (info.context or {}).get("timezone")
        zone = times.zone(tz) if tz else None
        lo = times.parse_time(self.start, tz, "start").as_instant(zone)
        hi = times.parse_time(self.end, tz, "end").as_instant(zone, end_of_day=True)
        if hi <= lo:
            raise ValueError("end: must be after start")
        if zone is not None:
            lo, hi = lo.astimezone(zone), hi.astimezone(zone)
        self._range = times.rfc3339(lo), times.rfc3339(hi)
        return self


class RoomFreeBusy(BaseModel):
    start: str
    end: str
    free_busy: Annotated[dict[str, list[dict[str, Any]]], Field(description="Busy slots per room id.")]
    free_rooms: Annotated[list[str], Field(description="Rooms with no busy slot in the range.")]


async def _room_ids(inp: RoomFreeBusyInput, up: Upstream, picks: Picks) -> RoomFreeBusyInput:
    """Room names to ids (README: names work wherever ids are wanted), every unclear name at once."""
    found = all_settled([await lookup_room(up, room, picks) for room in inp.room_ids])
    ids = [str(r["room_id"]) for r in found]
    return inp.model_copy(update={"room_ids": list(dict.fromkeys(ids))})


def _freebusy_wire(inp: RoomFreeBusyInput) -> WireRequest:
    query = [("room_ids", room) for room in inp.room_ids]
    query += [("time_min", inp._range[0]), ("time_max", inp._range[1])]
    return WireRequest(path_params={}, query=query)


def _slot(slot: dict[str, Any]) -> dict[str, Any]:
    """A busy slot with the tools' own spelling (start/end), the rest as Feishu sent it."""
    renamed = {"start_time": "start", "end_time": "end"}
    return {renamed.get(key, key): value for key, value in slot.items()}


def _freebusy(inp: RoomFreeBusyInput, data: dict[str, Any]) -> RoomFreeBusy:
    busy = {room: [_slot(s) for s in slots or []] for room, slots in (data.get("free_busy") or {}).items()}
    return RoomFreeBusy(
        start=str(data.get("time_min") or inp._range[0]),
        end=str(data.get("time_max") or inp._range[1]),
        free_busy=busy,
        free_rooms=[room for room in inp.room_ids if not busy.get(room)],
    )


get_room_freebusy = Operation(
    name="get_room_freebusy",
    title="Meeting-room free/busy",
    description=(
        "Busy slots of up to 20 rooms (ids or names) in a range (within 30 days) and which are free. "
        "Example: room_ids=['omm_1'], start='2026-11-24T09:00', end='2026-11-24T12:00'."
    ),
    interface_function="QueryMeetingRoomFreebusyAsync",
    method="GET",
    route="/open-apis/meeting_room/freebusy/batch_get",
    input_model=RoomFreeBusyInput,
    output_model=RoomFreeBusy,
    toolset="rooms",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=("calendar:room:readonly",),
    respond=_freebusy,
    to_wire=_freebusy_wire,
    endpoints=(ROOM_SEARCH,),
    prepare=_room_ids,
)
