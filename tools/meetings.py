"""Meeting chats, meeting minutes, and meeting-room free/busy."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, model_validator

from tools import times
from tools.events import EVENT, EventRef
from tools.fields import PathId, TimeValue, Timezone
from tools.outputs import Done, FeishuData, done, feishu_data
from tools.spec import IN_QUERY, Input, Operation, Replay, WireRequest

CHAT_SCOPES = ("calendar:calendar", "calendar:calendar.event:update")


def _chat_check(inp: EventRef) -> str:
    # Feishu's event object has no meeting-chat field (docs, lark-oapi CalendarEvent), so no read
    # shows the chat; asking again settles whether it exists (one chat per event).
    return (
        f"call create_meeting_chat again for event_id={inp.event_id}: an event has one meeting chat, so it either "
        "creates the chat now and returns its meeting_chat_id (the lost call made none), or fails with 195109 "
        "because the lost call made it; then the chat exists (named after the event, in the user's Feishu chat "
        "list) but its id cannot be read back through the calendar API"
    )


def _minutes_check(inp: EventRef) -> str:
    return (
        f"call create_meeting_minutes again for event_id={inp.event_id}: an event has one minutes document, and "
        "asking again returns its doc_url whether or not the lost call made it"
    )


create_meeting_chat = Operation(
    name="create_meeting_chat",
    title="Create meeting chat",
    description=(
        "Create the group chat of an event on your primary calendar (needs at least 2 attendees). "
        "Returns meeting_chat_id and a share link."
    ),
    interface_function="CreateCalendarEventMeetingChatAsync",
    method="POST",
    route=EVENT + "/meeting_chat",
    input_model=EventRef,
    output_model=FeishuData,
    toolset="meetings",
    read_only=False,
    destructive=False,
    idempotent=False,
    # Replaying after an unknown outcome could leave a second chat: report it instead.
    replay=Replay.NEVER,
    scopes=CHAT_SCOPES,
    respond=feishu_data,
    outcome_check=_chat_check,
)


class UnbindChatInput(EventRef):
    meeting_chat_id: Annotated[
        str, Field(pattern=r"^oc_[A-Za-z0-9_-]{1,128}$", description="The chat id (oc_...)."), IN_QUERY
    ]


unbind_meeting_chat = Operation(
    name="unbind_meeting_chat",
    title="Unbind meeting chat",
    description="Detach the group chat from an event (only the chat owner can). The chat itself stays.",
    interface_function="DeleteCalendarEventMeetingChatAsync",
    method="DELETE",
    route=EVENT + "/meeting_chat",
    input_model=UnbindChatInput,
    output_model=Done,
    toolset="meetings",
    read_only=False,
    destructive=True,
    idempotent=True,
    replay=Replay.DELETE,
    scopes=CHAT_SCOPES,
    respond=done("meeting chat unbound"),
    confirm="Unbind chat {meeting_chat_id} from event {event_id}?",
    done_after_replay=frozenset({195108}),
)

create_meeting_minutes = Operation(
    name="create_meeting_minutes",
    title="Create meeting minutes",
    description=(
        "Create the minutes document of an event on your primary calendar (needs an attendee and "
        "attendee_ability other than none). Returns doc_url."
    ),
    interface_function="CreateCalendarEventMeetingMinuteAsync",
    method="POST",
    route=EVENT + "/meeting_minute",
    input_model=EventRef,
    output_model=FeishuData,
    toolset="meetings",
    read_only=False,
    destructive=False,
    idempotent=False,
    replay=Replay.NEVER,
    scopes=CHAT_SCOPES,
    respond=feishu_data,
    outcome_check=_minutes_check,
)


class RoomFreeBusyInput(Input):
    room_ids: Annotated[list[PathId], Field(min_length=1, max_length=20, description="1-20 room ids (omm_...).")]
    start: Annotated[TimeValue, Field(description="From (RFC 3339, local, date or Unix s).")]
    end: Annotated[TimeValue, Field(description="To; a date means through that day.")]
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
        "Busy slots of up to 20 rooms by id in a range (within 30 days) and which are free. "
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
)
