"""Event writes and single reads: create, get, patch, delete, reply (feishu-api.md §3 ops 1-4, 7).

Rules: creating needs writer on a primary or shared calendar; the organizer (writer on the
organizer's calendar, or an attendee with ``can_modify_event``) edits everything, other attendees
only their own visibility, free/busy, colour and reminders (193002 otherwise); only the organizer
deletes. An occurrence id (``uid_<original start>``) addresses one occurrence of a series:
patching, replying to or deleting it stores an exception.
"""

from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox import eventstore
from sandbox.calendars import calendar_for
from sandbox.eventfields import apply_body
from sandbox.render import event_json, event_text
from sandbox.state import ABILITY_ORDER, Calendar, Event, TimeInfo
from sandbox.wire import CALENDAR_V4, Call, FeishuFault, RenderedJSON, api_route, field_validation, invalid, json_object

if TYPE_CHECKING:
    from sandbox.core import Api

EVENTS = CALENDAR_V4 + "/calendars/{calendar_id}/events"
EVENT = EVENTS + "/{event_id}"
READ_SCOPES = ("calendar:calendar", "calendar:calendar.event:read", "calendar:calendar:readonly")
CREATE_SCOPES = ("calendar:calendar", "calendar:calendar.event:create")
UPDATE_SCOPES = ("calendar:calendar", "calendar:calendar.event:update")
DELETE_SCOPES = ("calendar:calendar", "calendar:calendar.event:delete")
REPLY_SCOPES = ("calendar:calendar", "calendar:calendar.event:reply", "calendar:calendar.event:writeonly")
WRITABLE_TYPES = ("primary", "shared")
RSVP_REPLIES = ("accept", "decline", "tentative")


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "POST", EVENTS, create_event, scopes=CREATE_SCOPES),
        api_route(sb, "GET", EVENT, get_event, scopes=READ_SCOPES),
        api_route(sb, "PATCH", EVENT, patch_event, scopes=UPDATE_SCOPES),
        api_route(sb, "DELETE", EVENT, delete_event, scopes=DELETE_SCOPES),
        api_route(sb, "POST", EVENT + "/reply", reply_event, scopes=REPLY_SCOPES),
    ]


def create_event(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "writer", WRITABLE_TYPES)
    world = call.sb.world
    key = call.query("idempotency_key")
    if key is not None:
        if not 32 <= len(key) <= 128:
            raise field_validation("idempotency_key", key, "the min len is 32, the max len is 128")
        earlier = world.idempotency.get((call.app_id, calendar.calendar_id, key))
        if earlier is not None and earlier in world.events:
            return {"event": event_json(call, world.events[earlier])}
    for name in ("start_time", "end_time"):
        if call.body.get(name) is None:
            raise invalid(name, None, "is required")
    organizer = calendar.owner_open_id if calendar.type == "primary" else None
    if organizer is None and call.user is not None:
        organizer = call.user.open_id
    event = Event(
        uid=str(uuid.uuid4()),
        original_time=0,
        organizer_calendar_id=calendar.calendar_id,
        organizer_open_id=organizer,
        start=TimeInfo(),
        end=TimeInfo(),
        create_time=int(call.sb.clock.now()),
    )
    apply_body(call, event, call.body, full=True, organizer=True)
    eventstore.save(world, event)
    if key is not None:
        world.idempotency[(call.app_id, calendar.calendar_id, key)] = event.event_id
    return {"event": event_json(call, event)}


def get_event(call: Call) -> dict[str, Any] | RenderedJSON:
    calendar = calendar_for(call, call.path["calendar_id"], "reader")
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    with_attendees = call.query_bool("need_attendee", False)
    limit = call.query_int("max_attendee_num", default=10, low=1, high=100)
    if with_attendees and not may_see_attendees(call, event):
        raise FeishuFault(194001, "no permission to see the attendee list", 403)
    settings = call.query_bool("need_meeting_settings", False)
    if not with_attendees and not settings:
        return json_object([("event", event_text(call, event))])  # the text listings keep for it
    return {"event": event_json(call, event, attendees=limit if with_attendees else 0, meeting_settings=settings)}


