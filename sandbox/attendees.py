"""Attendees: add, batch delete, list, and the members of a chat attendee (feishu-api.md ops 14-17).

Rules (codes 194000-194004 and 190002):

* Adding needs writer on a primary or shared calendar and either organizer rights or an
  ``attendee_ability`` of ``can_invite_others`` or wider (194002). At most 1000 attendees and 100
  rooms per request, 3000 per event. An unknown type is 194004; a user who is not (or no longer)
  in the organizer's tenant is 195100. Adding someone already invited keeps one entry.
* Adding a room asks to book it: the room shows ``needs_action`` (booking in progress) and answers a
  moment later (sandbox/room_booking.py): ``accept`` when it is free for every occurrence,
  ``decline`` (the booking failed) when another event holds it (:func:`sandbox.rooms.bookings`). A room
  that needs approval waits for its approver when a user gives ``approval_reason``, and fails
  without one. An app (tenant token) booking a room must name the room's contact person in
  ``operate_id``, who is also added as an attendee unless ``add_operator_to_attendee`` is false.
* ``is_enable_admin`` acts as the meeting-room administrator (the tenant super-admin here): only
  room entries are processed, organizer rights are not needed, and ``instance_start_time_admin``
  picks one occurrence of a series.
* Removing is for the organizer only (194003); an id that is not a current attendee is 194000.
  Removed attendees keep their entry with ``rsvp_status`` ``removed`` and leave every listing.
* Listing needs organizer rights or ``can_see_others`` (194001); chat members also need the
  caller to be in the chat.

Changes to a series reach its stored exceptions too, as they do in Feishu.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox import eventstore, recurrence, room_booking, rooms
from sandbox.calendars import calendar_for
from sandbox.event_reads import expand
from sandbox.events import EVENT, READ_SCOPES, WRITABLE_TYPES, may_see_attendees
from sandbox.render import attendee_json
from sandbox.state import ABILITY_ORDER, Attendee, Calendar, Event, User, World
from sandbox.wire import Call, FeishuFault, api_route, invalid, page

if TYPE_CHECKING:
    from sandbox.core import Api

ATTENDEES = EVENT + "/attendees"
WRITE_SCOPES = ("calendar:calendar", "calendar:calendar.event:update")
ID_FIELDS = {"user": "user_id", "chat": "chat_id", "resource": "room_id", "third_party": "third_party_email"}
MAX_ADD = 1000
MAX_ROOMS_ADDED = 100
MAX_PER_EVENT = 3000
MAX_DELETE = 500
APPROVAL_REASON_LIMIT = 200
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# How far ahead a series is checked for room conflicts: a series booking a room spans at most
# ROOM_SERIES_LIMIT, and its last occurrence may start on that very day.
BOOKING_HORIZON = recurrence.ROOM_SERIES_LIMIT + recurrence.DAY


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "POST", ATTENDEES, add_attendees, scopes=WRITE_SCOPES),
        api_route(sb, "POST", ATTENDEES + "/batch_delete", batch_delete, scopes=WRITE_SCOPES),
        api_route(sb, "GET", ATTENDEES, list_attendees, scopes=READ_SCOPES),
        api_route(sb, "GET", ATTENDEES + "/{attendee_id}/chat_members", list_chat_members, scopes=READ_SCOPES),
    ]


def live(event: Event) -> list[Attendee]:
    return [a for a in event.attendees if a.rsvp_status != "removed"]


# -- add ------------------------------------------------------------------------------------


def add_attendees(call: Call) -> dict[str, Any]:
    admin = _admin_mode(call)
    calendar = _writable_calendar(call, admin)
    event = _target_event(call, calendar, admin)
    if not admin and not _may_invite(call, event):
        raise FeishuFault(194002, "no permission to add attendees: organizer or can_invite_others needed", 403)
    items = call.required_field("attendees", list)
    if not 1 <= len(items) <= MAX_ADD:
        raise invalid("attendees", len(items), f"1 to {MAX_ADD} attendees per request")
    call.field("need_notification", bool)  # validated; the sandbox sends no notifications
    with_operator = call.field("add_operator_to_attendee", bool) is not False
    world = call.sb.world
    organizer_tenant = _organizer_tenant(call, event)
    added: list[Attendee] = []
    for index, item in enumerate(items):
        attendee = _new_attendee(call, index, item, organizer_tenant)
        if admin and attendee.type != "resource":
            continue  # admin mode processes room entries only
        added.append(attendee)
        if attendee.type == "resource" and attendee.operate_id and with_operator and not admin:
            added.append(eventstore.user_attendee(world, attendee.operate_id, organizer_tenant))
    rooms_added = [a for a in added if a.type == "resource"]
    if len(rooms_added) > MAX_ROOMS_ADDED:
        raise invalid("attendees", len(rooms_added), f"at most {MAX_ROOMS_ADDED} meeting rooms per request")
    if rooms_added and recurrence.books_rooms_too_long(replace(event, attendees=event.attendees + rooms_added)):
        raise invalid("attendees", event.recurrence, "a recurring event that books a meeting room may span 2 years")
    for booking in rooms_added:  # the room (or its approver) answers later (room_booking.py)
        taken = _room_taken(world, event, booking.room_id or "")
        room_booking.request(world, call.sb.clock.now(), booking, taken=taken, by_user=call.user is not None)
    if len(live(event)) + _newcomers(event, added) > MAX_PER_EVENT:
        raise invalid("attendees", len(items), f"an event has at most {MAX_PER_EVENT} attendees")
    _apply(world, event, lambda target: _merge(target, added))
    return {"attendees": [attendee_json(call, a) for a in live(event)]}


def _may_invite(call: Call, event: Event) -> bool:
    if eventstore.can_edit(call, event):
        return True
    attending = eventstore.caller_attendee(call, event) is not None
    return attending and ABILITY_ORDER.index(event.attendee_ability) >= ABILITY_ORDER.index("can_invite_others")


def _organizer_tenant(call: Call, event: Event) -> str | None:
    organizer = call.sb.world.users.get(event.organizer_open_id or "")
    if organizer is not None:
        return organizer.tenant_key
    app = call.sb.world.apps.get(call.app_id)
    return app.tenant_key if app else None


def _new_attendee(call: Call, index: int, item: Any, organizer_tenant: str | None) -> Attendee:
    where = f"attendees[{index}]"
    if not isinstance(item, dict):
        raise invalid(where, item, "must be an object")
    kind = item.get("type")
    if kind not in ID_FIELDS:
        raise FeishuFault(194004, f"invalid attendee type: {kind}", 400)
    id_field = ID_FIELDS[kind]
    ref = item.get(id_field)
    if not isinstance(ref, str) or not ref:
        raise invalid(f"{where}.{id_field}", ref, f"is required when type is {kind}")
    optional = item.get("is_optional")
    if optional is not None and (not isinstance(optional, bool) or kind == "resource"):
        raise invalid(f"{where}.is_optional", optional, "a boolean, and not for meeting rooms")
    world = call.sb.world
    if kind == "user":
        attendee = eventstore.user_attendee(world, _tenant_user(call, ref, organizer_tenant).open_id, organizer_tenant)
    elif kind == "chat":
        if ref not in world.chats:
            raise invalid(f"{where}.chat_id", ref, "no such chat")
        attendee = eventstore.chat_attendee(world, ref)
    elif kind == "resource":
        attendee = _room(call, where, item, ref, organizer_tenant)
    else:
        if not EMAIL.fullmatch(ref):
            raise invalid(f"{where}.third_party_email", ref, "must be an email address")
        attendee = eventstore.third_party_attendee(ref)
    attendee.is_optional = bool(optional)
    return attendee


def _tenant_user(call: Call, ref: str, organizer_tenant: str | None) -> User:
    """An active user of the organizer's tenant: attendee create.md says new attendees must share it."""
    user = call.sb.world.user_by_any_id(ref, call.user_id_type())
    if user is None or user.status != "active":
        raise FeishuFault(195100, f"user {ref} is not in the tenant or has left it", 404)
    if organizer_tenant is not None and user.tenant_key != organizer_tenant:
        raise FeishuFault(195100, f"user {ref} is not in the organizer's tenant", 404)
    return user


