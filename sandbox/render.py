"""Events, instances and attendees as Feishu's JSON (string timestamps, ids per user_id_type)."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from sandbox import recurrence
from sandbox.eventstore import caller_attendee, can_edit
from sandbox.state import Attendee, Event
from sandbox.wire import Call, to_json

APPLINK = "https://applink.feishu.cn/client/calendar/event/detail?"
RENDERED_KEPT = 8  # texts kept per event (event_text)


def app_link(event: Event) -> str:
    return _app_link(event.organizer_calendar_id, event.uid, event.original_time, recurrence.instant(event.start))


# A pure function of its four arguments, and urlencode's quoting was an eighth of a listing's CPU:
# every listing renders the same events' links again.
@functools.lru_cache(maxsize=8192)
def _app_link(calendar_id: str, uid: str, original_time: int, start: int) -> str:
    query = {"calendarId": calendar_id, "key": uid, "originalTime": str(original_time), "startTime": str(start)}
    return APPLINK + urlencode(query)


def organizer_json(call: Call, event: Event) -> dict[str, str]:
    world = call.sb.world
    user = world.users.get(event.organizer_open_id or "")
    if user is not None:
        return {"user_id": call.user_ref(user), "display_name": user.name}
    calendar = world.calendars.get(event.organizer_calendar_id)
    return {"display_name": calendar.summary if calendar else ""}


# create.md's defaults of the settings a VC meeting has before anyone sets them: get.md returns the
# settings themselves, so an event nobody set them on shows these rather than an empty object.
DEFAULT_MEETING_SETTINGS = {
    "join_meeting_permission": "anyone_can_join",
    "auto_record": False,
    "open_lobby": True,
    "allow_attendees_start": True,
}


def vchat_json(call: Call, event: Event, with_settings: bool) -> dict[str, Any]:
    vchat = {k: v for k, v in event.vchat.items() if k != "meeting_settings"}
    if with_settings and event.vchat.get("vc_type") == "vc" and can_edit(call, event):
        vchat["meeting_settings"] = {**DEFAULT_MEETING_SETTINGS, **event.vchat.get("meeting_settings", {})}
    return vchat


def event_json(
    call: Call,
    event: Event,
    *,
    cancelled: bool = False,
    attendees: int = 0,
    meeting_settings: bool = False,
) -> dict[str, Any]:
    """The event as the caller sees it; ``attendees`` > 0 includes up to that many attendees.

    A private event shows only its time to readers who neither organize nor attend it.
    """
    mine = event.personal.get(call.user.open_id, {}) if call.user else {}
    hidden = event.visibility == "private" and not can_edit(call, event) and not _attends(call, event)
    body: dict[str, Any] = {
        "event_id": event.event_id,
        "organizer_calendar_id": event.organizer_calendar_id,
        "summary": "" if hidden else event.summary,
        "description": "" if hidden else event.description,
        "start_time": recurrence.time_info_json(event.start),
        "end_time": recurrence.time_info_json(event.end),
        "vchat": {} if hidden else vchat_json(call, event, meeting_settings),
        "visibility": mine.get("visibility", event.visibility),
        "attendee_ability": event.attendee_ability,
        "free_busy_status": mine.get("free_busy_status", event.free_busy_status),
        "color": mine.get("color", event.color),
        "reminders": mine.get("reminders", event.reminders),
        "status": "cancelled" if cancelled or event.deleted else event.status,
        "is_exception": event.is_exception,
        "create_time": str(event.create_time),
        "event_organizer": organizer_json(call, event),
        "app_link": app_link(event),
        "schemas": event.schemas,
        "attachments": event.attachments,
    }
    if event.recurrence:
        body["recurrence"] = event.recurrence
    if event.recurring_event_id:
        body["recurring_event_id"] = event.recurring_event_id
    if event.location is not None and not hidden:
        body["location"] = event.location
    if event.event_check_in is not None:
        body["event_check_in"] = event.event_check_in
    if attendees > 0 and not hidden:
        listed = [a for a in event.attendees if a.rsvp_status != "removed"]
        body["attendees"] = [attendee_json(call, a) for a in listed[:attendees]]
        body["has_more_attendee"] = len(listed) > attendees
    return body


def event_text(call: Call, event: Event, *, cancelled: bool = False) -> bytes:
    """``to_json(event_json(call, event, cancelled=cancelled))``, kept on the event while it holds.

    Rendering and dumping were two thirds of a listing's own CPU, for the same text each time.
    The text depends on the event (its change_seq moves on every change: touch), the caller
    (personal settings), ``cancelled`` and how the organizer is named (user_id_type, their name):
    all in the key. A private event's text also depends on the caller's roles and chats, which
    change without the event: it is rendered afresh each time.
    """
    if event.visibility == "private":
        return to_json(event_json(call, event, cancelled=cancelled))
    viewer = call.user.open_id if call.user is not None else None
    key = (event.event_id, event.change_seq, viewer, cancelled, *organizer_json(call, event).values())
    text = event.rendered.get(key)
    if text is None:
        if len(event.rendered) >= RENDERED_KEPT:
            event.rendered.clear()  # older versions and other viewers: bounded, not a leak
        text = event.rendered[key] = to_json(event_json(call, event, cancelled=cancelled))
    return text


def _attends(call: Call, event: Event) -> bool:
    return caller_attendee(call, event) is not None


# What instances returns per occurrence; instance_view adds VIEW_FIELDS (feishu-api.md §2.4).
INSTANCE_FIELDS = (
    "event_id",
    "summary",
    "description",
    "start_time",
    "end_time",
    "status",
    "is_exception",
    "app_link",
    "location",
)
VIEW_FIELDS = (
    "organizer_calendar_id",
    "vchat",
    "visibility",
    "attendee_ability",
    "free_busy_status",
    "color",
    "recurring_event_id",
    "event_organizer",
)


def instance_json(call: Call, event: Event, *, full: bool) -> dict[str, Any]:
    """An occurrence for instances (``full=False``) or instance_view (``full=True``, rooms attached)."""
    whole = event_json(call, event)
    fields = INSTANCE_FIELDS + VIEW_FIELDS if full else INSTANCE_FIELDS
    body = {name: whole[name] for name in fields if name in whole}
    if full:
        body["attendees"] = [attendee_json(call, a) for a in event.attendees if a.type == "resource"]
    return body


def attendee_json(call: Call, attendee: Attendee) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": attendee.type,
        "attendee_id": attendee.attendee_id,
        "rsvp_status": attendee.rsvp_status,
        "is_optional": attendee.is_optional,
        "is_organizer": attendee.is_organizer,
        "is_external": attendee.is_external,
        "display_name": attendee.display_name,
    }
    world = call.sb.world
    if attendee.type == "user" and attendee.open_id:
        user = world.users.get(attendee.open_id)
        # External attendees are only ever named by open_id or union_id.
        external_ok = call.user_id_type() != "user_id" or not attendee.is_external
        if user is not None:
            body["user_id"] = call.user_ref(user) if external_ok else user.open_id
    elif attendee.type == "chat":
        body["chat_id"] = attendee.chat_id
    elif attendee.type == "resource":
        body["room_id"] = attendee.room_id
        if attendee.approval_reason:  # create.md's response lists it with the room
            body["approval_reason"] = attendee.approval_reason
    elif attendee.type == "third_party":
        body["third_party_email"] = attendee.third_party_email
    if attendee.operate_id:
        body["operate_id"] = attendee.operate_id
    return body
