"""The user's calendars (the ``calendars`` toolset): list_calendars, and a calendar's name where a
``calendar_id`` is wanted (every page of the list is read for both)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools.common.composite import Endpoint, JsonObject, Refusal, Request, Upstream
from tools.common.resolve import NO_PICKS, Candidate, NotResolved, Picks, settle
from tools.spec import Input, Operation, Replay

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


CALENDAR_LIST = Endpoint("list_calendars", "GET", CALENDARS_ROUTE, READ_SCOPES)
PAGE_SIZE = 1000  # Feishu's largest (50-1000, default 500): fewest round trips
MAX_PAGES = 20  # Feishu caps subscriptions at 1000; this is far past any real list


async def all_calendars(up: Upstream) -> list[JsonObject]:
    """Every calendar on the user's list, page after page until ``has_more`` is false.

    Feishu may answer a page with fewer calendars than asked, even none, while more remain
    (calendar/list.md): only ``has_more`` says when the list is done.
    """
    calendars: list[JsonObject] = []
    query: list[tuple[str, str]] = [("page_size", str(PAGE_SIZE))]
    for _ in range(MAX_PAGES):
        data = await up.send(Request(CALENDAR_LIST, query=query))
        calendars += [c for c in data.get("calendar_list") or [] if isinstance(c, dict) and not c.get("is_deleted")]
        token = data.get("page_token")
        if not data.get("has_more") or not token:
            return calendars
        query = [("page_size", str(PAGE_SIZE)), ("page_token", str(token))]
    raise Refusal(f"your calendar list has more than {MAX_PAGES} pages of {PAGE_SIZE}; pass a calendar_id")


def _title(calendar: JsonObject) -> str:
    return str(calendar.get("summary_alias") or calendar.get("summary") or "")


async def calendar_id_named(up: Upstream, name: str, picks: Picks = NO_PICKS) -> str:
    """The id of the user's one calendar called ``name`` (its title or the user's alias for it, or, when
    none is called exactly that, part of one, as for people and rooms: "Company holidays" for
    "Company holidays 公司假期")."""
    picked = picks.get(name, "")
    if "@" in picked:
        return picked
    calendars = await all_calendars(up)
    wanted = name.casefold()

    def titles_of(c: JsonObject) -> tuple[str, str]:
        return str(c.get("summary", "")).casefold(), str(c.get("summary_alias", "")).casefold()

    named = [c for c in calendars if wanted in titles_of(c)] or [
        c for c in calendars if any(wanted in title for title in titles_of(c) if title)
    ]
    titles = ", ".join(f'"{_title(c)}"' for c in calendars[:30])
    nobody = f'you have no calendar named "{name}" (yours: {titles}); list_calendars shows them with ids'
    choices = [Candidate(str(c["calendar_id"]), _title(c), _apart(c)) for c in named]
    found = settle(name, choices, "calendars", nobody)
    if isinstance(found, NotResolved):
        raise found
    return found.id


def _apart(calendar: JsonObject) -> str:
    """What tells two calendars of one name apart: type, the user's role, the start of the description."""
    parts = [str(calendar.get(key) or "") for key in ("type", "role")]
    description = str(calendar.get("description") or "")
    parts.append(description if len(description) <= 40 else description[:39] + "…")
    return ", ".join(p for p in parts if p)


async def _gather(inp: ListCalendarsInput, up: Upstream) -> JsonObject:
    return {"calendar_list": await all_calendars(up)}


def _respond(inp: ListCalendarsInput, data: dict[str, Any]) -> Calendars:
    entries = [
        CalendarEntry(
            calendar_id=str(c.get("calendar_id") or ""),
            summary=_title(c),
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
    gather=_gather,  # every page (the name filter is ours; Feishu gets none)
    endpoints=(CALENDAR_LIST,),
)
