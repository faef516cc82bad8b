"""Where events live and who sees them; finding an event by id with Feishu's codes.

An event shows on its organizer's calendar, on the primary calendar of every user attendee (and
of every member of a chat attendee) and, once booked, on each room's resource calendar.
Whoever changes an event (fields, attendees, deletion) calls :func:`touch` so sync tokens
report it to every calendar that has shown it.
"""

from __future__ import annotations

import copy
import hashlib
import re

from sandbox import recurrence
from sandbox.calendars import caller_role
from sandbox.state import Attendee, Calendar, Event, RsvpStatus, Showing, World, role_at_least
from sandbox.wire import Call, FeishuFault

# ASCII only: with Unicode classes "\d" would take "١٢" and int() would read it as 12.
EVENT_ID = re.compile(r"(?P<uid>[\w\-]+)_(?P<original_time>[0-9]+)", re.ASCII)


def calendars_of(world: World, event: Event) -> set[str]:
    """The calendars that currently show ``event``."""
    shown = {event.organizer_calendar_id}
    for attendee in event.attendees:
        if attendee.rsvp_status == "removed":
            continue
        if attendee.type == "user" and attendee.open_id:
            shown |= _primary_ids(world, [attendee.open_id])
        elif attendee.type == "chat" and attendee.chat_id in world.chats:
            shown |= _primary_ids(world, world.chats[attendee.chat_id].member_open_ids)
        elif attendee.type == "resource" and attendee.room_id in world.rooms and attendee.rsvp_status != "decline":
            shown.add(world.rooms[attendee.room_id].calendar_id)
    return shown


def _primary_ids(world: World, open_ids: list[str]) -> set[str]:
    return {c.calendar_id for c in (world.primary_calendar(o) for o in open_ids) if c is not None}


def touch(world: World, event: Event) -> None:
    """Record a change to ``event`` (sync tokens pick it up) and where it is now shown."""
    event.change_seq = world.next_seq()
    shown = frozenset(calendars_of(world, event))
    event.seen_on |= shown
    if world.events.get(event.event_id) is event:  # an unsaved occurrence is not listed: not indexed
        _index_one(world.showing, event.event_id, shown)


def remove(world: World, event_id: str) -> None:
    """Take a stored event out of the world altogether (not a deletion: nothing will list it)."""
    del world.events[event_id]
    _index_one(world.showing, event_id, frozenset())
    del world.showing.by_event[event_id]


def _index_one(showing: Showing, event_id: str, shown: frozenset[str]) -> None:
    before = showing.by_event.get(event_id, frozenset())
    for calendar_id in before - shown:
        showing.by_calendar[calendar_id].discard(event_id)
    for calendar_id in shown - before:
        showing.by_calendar.setdefault(calendar_id, set()).add(event_id)
    showing.by_event[event_id] = shown


def showing(world: World) -> Showing:
    """The index of who shows what, rebuilt first if the world changed other than through :func:`touch`.

    Every change to an event is followed by :func:`touch` (sync tokens depend on it), which keeps
    the index. What touch cannot see: events stored without :func:`save`, and new calendars, chats
    or rooms, which can change what an unchanged event's attendees show it on. Counting them
    catches both for the price of four ``len`` calls.
    """
    index = world.showing
    built_for = (len(world.calendars), len(world.chats), len(world.rooms))
    if index.built_for != built_for or len(index.by_event) != len(world.events):
        index.by_event.clear()
        index.by_calendar.clear()
        for event_id, event in world.events.items():
            _index_one(index, event_id, frozenset(calendars_of(world, event)))
        index.built_for = built_for
    return index


def shown_on(world: World, event: Event) -> frozenset[str]:
    """:func:`calendars_of`, read from the index for a stored event."""
    if world.events.get(event.event_id) is event:
        shown = showing(world).by_event.get(event.event_id)
        if shown is not None:
            return shown
    return frozenset(calendars_of(world, event))


def events_on(world: World, calendar: Calendar) -> list[Event]:
    """Live events (singles, masters, exceptions) shown on ``calendar``, by start time."""
    stored = (world.events.get(event_id) for event_id in showing(world).by_calendar.get(calendar.calendar_id, ()))
    found = [e for e in stored if e is not None and not e.deleted]
    return sorted(found, key=lambda e: (recurrence.instant(e.start), e.event_id))


def parse_event_id(event_id: str) -> tuple[str, int]:
    match = EVENT_ID.fullmatch(event_id)  # not match(): "$" would let a trailing newline through
    # An original time past Feishu's last timestamp names no occurrence (and overflows the expansion).
    if match is None or int(match["original_time"]) > recurrence.MAX_TIMESTAMP:
        raise FeishuFault(193000, "invalid event_id", 400)
    return match["uid"], int(match["original_time"])


def find_event(call: Call, calendar: Calendar, event_id: str) -> Event:
    """The event (or one occurrence of a series) on ``calendar``; 193001 / 193003 otherwise.

    An occurrence nobody changed yet comes back as an unsaved exception (see :func:`occurrence`);
    :func:`save` stores it once it is modified.
    """
    uid, original_time = parse_event_id(event_id)
    world = call.sb.world
    event = world.events.get(event_id)
    if event is None and original_time != 0:
        master = world.events.get(f"{uid}_0")
        if master is not None and master.recurrence and recurrence.is_occurrence(master, original_time):
            event = occurrence(master, original_time)
    shown = shown_on(world, event) if event is not None else frozenset()
    if event is None or (calendar.calendar_id not in shown and calendar.calendar_id not in event.seen_on):
        raise FeishuFault(193001, "event not found", 404)
    master = world.events.get(f"{uid}_0") if original_time else None
    if event.deleted or (master is not None and master.deleted) or event.status == "cancelled":
        raise FeishuFault(193003, "event has been deleted", 403)
    if calendar.calendar_id not in shown:
        raise FeishuFault(193001, "event not found", 404)
    return event