def _room(call: Call, where: str, item: dict[str, Any], room_id: str, organizer_tenant: str | None) -> Attendee:
    if room_id not in call.sb.world.rooms:
        raise invalid(f"{where}.room_id", room_id, "no such meeting room")
    attendee = eventstore.room_attendee(call.sb.world, room_id)
    operator = item.get("operate_id")
    if operator is not None:
        if not isinstance(operator, str):
            raise invalid(f"{where}.operate_id", operator, "must be a user id")
        attendee.operate_id = _tenant_user(call, operator, organizer_tenant).open_id
    elif call.user is None:
        raise invalid(f"{where}.operate_id", None, "an app booking a room must name its contact person")
    reason = item.get("approval_reason")
    if reason is not None:
        if not isinstance(reason, str) or len(reason) > APPROVAL_REASON_LIMIT:
            raise invalid(f"{where}.approval_reason", reason, f"at most {APPROVAL_REASON_LIMIT} characters")
        attendee.approval_reason = reason
    customization = item.get("resource_customization") or []
    if not isinstance(customization, list) or not all(
        isinstance(c, dict) and isinstance(c.get("index_key"), str) for c in customization
    ):
        raise invalid(f"{where}.resource_customization", customization, "each entry needs an index_key")
    attendee.resource_customization = copy.deepcopy(customization)
    return attendee


