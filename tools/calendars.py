"""The user's calendars (the ``calendars`` toolset): list_calendars."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools.common.composite import Endpoint, Refusal, Request, Upstream
from tools.spec import Input, Operation, Replay, WireRequest

CALENDARS_ROUTE = "/open-apis/calendar/v4/calendars"
READ_SCOPES = ("calendar:calendar:read", "calendar:calendar", "calendar:calendar:readonly")


class ListCalendarsInput(Input):
    name: Annotated[str | None, Field(max_length=64, description="Only names containing this.")] = None


class CalendarEntry(BaseModel):
    calendar_id: str
    summary: str
    type: str
    role: Annotated[str, Field(description="owner/writer may add events.")]
    description: str = ""


class Calendars(BaseModel):
    calendars: list[CalendarEntry]


CALENDAR_LIST = Endpoint("find_calendar_by_name", "GET", CALENDARS_ROUTE, READ_SCOPES)


async def calendar_id_named(up: Upstream, name: str) -> str:
    """The id of the user's one calendar called ``name`` (its title or the user's alias for it)."""
    data = await up.send(Request(CALENDAR_LIST))
    calendars = [c for c in data.get("calendar_list") or [] if isinstance(c, dict) and not c.get("is_deleted")]
    wanted = name.casefold()
    named = [
        c
        for c in calendars
        if wanted in (str(c.get("summary", "")).casefold(), str(c.get("summary_alias", "")).casefold())
    ]
    if len(named) == 1:
        return str(named[0]["calendar_id"])
    if not named:
        titles = ", ".join(f'"{c.get("summary")}"' for c in calendars)
        raise Refusal(f'you have no calendar named "{name}" (yours: {titles}); list_calendars shows them with ids')
    ids = ", ".join(str(c["calendar_id"]) for c in named)
    raise Refusal(f'{len(named)} of your calendars are named "{name}" ({ids}): pass the calendar_id')


def _respond(inp: ListCalendarsInput, data: dict[str, Any]) -> Calendars:
    entries = [
        CalendarEntry(
            calendar_id=str(c.get("calendar_id") or ""),
            summary=str(c.get("summary_alias") or c.get("summary") or ""),
            type=str(c.get("type") or ""),
            role=str(c.get("role") or ""),
            description=str(c.get("description") or ""),
        )
        for c in data.get("calendar_list") or []
        if isinstance(c, dict) and not c.get("is_deleted")
    ]
    if inp.name:
        entries = [e for e in entries if inp.name.casefold() in e.summary.casefold()]
    return Calendars(calendars=entries)


list_calendars = Operation(
    name="list_calendars",
    title="List calendars",
    description=("Your calendars (own, shared, subscribed) with your role on each."),
    interface_function="",  # not one of the 23 calendar-event operations: GET calendar/v4/calendars
    method="GET",
    route=CALENDARS_ROUTE,
    input_model=ListCalendarsInput,
    output_model=Calendars,
    toolset="calendars",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=READ_SCOPES,
    respond=_respond,
    to_wire=lambda _: WireRequest(path_params={}),  # the name filter is ours; Feishu gets no query
)
