"""Primary-calendar free/busy: ``POST /calendar/v4/freebusy/batch`` and ``/freebusy/list``.

scheduling-api.md §3.1-3.2. Busy time is what a user's primary calendar shows (events they
organize there, or attend without having declined; chat members included), expanded for
series, as RFC 3339 in ``time_min``'s offset; no titles, no ids. A room's is its bookings.

A user who left, is in another tenant or does not exist is 195100 ("user is dismiss or not exist
in the tenant", on both pages' error tables), for a batch as a whole too. Where the docs are silent
(sandbox/README.md): a user whose calendar the caller may not read (private calendar) is left out
of a batch's ``freebusy_lists`` (never an empty "free" list); ``freebusy/list`` answers 191002.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox import eventstore, recurrence, rooms, wire
from sandbox.event_reads import expand
from sandbox.state import Calendar, User, World
from sandbox.wire import CALENDAR_V4, FeishuFault, api_route, invalid

if TYPE_CHECKING:
    from sandbox.core import Api
    from sandbox.wire import Call

FREEBUSY_SCOPES = ("calendar:calendar", "calendar:calendar.free_busy:read", "calendar:calendar:readonly")
BATCH_USERS = 10
BATCH_SPAN = 14 * 86400
LIST_SPAN = 90 * 86400
NOT_ATTENDING = ("decline", "removed")
Busy = tuple[int, int, str]  # start, end, rsvp_status


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "POST", CALENDAR_V4 + "/freebusy/batch", batch, scopes=FREEBUSY_SCOPES),
        api_route(sb, "POST", CALENDAR_V4 + "/freebusy/list", list_freebusy, scopes=FREEBUSY_SCOPES),
    ]


def user_busy(world: World, user: User, lo: int, hi: int, *, only_busy: bool = True) -> list[Busy]:
    """The busy blocks of ``user``'s primary calendar overlapping [lo, hi), by start."""
    calendar = world.primary_calendar(user.open_id)
    if calendar is None:
        return []
    found: list[Busy] = []
    for master in eventstore.events_on(world, calendar):
        if master.is_exception:
            continue  # applied through its series
        for instance in expand(world, master, lo, hi, with_cancelled=False):
            if calendar.calendar_id not in eventstore.calendars_of(world, instance):
                continue
            if only_busy and instance.free_busy_status != "busy":
                continue
            attendee = instance.attendee_for_user(user.open_id)
            rsvp = "accept" if instance.organizer_open_id == user.open_id else "needs_action"
            if attendee is not None:
                rsvp = attendee.rsvp_status
            if rsvp in NOT_ATTENDING:
                continue
            start, end = recurrence.span(instance)
            found.append((start, end, rsvp))
    return sorted(found)


def readable(call: Call, calendar: Calendar | None) -> bool:
    """May the caller see this primary calendar's free/busy? (A private one: only its ACL.)"""
    if calendar is None:
        return False
    if calendar.permissions != "private" or call.user is None:
        return calendar.permissions != "private"
    return calendar.owner_open_id == call.user.open_id or call.user.open_id in calendar.acl


def in_tenant(call: Call, user: User) -> bool:
    tenant = call.user.tenant_key if call.user is not None else call.sb.world.apps[call.app_id].tenant_key
    return user.status == "active" and user.tenant_key == tenant


def _items(blocks: list[Busy], zone: dt.tzinfo | None, need_rsvp: bool) -> list[dict[str, Any]]:
    items = []
    for start, end, rsvp in blocks:
        item = {
            "start_time": dt.datetime.fromtimestamp(start, zone).isoformat(),
            "end_time": dt.datetime.fromtimestamp(end, zone).isoformat(),
        }
        if need_rsvp:
            item["rsvp_status"] = rsvp
        items.append(item)
    return items


def _flag(call: Call, name: str, default: bool) -> bool:
    value = call.body.get(name, default)
    if not isinstance(value, bool):
        raise invalid(name, value, "must be a boolean")
    return value


def batch(call: Call) -> dict[str, Any]:
    ids = call.body.get("user_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= BATCH_USERS or not all(isinstance(i, str) for i in ids):
        raise FeishuFault(198001, f"user_ids: between 1 and {BATCH_USERS} user ids are required", 400)
    time_min = wire.parse_rfc3339("time_min", call.body.get("time_min"), 198002)
    time_max = wire.parse_rfc3339("time_max", call.body.get("time_max"), 198002)
    lo, hi = int(time_min.timestamp()), int(time_max.timestamp())
    if hi <= lo or hi - lo > BATCH_SPAN:
        raise FeishuFault(198003, "invalid time range: time_max must be after time_min, at most 2 weeks later", 400)
    only_busy, need_rsvp = _flag(call, "only_busy", True), _flag(call, "need_rsvp_status", False)
    kind = call.user_id_type()
    world = call.sb.world
    users = {user_id: _tenant_user(call, user_id, kind) for user_id in dict.fromkeys(ids)}
    lists = []
    for user_id, user in users.items():
        if not readable(call, world.primary_calendar(user.open_id)):
            continue
        blocks = user_busy(world, user, lo, hi, only_busy=only_busy)
        lists.append({"user_id": user_id, "freebusy_items": _items(blocks, time_min.tzinfo, need_rsvp)})
    return {"freebusy_lists": lists}


def list_freebusy(call: Call) -> dict[str, Any]:
    time_min = wire.parse_rfc3339("time_min", call.body.get("time_min"))
    time_max = wire.parse_rfc3339("time_max", call.body.get("time_max"))
    lo, hi = int(time_min.timestamp()), int(time_max.timestamp())
    if hi <= lo:
        raise invalid("time_max", call.body.get("time_max"), "must be after time_min")
    if hi - lo > LIST_SPAN:
        raise invalid("time_max", call.body.get("time_max"), "the span may be at most 90 days")
    only_busy, need_rsvp = _flag(call, "only_busy", True), _flag(call, "need_rsvp_status", False)
    world = call.sb.world
    user_id, room_id = call.body.get("user_id"), call.body.get("room_id")
    if isinstance(user_id, str) and user_id:  # when both are sent only user_id counts
        user = _tenant_user(call, user_id, call.user_id_type())
        if not readable(call, world.primary_calendar(user.open_id)):
            raise FeishuFault(191002, "no calendar access_role: the calendar is private", 403)
        blocks = user_busy(world, user, lo, hi, only_busy=only_busy)
    elif isinstance(room_id, str) and room_id:
        if room_id not in world.rooms:
            raise invalid("room_id", room_id, "no such meeting room")
        blocks = [(b.start, b.end, _room_rsvp(b, room_id)) for b in rooms.bookings(world, room_id, lo, hi)]
    else:
        raise invalid("user_id", None, "user_id or room_id is required")
    return {"freebusy_list": _items(blocks, time_min.tzinfo, need_rsvp)}


def _tenant_user(call: Call, user_id: str, kind: str) -> User:
    """The active user of the caller's tenant ``user_id`` names, or Feishu's 195100."""
    user = call.sb.world.user_by_any_id(user_id, kind)
    if user is None or not in_tenant(call, user):
        raise FeishuFault(195100, "user is dismiss or not exist in the tenant", 404)
    return user


def _room_rsvp(booking: rooms.Booking, room_id: str) -> str:
    """A room's state in the booking: ``needs_action`` while the booking is in progress."""
    return next(
        (a.rsvp_status for a in booking.event.attendees if a.type == "resource" and a.room_id == room_id),
        "accept",
    )