def _room_taken(world: World, event: Event, room_id: str) -> bool:
    """Whether another event holds the room during any occurrence of ``event``."""
    start, end = recurrence.span(event)
    horizon = start + BOOKING_HORIZON if event.recurrence else end
    held = rooms.bookings(world, room_id, start, horizon, except_uid=event.uid)
    if not held:
        return False
    if event.original_time == 0 and event.recurrence:
        mine = [recurrence.span(i) for i in expand(world, event, start, horizon, with_cancelled=False)]
    else:
        mine = [(start, end)]
    return any(b.start < e and b.end > s for s, e in mine for b in held)


def _newcomers(event: Event, added: list[Attendee]) -> int:
    present = {a.attendee_id for a in live(event)}
    return len({a.attendee_id for a in added} - present)


def _merge(event: Event, added: list[Attendee]) -> None:
    by_id = {a.attendee_id: a for a in event.attendees}
    for new in added:
        current = by_id.get(new.attendee_id)
        if current is None:
            fresh = copy.deepcopy(new)
            event.attendees.append(fresh)
            by_id[fresh.attendee_id] = fresh
        elif current.rsvp_status == "removed" or (current.type == "resource" and current.rsvp_status == "decline"):
            # Invited again after removal, or a failed room booking retried: the new entry stands.
            current.rsvp_status = new.rsvp_status
            current.room_answer, current.answer_at = new.room_answer, new.answer_at
            current.awaiting_approval, current.approval_reason = new.awaiting_approval, new.approval_reason
            current.is_optional = new.is_optional


def _apply(world: World, event: Event, change: Callable[[Event], None]) -> None:
    """Apply ``change`` to the event and, for a series, to its live stored exceptions; record it."""
    targets = [event]
    if event.original_time == 0 and event.recurrence:
        stored = eventstore.exceptions_of(world, event).values()
        targets += [e for e in stored if not e.deleted and e.status != "cancelled"]
    for target in targets:
        change(target)
        if live(target):
            eventstore.ensure_organizer_attendee(world, target)
        eventstore.save(world, target)


# -- admin mode and the event addressed -------------------------------------------------------


def _admin_mode(call: Call) -> bool:
    admin = call.field("is_enable_admin", bool) is True
    instance = call.field("instance_start_time_admin", str)
    if instance is not None and not admin:
        raise invalid("instance_start_time_admin", instance, "only with is_enable_admin")
    if instance is not None and not (instance.isascii() and instance.isdigit()):
        raise invalid("instance_start_time_admin", instance, "must be an occurrence's Unix start time")
    if admin and (call.user is None or not call.user.is_super_admin):
        raise FeishuFault(194002, "is_enable_admin needs a meeting-room administrator", 403)
    return admin


def _writable_calendar(call: Call, admin: bool) -> Calendar:
    # The room administrator manages bookings from any calendar that shows the event, rooms' included.
    if admin:
        return calendar_for(call, call.path["calendar_id"], "free_busy_reader")
    return calendar_for(call, call.path["calendar_id"], "writer", WRITABLE_TYPES)


def _target_event(call: Call, calendar: Calendar, admin: bool) -> Event:
    event_id = call.path["event_id"]
    instance = call.field("instance_start_time_admin", str) if admin else None
    if instance is not None:
        uid, _ = eventstore.parse_event_id(event_id)
        event_id = f"{uid}_{instance}"
    return eventstore.find_event(call, calendar, event_id)


# -- batch delete -----------------------------------------------------------------------------


def batch_delete(call: Call) -> None:
    admin = _admin_mode(call)
    calendar = _writable_calendar(call, admin)
    event = _target_event(call, calendar, admin)
    if not admin and not eventstore.can_edit(call, event):
        raise FeishuFault(194003, "no permission to remove attendees: only the organizer can", 403)
    attendee_ids = call.field("attendee_ids", list) or []
    delete_ids = call.field("delete_ids", list) or []
    if not 1 <= len(attendee_ids) + len(delete_ids) <= MAX_DELETE:
        raise invalid("attendee_ids", len(attendee_ids) + len(delete_ids), f"1 to {MAX_DELETE} in total")
    call.field("need_notification", bool)  # validated; the sandbox sends no notifications
    doomed = [_by_attendee_id(event, value, f"attendee_ids[{i}]") for i, value in enumerate(attendee_ids)]
    doomed += [_by_delete_id(call, event, value, f"delete_ids[{i}]") for i, value in enumerate(delete_ids)]
    if admin:
        doomed = [a for a in doomed if a.type == "resource"]
    for attendee in doomed:
        if attendee.is_organizer:
            raise invalid("attendee_ids", attendee.attendee_id, "the organizer cannot be removed")
    gone = {a.attendee_id for a in doomed}

    def remove(target: Event) -> None:
        for attendee in target.attendees:
            if attendee.attendee_id in gone:
                attendee.rsvp_status = "removed"

    _apply(call.sb.world, event, remove)


