"""Meeting-room free/busy: ``GET /open-apis/meeting_room/freebusy/batch_get`` (feishu-api.md op 13).

A room is busy exactly when an event books it: a live event (or occurrence of a series, with its
exceptions applied) whose room attendee has not declined or been removed (a booking still in
progress counts unless it is going to fail, see room_booking.py). :func:`bookings` is
that rule, shared with the attendee routes, which refuse a room for a slot it is already booked.

Query: ``room_ids`` repeated (1-20), ``time_min`` and ``time_max`` as RFC 3339 date-times with an
offset. The reply echoes both and lists, per room, the busy slots overlapping the range, with
times in ``time_min``'s offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox import recurrence
from sandbox.event_reads import expand
from sandbox.room_booking import holding_status
from sandbox.state import Event, World
from sandbox.wire import Call, api_route, invalid, parse_rfc3339

if TYPE_CHECKING:
    from sandbox.core import Api

FREEBUSY_SCOPES = ("calendar:room:readonly",)
MAX_ROOMS = 20
NOT_BOOKING = ("decline", "removed")


@dataclass(frozen=True)
class Booking:
    """One stretch of time a room is held, and the event (or occurrence) holding it."""

    start: int
    end: int
    event: Event


def routes(sb: Api) -> list[BaseRoute]:
    return [api_route(sb, "GET", "/open-apis/meeting_room/freebusy/batch_get", batch_get, scopes=FREEBUSY_SCOPES)]


def books_room(event: Event, room_id: str) -> bool:
    return any(
        a.type == "resource" and a.room_id == room_id and holding_status(a) not in NOT_BOOKING for a in event.attendees
    )


def bookings(world: World, room_id: str, lo: int, hi: int, *, except_uid: str | None = None) -> list[Booking]:
    """The room's bookings overlapping [lo, hi), by start; ``except_uid`` leaves one series out."""
    found: list[Booking] = []
    for event in world.events.values():
        # Exceptions come with their series through expand(); a deleted series takes them along.
        if event.deleted or event.original_time != 0 or event.uid == except_uid:
            continue
        for instance in expand(world, event, lo, hi, with_cancelled=False):
            if books_room(instance, room_id):
                start, end = recurrence.span(instance)
                found.append(Booking(start, end, instance))
    return sorted(found, key=lambda b: (b.start, b.event.event_id))


def batch_get(call: Call) -> dict[str, Any]:
    room_ids = call.query_list("room_ids")
    if not 1 <= len(room_ids) <= MAX_ROOMS:
        raise invalid("room_ids", ",".join(room_ids), f"1 to {MAX_ROOMS} room ids are required")
    unknown = [r for r in room_ids if r not in call.sb.world.rooms]
    if unknown:
        raise invalid("room_ids", ",".join(unknown), "no such meeting room")
    time_min, time_max = (
        parse_rfc3339("time_min", call.query("time_min")),
        parse_rfc3339("time_max", call.query("time_max")),
    )
    if time_max <= time_min:
        raise invalid("time_max", call.query("time_max"), "must be after time_min")
    lo, hi = int(time_min.timestamp()), int(time_max.timestamp())
    zone = time_min.tzinfo
    free_busy = {
        room_id: [_slot(call, b, zone) for b in bookings(call.sb.world, room_id, lo, hi)]
        for room_id in dict.fromkeys(room_ids)
    }
    return {"time_min": call.query("time_min"), "time_max": call.query("time_max"), "free_busy": free_busy}


def _slot(call: Call, booking: Booking, zone: dt.tzinfo | None) -> dict[str, Any]:
    event = booking.event
    slot: dict[str, Any] = {
        "start_time": dt.datetime.fromtimestamp(booking.start, zone).isoformat(),
        "end_time": dt.datetime.fromtimestamp(booking.end, zone).isoformat(),
        "uid": event.uid,
        # uIDOyUjLygjM14iM4ITN.md: 0 for single events and a series' own occurrences; a modified
        # occurrence (an exception) carries its original start.
        "original_time": event.original_time if event.is_exception else 0,
    }
    organizer = call.sb.world.users.get(event.organizer_open_id or "")
    # Feishu hides who booked a private event; an app-organized one has no user to name.
    if event.visibility != "private" and organizer is not None:
        slot["organizer_info"] = {"name": organizer.name, "open_id": organizer.open_id}
    return slot
