"""Finding events: search, recurring instances, the expanded agenda view, and RSVP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from tools.common import times
from tools.common.fields import (
    NOT_BOOLEAN,
    CalendarId,
    EventId,
    PageToken,
    PathId,
    RsvpStatus,
    TimeValue,
    Timezone,
    UserIdTypeField,
    WindowEnd,
    WindowStart,
)
from tools.common.outputs import Done, EventPage, done, event_page
from tools.common.window import dated_page, local_days
from tools.events import EVENT, EVENTS, READ_SCOPES, EventRef, window
from tools.spec import IN_QUERY, Input, Operation, Replay, WireRequest

TWO_YEARS_DAYS = 366 * 2


class SearchEventsInput(Input):
    calendar_id: CalendarId = "primary"
    query: Annotated[str, Field(max_length=200, description="Words in the title (fuzzy).")]
    start: Annotated[TimeValue | None, Field(description="Only events after this.")] = None
    end: Annotated[TimeValue | None, Field(description="Only events before this.")] = None
    timezone: Timezone = None
    user_ids: Annotated[list[PathId] | None, Field(max_length=100, description="With any of these users.")] = None
    room_ids: Annotated[list[PathId] | None, Field(max_length=100, description="In any of these rooms.")] = None
    chat_ids: Annotated[list[PathId] | None, Field(max_length=100, description="With any of these chats.")] = None
    page_size: Annotated[int | None, Field(ge=1, le=100, description="Default 20."), NOT_BOOLEAN, IN_QUERY] = None
    page_token: Annotated[PageToken, IN_QUERY] = None
    user_id_type: Annotated[UserIdTypeField, IN_QUERY] = None

    _filter: dict[str, object] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _build_filter(self, info: ValidationInfo) -> Self:
        tz = self.timezone or (info.context or {}).get("timezone")
        for key, wire in (("start", "start_time"), ("end", "end_time")):
            value = getattr(self, key)
            if value is not None:
                self._filter[wire] = times.time_info(times.parse_time(value, tz, key), tz)
        for key in ("user_ids", "room_ids", "chat_ids"):
            if getattr(self, key):
                self._filter[key] = getattr(self, key)
        return self


def _search_wire(inp: SearchEventsInput) -> WireRequest:
    query = [(k, str(v)) for k in ("page_size", "page_token", "user_id_type") if (v := getattr(inp, k)) is not None]
    body: dict[str, object] = {"query": inp.query}
    if inp._filter:
        body["filter"] = inp._filter
    return WireRequest(path_params={"calendar_id": inp.calendar_id}, query=query, body=body)


def search_page(inp: object, data: dict[str, Any]) -> EventPage:
    # Search answers carry no has_more: a non-empty page_token is the only sign that more remain.
    page = event_page(inp, data)
    return page.model_copy(update={"has_more": page.has_more or bool(page.page_token)})


# UNVERIFIED (feishu-api.md op 6): Feishu's search answer has no has_more (neither the docs nor the
# official SDK's SearchCalendarEventResponseBody carry one), so paging is keyed on page_token alone.
search_events = Operation(
    name="search_events",
    title="Search events",
    description=(
        "Find events by title words, optionally within a time range or with given users/rooms/chats. "
        "Without start/end Feishu searches only about the last month: give them to find upcoming events. "
        "Example: query='weekly sync', start='2026-11-23', end='2026-12-31'."
    ),
    interface_function="SearchCalendarEventPageListAsync",
    method="POST",
    route=EVENTS + "/search",
    input_model=SearchEventsInput,
    output_model=EventPage,
    toolset="events",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=search_page,
    to_wire=_search_wire,
)


class ReplyEventInput(EventRef):
    rsvp_status: Annotated[RsvpStatus, Field(description="Your answer.")]


reply_event = Operation(
    name="reply_event",
    title="Reply to event",
    description="Answer an invitation as yourself: accept, decline or tentative. Example: rsvp_status='accept'.",
    interface_function="ReplyCalendarEventAsync",
    method="POST",
    route=EVENT + "/reply",
    input_model=ReplyEventInput,
    output_model=Done,
    toolset="events",
    read_only=False,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=("calendar:calendar", "calendar:calendar.event:reply", "calendar:calendar.event:writeonly"),
    respond=done("reply recorded"),
)


class Window(Input):
    start: WindowStart
    end: WindowEnd
    timezone: Timezone = None

    _window: tuple[str, str] = PrivateAttr(default=("", ""))
    _days: tuple[date, date] | None = PrivateAttr(default=None)

    def _max_days(self) -> float:
        return TWO_YEARS_DAYS

    @model_validator(mode="after")
    def _to_unix(self, info: ValidationInfo) -> Self:
        tz = self.timezone or (info.context or {}).get("timezone")
        self._window = window(self.start, self.end, tz, max_days=self._max_days())
        self._days = local_days(self._window, tz)
        return self


class InstancesInput(Window):
    calendar_id: CalendarId = "primary"
    event_id: EventId
    page_size: Annotated[int | None, Field(ge=10, le=500, description="Default 50."), NOT_BOOLEAN] = None
    page_token: PageToken = None


def _instances_wire(inp: InstancesInput) -> WireRequest:
    query = [("start_time", inp._window[0]), ("end_time", inp._window[1])]
    query += [(k, str(v)) for k in ("page_size", "page_token") if (v := getattr(inp, k)) is not None]
    return WireRequest(path_params={"calendar_id": inp.calendar_id, "event_id": inp.event_id}, query=query)


# UNVERIFIED (feishu-api.md op 8): whether start_time/end_time are exclusive; we send the window as the
# user meant it (a date end means the end of that day) and let Feishu decide the edges.
list_recurring_instances = Operation(
    name="list_recurring_instances",
    title="List recurring instances",
    description=(
        "List the occurrences of one recurring event in a window of at most 2 years, with exceptions and "
        "cancellations. Example: event_id='abc_0', start='2026-11-01', end='2026-12-31'."
    ),
    interface_function="GetInstancesCalendarEventPageListAsync",
    method="GET",
    route=EVENT + "/instances",
    input_model=InstancesInput,
    output_model=EventPage,
    toolset="events",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=dated_page,
    to_wire=_instances_wire,
)


class InstanceViewInput(Window):
    calendar_id: CalendarId = "primary"
    user_id_type: UserIdTypeField = None

    def _max_days(self) -> float:
        # Feishu rejects spans of 40 days or more (193103); keep strictly under it.
        return 40 - 1 / 86400


def _view_wire(inp: InstanceViewInput) -> WireRequest:
    query = [("start_time", inp._window[0]), ("end_time", inp._window[1])]
    if inp.user_id_type:
        query.append(("user_id_type", inp.user_id_type))
    return WireRequest(path_params={"calendar_id": inp.calendar_id}, query=query)


view_instances = Operation(
    name="view_instances",
    title="View agenda",
    description=(
        "Agenda of a calendar: every occurrence in a window under 40 days, series expanded, with rooms. "
        "Example: start='2026-11-23', end='2026-11-23' (that whole day)."
    ),
    interface_function="GetInstanceViewCalendarEventAsync",
    method="GET",
    route=EVENTS + "/instance_view",
    input_model=InstanceViewInput,
    output_model=EventPage,
    toolset="events",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=dated_page,
    to_wire=_view_wire,
)