def _by_attendee_id(event: Event, value: Any, where: str) -> Attendee:
    if not isinstance(value, str):
        raise invalid(where, value, "must be an attendee_id string")
    found = next((a for a in live(event) if a.attendee_id == value), None)
    if found is None:
        raise FeishuFault(194000, f"attendee not found: {value}", 404)
    return found


def _by_delete_id(call: Call, event: Event, value: Any, where: str) -> Attendee:
    if not isinstance(value, dict):
        raise invalid(where, value, "must be an object")
    if isinstance(value.get("attendee_id"), str):
        return _by_attendee_id(event, value["attendee_id"], where)
    kind = value.get("type")
    if kind not in ID_FIELDS:
        raise FeishuFault(194004, f"invalid attendee type: {kind}", 400)
    ref = value.get(ID_FIELDS[kind])
    if not isinstance(ref, str) or not ref:
        raise invalid(f"{where}.{ID_FIELDS[kind]}", ref, f"is required when type is {kind}")
    if kind == "user":
        user = call.sb.world.user_by_any_id(ref, call.user_id_type())
        ref = user.open_id if user else ""
    for attendee in live(event):
        named = {
            "user": attendee.open_id,
            "chat": attendee.chat_id,
            "resource": attendee.room_id,
            "third_party": (attendee.third_party_email or "").lower(),
        }
        if attendee.type == kind and named[kind] == (ref.lower() if kind == "third_party" else ref):
            return attendee
    raise FeishuFault(194000, f"attendee not found: {kind} {value.get(ID_FIELDS[kind])}", 404)


# -- reads ------------------------------------------------------------------------------------


def _visible_attendees_of(call: Call) -> Event:
    calendar = calendar_for(call, call.path["calendar_id"], "reader")
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    if not may_see_attendees(call, event):
        raise FeishuFault(194001, "no permission to see the attendee list", 403)
    return event


def _page_size(call: Call) -> int:
    # Feishu raises sizes under 10 to 10 rather than refusing them.
    return max(10, call.query_int("page_size", default=20, low=1, high=100))


def list_attendees(call: Call) -> dict[str, Any]:
    event = _visible_attendees_of(call)
    size = _page_size(call)
    forms = call.query_bool("need_resource_customization", False) and eventstore.can_edit(call, event)
    items = []
    for attendee in live(event):
        body = attendee_json(call, attendee)
        if forms and attendee.type == "resource":
            body["resource_customization"] = attendee.resource_customization
        items.append(body)
    return page(call, items, size, kind="attendees")


def list_chat_members(call: Call) -> dict[str, Any]:
    event = _visible_attendees_of(call)
    size = _page_size(call)
    wanted = call.path["attendee_id"]
    attendee = next((a for a in live(event) if a.attendee_id == wanted), None)
    if attendee is None:
        raise FeishuFault(194000, f"attendee not found: {wanted}", 404)
    chat = call.sb.world.chats.get(attendee.chat_id or "")
    if attendee.type != "chat" or chat is None:
        raise FeishuFault(194004, "invalid attendee type: chat members exist for chat attendees only", 400)
    if call.user is None or call.user.open_id not in chat.member_open_ids:
        raise FeishuFault(194001, "no permission: only members of the chat can list its members", 403)
    organizer_tenant = _organizer_tenant(call, event)
    members = []
    for open_id in chat.member_open_ids:
        user = call.sb.world.users.get(open_id)
        own = event.attendee_for_user(open_id)  # also invited in person: that entry's answer
        members.append(
            {
                "rsvp_status": own.rsvp_status if own else attendee.member_replies.get(open_id, attendee.rsvp_status),
                "is_optional": attendee.is_optional,
                "display_name": user.name if user else "",
                "open_id": open_id,
                "is_organizer": open_id == event.organizer_open_id,
                "is_external": user is not None and organizer_tenant not in (None, user.tenant_key),
            }
        )
    return page(call, members, size, kind="chat_members")
