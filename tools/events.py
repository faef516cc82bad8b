"""Event operations: create, delete, update, get, list, search, reply."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Self

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from tools.common import times
from tools.common.approval import approval_rooms, booking_notes, require_reasons
from tools.common.composite import Request, Upstream
from tools.common.event_models import EventBody
from tools.common.fields import (
    NOT_BOOLEAN,
    CalendarId,
    EventId,
    NeedNotification,
    PageToken,
    SyncToken,
    TimeValue,
    Timezone,
    UserIdTypeField,
)
from tools.common.names import CHAT_SEARCH, attendees_for
from tools.common.outputs import Done, EventPage, EventResult, event_result
from tools.common.recurring import ADD_ATTENDEES as INVITE
from tools.common.recurring import (
    CREATE_EVENT,
    DELETE_EVENT,
    GET_EVENT,
    PATCH_EVENT,
    Scope,
    delete_series,
    edit_series,
    edited,
)
from tools.common.recurring_split import (
    ADD_TO_OCCURRENCE,
    DELETE_OCCURRENCE,
    LIST_ATTENDEES,
    LIST_EVENTS,
    PATCH_OCCURRENCE,
    REMOVE_FROM_OCCURRENCE,
)
from tools.common.resolve import PROFILES, ROOM_SEARCH, SEARCH_USER, USER_INFO, NameText
from tools.common.window import dated_page, local_days
from tools.spec import IN_QUERY, Input, Operation, ReadBack, Replay, WireRequest

EVENTS = "/open-apis/calendar/v4/calendars/{calendar_id}/events"
EVENT = EVENTS + "/{event_id}"
READ_SCOPES = ("calendar:calendar", "calendar:calendar.event:read", "calendar:calendar:readonly")


def _new_idempotency_key() -> str:
    return uuid.uuid4().hex


class CreateEventInput(EventBody):
    calendar_id: CalendarId = "primary"
    invite: Annotated[list[NameText] | None, Field(max_length=100, description="Names, emails, open_ids or chats.")] = (
        None
    )
    room: Annotated[NameText | None, Field(description="A room to book: name or room_id.")] = None
    approval_reason: Annotated[str | None, Field(max_length=200, description="Why; rooms needing approval.")] = None
    idempotency_key: Annotated[
        str,
        Field(min_length=32, max_length=128, description="32-128 chars; same key = same event. Auto if omitted."),
        IN_QUERY,
    ] = Field(default_factory=_new_idempotency_key)
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None
    # Required here (optional in an update): the published schema says so, not only the validator.
    start: Annotated[TimeValue, Field(description="Start; a date makes it all-day.")]
    end: Annotated[
        TimeValue, Field(description="End; a date makes it all-day through that day (one day: end = start).")
    ]

    _attendees: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _approval: dict[str, str] = PrivateAttr(default_factory=dict)  # rooms that need approval: id -> name

    @model_validator(mode="after")
    def _reason_for_a_room(self) -> Self:
        if self.approval_reason is not None and self.room is None:
            raise ValueError("approval_reason: only with room (the reason for booking it)")
        return self


async def _prepare_create(inp: CreateEventInput, up: Upstream, picks: dict[str, str]) -> CreateEventInput:
    """The invitees and the room as Feishu attendees, looked up before anything is created."""
    wanted = [("invite", name) for name in inp.invite or []] + ([("resource", inp.room)] if inp.room else [])
    if wanted:
        found = await attendees_for(up, wanted, picks)
        if inp.approval_reason:
            found = [{**a, "approval_reason": inp.approval_reason} if a["type"] == "resource" else a for a in found]
        inp._approval = await approval_rooms(up, found)
        require_reasons(found, inp._approval)  # before anything is created
        inp._attendees = found
    return inp


async def _invite_after_create(
    inp: CreateEventInput, data: dict[str, Any], up: Upstream, calendar_id: str
) -> dict[str, Any]:
    """One call creates, invites and books: the attendees go to the new event at once."""
    event = data.get("event") if isinstance(data.get("event"), dict) else None
    if not inp._attendees or event is None or not event.get("event_id"):
        return data
    body: dict[str, Any] = {"attendees": inp._attendees}
    if inp.need_notification is not None:
        body["need_notification"] = inp.need_notification
    path = {"calendar_id": calendar_id, "event_id": str(event["event_id"])}
    added = await up.write(Request(INVITE, body=body, path=path), Replay.SAFE)
    attendees = added.get("attendees") or []
    return {**data, "event": {**event, "attendees": attendees}, "notes": booking_notes(attendees, inp._approval)}


def _event_wire(inp: CreateEventInput | UpdateEventInput) -> WireRequest:
    path = {"calendar_id": inp.calendar_id}
    query: list[tuple[str, str]] = []
    if isinstance(inp, CreateEventInput):
        query.append(("idempotency_key", inp.idempotency_key))
    else:
        path["event_id"] = inp.event_id
    if inp.user_id_type:
        query.append(("user_id_type", inp.user_id_type))
    return WireRequest(path_params=path, query=query, body=inp.body())


create_event = Operation(
    name="create_event",
    title="Create event",
    description=(
        "Create an event, invite and book a room in one call; dates make it all-day. Example: summary='Sync', "
        "start='2026-11-23T15:00', end='2026-11-23T15:30', invite=['Li Lei'], room='Huangshan'."
    ),
    interface_function="CreateCalendarEventAsync",
    method="POST",
    route=EVENTS,
    input_model=CreateEventInput,
    output_model=EventResult,
    toolset="events",
    read_only=False,
    destructive=False,
    idempotent=False,
    replay=Replay.KEYED,
    scopes=("calendar:calendar", "calendar:calendar.event:create"),
    respond=event_result,
    to_wire=_event_wire,
    check_overlaps=True,
    prepare=_prepare_create,
    after=_invite_after_create,
    endpoints=(SEARCH_USER, USER_INFO, PROFILES, CHAT_SEARCH, ROOM_SEARCH, INVITE),
)


class EventRef(Input):
    calendar_id: CalendarId = "primary"
    event_id: EventId


SCOPE_FIELD = Field(
    description="Recurring: this (one occurrence's id), this_and_following or all; omitted: what event_id names."
)


class DeleteEventInput(EventRef):
    need_notification: Annotated[NeedNotification, IN_QUERY] = None
    scope: Annotated[Scope | None, SCOPE_FIELD] = None


async def _delete_scoped(inp: DeleteEventInput, up: Upstream) -> dict[str, Any] | None:
    return await delete_series(up, inp.scope, inp.calendar_id, inp.event_id, inp.need_notification)


def _deleted(_: DeleteEventInput, data: dict[str, Any]) -> Done:
    notes = data.get("notes") if isinstance(data.get("notes"), list) else None
    return Done(detail="; ".join(str(n) for n in notes) if notes else "event deleted")


delete_event = Operation(
    name="delete_event",
    title="Delete event",
    description=(
        "Delete an event you organize; recurring: an occurrence's event_id and scope. "
        "Attendees are notified unless need_notification=false."
    ),
    interface_function="DeleteCalendarEventAsync",
    method="DELETE",
    route=EVENT,
    input_model=DeleteEventInput,
    output_model=Done,
    toolset="events",
    read_only=False,
    destructive=True,
    idempotent=True,
    replay=Replay.DELETE,
    scopes=("calendar:calendar", "calendar:calendar.event:delete"),
    respond=_deleted,
    gather=_delete_scoped,
    endpoints=(GET_EVENT, PATCH_EVENT, DELETE_EVENT, LIST_EVENTS, DELETE_OCCURRENCE),
    confirm="Delete event {event_id} from calendar {calendar_id}? Attendees are notified.",
    done_after_replay=frozenset({193001, 193003}),
)


class UpdateEventInput(EventBody):
    calendar_id: CalendarId = "primary"
    event_id: EventId
    user_id_type: UserIdTypeField = None
    scope: Annotated[Scope | None, SCOPE_FIELD] = None


async def _update_scoped(inp: UpdateEventInput, up: Upstream) -> dict[str, Any] | None:
    return await edit_series(up, inp.scope, inp.calendar_id, inp.event_id, inp.body())


# Sent but never echoed by get_event (or echoed in another shape): not compared on read-back.
UNECHOED = frozenset({"need_notification", "attachments"})


def shows(sent: Any, seen: Any) -> bool:
    """Whether a value read back shows what was sent: every sent key of an object, lists item by
    item, scalars as text (Feishu writes some numbers as strings, e.g. timestamps)."""
    if isinstance(sent, dict):
        return isinstance(seen, dict) and all(k not in seen or shows(v, seen[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(seen, list) and len(sent) == len(seen) and all(map(shows, sent, seen))
    return str(sent) == str(seen)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def event_differs(body: dict[str, Any] | None, data: dict[str, Any]) -> list[str]:
    """The sent event fields the event read back does not show (fields it does not return are skipped)."""
    found = data.get("event")
    event: dict[str, Any] = found if isinstance(found, dict) else {}
    return [
        f"{name} is {_brief(event[name])}, not {_brief(value)}"
        for name, value in (body or {}).items()
        if name not in UNECHOED and name in event and not shows(value, event[name])
    ]


update_event = Operation(
    name="update_event",
    title="Update event",
    description=(
        "Change fields of an event; omitted fields stay. To move it send start and end; recurring: an "
        "occurrence's event_id and scope. Attendees may change only visibility, free_busy_status, color, "
        "reminders. Example: event_id='abc_0', start='2026-11-26T15:00', end='2026-11-26T16:00'."
    ),
    interface_function="UpdateCalendarEventAsync",
    method="PATCH",
    route=EVENT,
    input_model=UpdateEventInput,
    output_model=EventResult,
    toolset="events",
    read_only=False,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=("calendar:calendar", "calendar:calendar.event:update"),
    respond=edited,
    to_wire=_event_wire,
    check_overlaps=True,
    read_back=ReadBack(route=EVENT, differs=event_differs),
    gather=_update_scoped,
    endpoints=(
        GET_EVENT,
        PATCH_EVENT,
        CREATE_EVENT,
        INVITE,
        DELETE_EVENT,
        LIST_EVENTS,
        LIST_ATTENDEES,
        DELETE_OCCURRENCE,
        PATCH_OCCURRENCE,
        ADD_TO_OCCURRENCE,
        REMOVE_FROM_OCCURRENCE,
        ROOM_SEARCH,
    ),
)


class GetEventInput(EventRef):
    need_attendee: Annotated[bool | None, Field(description="Include attendees."), IN_QUERY] = None
    max_attendee_num: Annotated[int | None, Field(ge=1, le=100, description="At most 100."), NOT_BOOLEAN, IN_QUERY] = (
        None
    )
    need_meeting_settings: Annotated[bool | None, Field(description="Include VC settings."), IN_QUERY] = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None


get_event = Operation(
    name="get_event",
    title="Get event",
    description="Get one event by id, optionally with its attendees. Example: event_id='abc_0', need_attendee=true.",
    interface_function="GetCalendarEventAsync",
    method="GET",
    route=EVENT,
    input_model=GetEventInput,
    output_model=EventResult,
    toolset="events",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=event_result,
)


class ListEventsInput(Input):
    calendar_id: CalendarId = "primary"
    start: Annotated[TimeValue | None, Field(description="Window start (needs end); no paging.")] = None
    end: Annotated[TimeValue | None, Field(description="Window end; a date means through that day.")] = None
    timezone: Timezone = None
    anchor_time: Annotated[TimeValue | None, Field(description="Events ending at/after this; pages.")] = None
    page_size: Annotated[int | None, Field(ge=50, le=1000, description="Default 500."), NOT_BOOLEAN] = None
    page_token: PageToken = None
    # UNVERIFIED for events (documented for the calendar list only): a sync token lasts 90 days.
    sync_token: SyncToken = None
    user_id_type: UserIdTypeField = None

    _window: tuple[str, str] | None = PrivateAttr(default=None)
    _days: tuple[date, date] | None = PrivateAttr(default=None)
    _anchor: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _window_rules(self, info: ValidationInfo) -> Self:
        tz = self.timezone or (info.context or {}).get("timezone")
        if (self.start is None) != (self.end is None):
            raise ValueError("start/end: give both or neither")
        if self.start is not None and self.end is not None:
            if self.anchor_time or self.page_token or self.sync_token:
                raise ValueError("start/end: cannot be combined with anchor_time, page_token or sync_token")
            self._window = window(self.start, self.end, tz)
            self._days = local_days(self._window, tz)
        if self.anchor_time is not None:
            zone = times.zone(tz) if tz else None
            self._anchor = times.unix_seconds(times.parse_time(self.anchor_time, tz, "anchor_time").as_instant(zone))
        return self


def window(start: str, end: str, tz: str | None, *, max_days: float | None = None) -> tuple[str, str]:
    """A (start, end) Unix-second window; dates mean whole days in ``tz``."""
    zone = times.zone(tz) if tz else None
    lo = times.parse_time(start, tz, "start").as_instant(zone)
    hi = times.parse_time(end, tz, "end").as_instant(zone, end_of_day=True)
    if hi <= lo:
        raise ValueError("end: must be after start")
    if max_days is not None and (hi - lo).total_seconds() > max_days * 86400:
        # view_instances' limit is "under 40 days" (193103): exactly 40 days is refused too, so say "under".
        limit = f"under {max_days:.0f}" if max_days % 1 else f"at most {max_days:g}"
        raise ValueError(f"end: the window must be {limit} days (Feishu's limit)")
    return times.unix_seconds(lo), times.unix_seconds(hi)


def _list_wire(inp: ListEventsInput) -> WireRequest:
    query: list[tuple[str, str]] = []
    if inp._window:
        query += [("start_time", inp._window[0]), ("end_time", inp._window[1])]
    if inp._anchor:
        query.append(("anchor_time", inp._anchor))
    for name in ("page_size", "page_token", "sync_token", "user_id_type"):
        value: Any = getattr(inp, name)
        if value is not None:
            query.append((name, str(value)))
    return WireRequest(path_params={"calendar_id": inp.calendar_id}, query=query)


list_events = Operation(
    name="list_events",
    title="List events",
    description=(
        "List events of a calendar: start+end for one window (no paging; series appear once, "
        "view_instances expands them), or anchor_time to page with page_token, or sync_token (with or "
        "without anchor_time) for changes only (deleted: status=cancelled). Only anchor_time listings "
        "page: has_more=true without page_token means list again with anchor_time."
    ),
    interface_function="GetCalendarEventPageListAsync",
    method="GET",
    route=EVENTS,
    input_model=ListEventsInput,
    output_model=EventPage,
    toolset="events",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=dated_page,
    to_wire=_list_wire,
)