def patch_event(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "writer", WRITABLE_TYPES)
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    full = may_modify(call, event)
    if not full and eventstore.caller_attendee(call, event) is None:
        raise FeishuFault(193002, "no permission to modify the event", 403)
    # Work on a copy so a rejected body leaves the event untouched.
    changed = copy.deepcopy(event)
    apply_body(call, changed, call.body, full=full, organizer=eventstore.can_edit(call, event))
    eventstore.save(call.sb.world, changed)
    if event.recurrence and event.original_time == 0:
        eventstore.drop_stray_exceptions(call.sb.world, changed)
    return {"event": event_json(call, changed)}


def delete_event(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "writer", WRITABLE_TYPES)
    call.query_bool("need_notification", True)  # validated; the sandbox sends no notifications
    world = call.sb.world
    destroy = call.query_bool("delete_exception", False)
    if destroy and _destroy_exception(call, calendar):
        return {}
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    if destroy and event.original_time != 0 and not event.is_exception:
        return {}  # no record of its own to remove: nothing changes (a repeated request stays harmless)
    if not eventstore.can_edit(call, event):
        raise FeishuFault(193002, "only the organizer can delete the event", 403)
    if event.original_time != 0:
        # One occurrence of a series: it stays as a cancelled exception.
        event.status = "cancelled"
        eventstore.save(world, event)
        return {}
    event.deleted = True
    eventstore.touch(world, event)
    if event.recurrence:
        for exception in eventstore.exceptions_of(world, event).values():
            exception.deleted = True
            eventstore.touch(world, exception)
    return {}


def _destroy_exception(call: Call, calendar: Calendar) -> bool:
    """``delete_exception=true`` (UNDOCUMENTED; Feishu's CLI sends it before a series-wide change):
    a changed or cancelled occurrence's own record goes, so the occurrence follows its series again
    instead of staying cancelled. False when the id names no such record (the plain delete runs)."""
    world = call.sb.world
    stored = world.events.get(call.path["event_id"])
    if stored is None or not stored.is_exception or stored.deleted:
        return False
    master = world.events.get(stored.recurring_event_id)
    if master is None or calendar.calendar_id not in eventstore.shown_on(world, master):
        raise FeishuFault(193001, "event not found", 404)
    if not eventstore.can_edit(call, master):
        raise FeishuFault(193002, "only the organizer can delete the event", 403)
    eventstore.remove(world, stored.event_id)
    eventstore.touch(world, master)  # syncs see the series change
    return True


def reply_event(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "reader")
    status = call.required_field("rsvp_status", str)
    if status not in RSVP_REPLIES:
        raise invalid("rsvp_status", status, "must be accept, decline or tentative")
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    attendee = eventstore.caller_attendee(call, event)
    if attendee is None or call.user is None:
        raise FeishuFault(194000, "attendee not found: you are not invited to this event", 404)
    if attendee.type == "chat":
        attendee.member_replies[call.user.open_id] = status  # type: ignore[assignment]  # one of RSVP_REPLIES
    else:
        attendee.rsvp_status = status  # type: ignore[assignment]  # checked against RSVP_REPLIES
    eventstore.save(call.sb.world, event)
    return {}


def may_modify(call: Call, event: Event) -> bool:
    """Organizer rights, which ``can_modify_event`` extends to every attendee."""
    if eventstore.can_edit(call, event):
        return True
    return event.attendee_ability == "can_modify_event" and eventstore.caller_attendee(call, event) is not None


def may_see_attendees(call: Call, event: Event) -> bool:
    if eventstore.can_edit(call, event):
        return True
    attending = eventstore.caller_attendee(call, event) is not None
    return attending and ABILITY_ORDER.index(event.attendee_ability) >= ABILITY_ORDER.index("can_see_others")