def occurrence(master: Event, original_time: int) -> Event:
    """One occurrence, copied from the series; :func:`save` turns it into a stored exception."""
    start, end = recurrence.span(master)
    instance = copy.deepcopy(master)
    instance.original_time = original_time
    instance.is_exception = False
    instance.recurring_event_id = master.event_id
    instance.recurrence = ""
    if master.start.date is not None:
        instance.start.date = recurrence.date_of(original_time)
        instance.end.date = recurrence.date_of(original_time + end - start - recurrence.DAY)
    else:
        instance.start.timestamp = original_time
        instance.end.timestamp = original_time + end - start
    instance.seen_on = set(master.seen_on)
    return instance


def save(world: World, event: Event) -> None:
    """Store ``event``; a changed occurrence becomes an exception of its series."""
    if event.original_time != 0:
        event.is_exception = True
    world.events[event.event_id] = event
    touch(world, event)


def exceptions_of(world: World, master: Event) -> dict[int, Event]:
    """The stored exceptions of a series (changed or cancelled occurrences), by original time."""
    prefix = master.uid + "_"
    return {
        e.original_time: e
        for e in world.events.values()
        if e.is_exception and e.event_id.startswith(prefix) and e.recurring_event_id == master.event_id
    }


def drop_stray_exceptions(world: World, master: Event) -> None:
    """After a series' times or rule change, its exceptions that are no longer occurrences go.

    Kept, such an exception would show beside the occurrence that now falls on its day (the same
    meeting twice). Feishu's docs do not say what becomes of them; the sandbox deletes them, so
    listings and syncs report them cancelled.
    """
    for exception in exceptions_of(world, master).values():
        if exception.deleted:
            continue
        if not master.recurrence or not recurrence.is_occurrence(master, exception.original_time):
            exception.deleted = True
            touch(world, exception)


def can_edit(call: Call, event: Event) -> bool:
    """Organizer rights: writer on the organizer's calendar (a shared calendar's writers too)."""
    organizer_calendar = call.sb.world.calendars.get(event.organizer_calendar_id)
    if organizer_calendar is None:
        return False
    return role_at_least(caller_role(call, organizer_calendar), "writer")


def caller_attendee(call: Call, event: Event) -> Attendee | None:
    """The caller's invitation: their own user entry, or the chat entry of a group they are in."""
    return invitation(call.sb.world, event, call.user.open_id) if call.user is not None else None


def invitation(world: World, event: Event, open_id: str) -> Attendee | None:
    """How ``open_id`` is invited: directly, else through a chat attendee (its members attend too:
    they see the event, reply to it and keep their own reminders, as direct attendees do)."""
    direct = event.attendee_for_user(open_id)
    if direct is not None:
        return direct
    for attendee in event.attendees:
        chat = world.chats.get(attendee.chat_id or "") if attendee.type == "chat" else None
        if chat is not None and attendee.rsvp_status != "removed" and open_id in chat.member_open_ids:
            return attendee
    return None


def ensure_organizer_attendee(world: World, event: Event) -> None:
    """Feishu lists the organizer among the attendees once there are any."""
    if event.organizer_open_id is None or event.attendee_for_user(event.organizer_open_id) is not None:
        return
    organizer = user_attendee(world, event.organizer_open_id, None, "accept")
    organizer.is_organizer = True
    event.attendees.insert(0, organizer)


def user_attendee(
    world: World, open_id: str, organizer_tenant: str | None, rsvp: RsvpStatus = "needs_action"
) -> Attendee:
    """A user attendee; ids are derived from what they name, so adding one twice is one attendee."""
    user = world.users.get(open_id)
    return Attendee(
        attendee_id=f"user_{open_id[3:]}",
        type="user",
        open_id=open_id,
        rsvp_status=rsvp,
        display_name=user.name if user else "",
        is_external=user is not None and organizer_tenant is not None and user.tenant_key != organizer_tenant,
    )


def room_attendee(world: World, room_id: str, rsvp: RsvpStatus = "accept") -> Attendee:
    room = world.rooms.get(room_id)
    return Attendee(
        attendee_id=f"resource_{room_id.removeprefix('omm_')}",
        type="resource",
        room_id=room_id,
        rsvp_status=rsvp,
        display_name=room.name if room else "",
    )


def chat_attendee(world: World, chat_id: str) -> Attendee:
    chat = world.chats.get(chat_id)
    return Attendee(
        attendee_id=f"chat_{chat_id.removeprefix('oc_')}",
        type="chat",
        chat_id=chat_id,
        display_name=chat.name if chat else "",
    )


def third_party_attendee(email: str) -> Attendee:
    digest = hashlib.sha1(email.lower().encode(), usedforsecurity=False).hexdigest()[:20]
    return Attendee(
        attendee_id=f"third_party_{digest}",
        type="third_party",
        third_party_email=email,
        display_name=email,
        is_external=True,
    )
