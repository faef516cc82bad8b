"""Validating and applying an event body (create and patch share it), with Feishu's limits.

Organizer-only fields and the per-identity ones (color, reminders, and an attendee's own
visibility and free_busy_status) follow feishu-api.md §2.2 and §3 op 3.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sandbox import recurrence
from sandbox.state import Event
from sandbox.wire import Call, FeishuFault, invalid

VISIBILITY = ("default", "public", "private")
ABILITY = ("none", "can_see_others", "can_invite_others", "can_modify_event")
FREE_BUSY = ("busy", "free")
VC_TYPES = ("vc", "third_party", "no_meeting")
UI_NAMES = ("ForwardIcon", "MeetingChatIcon", "MeetingMinutesIcon", "MeetingVideo", "RSVP", "Attendee")
UI_NAMES_ALL = (*UI_NAMES, "OrganizerOrCreator")
CHECK_IN_TYPES = ("before_event_start", "after_event_start", "after_event_end")
PERSONAL_FIELDS = ("visibility", "free_busy_status", "color", "reminders")
PASSWORD = re.compile(r"[0-9]{4,9}", re.ASCII)  # "\d" takes any Unicode digit
JOIN_PERMISSIONS = ("anyone_can_join", "only_organization_employees", "only_event_attendees")


def apply_body(call: Call, event: Event, body: dict[str, Any], *, full: bool, organizer: bool) -> None:
    """Validate ``body`` and write it into ``event``.

    ``full``: the caller may edit every field (the organizer, or an attendee with
    ``can_modify_event``); otherwise only their own personal fields. ``organizer``: the caller
    is the organizer proper (meeting password and hosts are theirs alone).
    """
    given = {k: v for k, v in body.items() if v is not None and k != "need_notification"}
    if not full:
        forbidden = sorted(set(given) - set(PERSONAL_FIELDS))
        if forbidden:
            raise FeishuFault(193002, f"no permission: attendees may change only {', '.join(PERSONAL_FIELDS)}", 403)
    _text(given, "summary", 1000)
    _text(given, "description", 40960)
    _enum(given, "visibility", VISIBILITY)
    _enum(given, "attendee_ability", ABILITY)
    _enum(given, "free_busy_status", FREE_BUSY)
    color = given.get("color")
    if "color" in given and (not isinstance(color, int) or isinstance(color, bool) or not -(2**31) <= color < 2**31):
        raise invalid("color", given["color"], "must be an int32")
    reminders = _reminders(given["reminders"]) if "reminders" in given else None
    # patch.md: each of start_time and end_time "takes effect only when the other has a value too": one
    # alone changes nothing (create requires both before it gets here).
    if "start_time" in given and "end_time" in given:
        _set_times(event, given["start_time"], given["end_time"])
    if given.get("recurrence") == "":
        del given["recurrence"]  # patch.md: its default, empty, "means the field is not updated"
    if "recurrence" in given:
        if not isinstance(given["recurrence"], str):
            raise invalid("recurrence", given["recurrence"], "must be a string")
        if given["recurrence"]:
            recurrence.check_recurrence(given["recurrence"])
        if event.original_time != 0 and given["recurrence"]:
            raise invalid("recurrence", given["recurrence"], "an occurrence cannot have its own recurrence")
        event.recurrence = given["recurrence"].removeprefix("RRULE:")
    if ("recurrence" in given or "start_time" in given) and recurrence.books_rooms_too_long(event):
        raise invalid("recurrence", event.recurrence, "a recurring event that books a meeting room may span 2 years")
    if "location" in given:
        event.location = _location(given["location"])
    if "vchat" in given:
        event.vchat = _vchat(given["vchat"], event, organizer)
    if "schemas" in given:
        event.schemas = _schemas(given["schemas"])
    if "attachments" in given:
        event.attachments = _attachments(given["attachments"], event.attachments)
    if "event_check_in" in given:
        event.event_check_in = _check_in(given["event_check_in"])
    for name in ("summary", "description", "attendee_ability"):
        if name in given:
            setattr(event, name, given[name])
    personal = event.personal.setdefault(call.user.open_id, {}) if call.user else {}
    # Colour and reminders are always the caller's own; visibility and free/busy too for attendees.
    if "color" in given:
        personal["color"] = given["color"]
    if reminders is not None:
        personal["reminders"] = reminders
    for name in ("visibility", "free_busy_status"):
        if name in given:
            if full:
                setattr(event, name, given[name])
            else:
                personal[name] = given[name]


def _set_times(event: Event, raw_start: Any, raw_end: Any) -> None:
    start = recurrence.parse_time_info("start_time", raw_start)
    end = recurrence.parse_time_info("end_time", raw_end)
    if (start.date is None) != (end.date is None):
        raise invalid("end_time", raw_end, "start_time and end_time must both be dates or both timestamps")
    if recurrence.instant(end, is_end=True) <= recurrence.instant(start):
        raise invalid("end_time", raw_end, "end_time must be after start_time")
    event.start, event.end = start, end


def _text(given: dict[str, Any], name: str, limit: int) -> None:
    if name in given and (not isinstance(given[name], str) or len(given[name]) > limit):
        raise invalid(name, str(given[name])[:50], f"must be a string of at most {limit} characters")


def _enum(given: dict[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    if name in given and given[name] not in allowed:
        raise invalid(name, given[name], f"must be one of {', '.join(allowed)}")


def _reminders(raw: Any) -> list[dict[str, int]]:
    if not isinstance(raw, list):
        raise invalid("reminders", raw, "must be a list")
    result = []
    for item in raw:
        minutes = item.get("minutes") if isinstance(item, dict) else None
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not -20160 <= minutes <= 20160:
            raise invalid("reminders.minutes", minutes, "must be an integer from -20160 to 20160")
        result.append({"minutes": minutes})
    return result


def _location(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise invalid("location", raw, "must be an object")
    for name, limit in (("name", 512), ("address", 255)):
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= limit):
            raise invalid(f"location.{name}", value, f"must be 1-{limit} characters")
    for name in ("latitude", "longitude"):
        if raw.get(name) is not None and not isinstance(raw[name], int | float):
            raise invalid(f"location.{name}", raw[name], "must be a number")
    return {k: v for k, v in raw.items() if k in ("name", "address", "latitude", "longitude") and v is not None}


def _vchat(raw: Any, event: Event, organizer: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise invalid("vchat", raw, "must be an object")
    vc_type = raw.get("vc_type")
    if vc_type is not None and vc_type not in VC_TYPES:
        raise invalid("vchat.vc_type", vc_type, f"must be one of {', '.join(VC_TYPES)}")
    vchat: dict[str, Any] = {k: v for k, v in raw.items() if k != "meeting_settings" and v is not None}
    if vc_type == "third_party":
        url = raw.get("meeting_url")
        if not isinstance(url, str) or not 1 <= len(url) <= 2000:
            raise invalid("vchat.meeting_url", url, "a third_party meeting needs a meeting_url (1-2000 chars)")
        if len(str(raw.get("description") or "")) > 500:
            raise invalid("vchat.description", raw.get("description"), "at most 500 characters")
    if vc_type == "vc":
        vchat["meeting_url"] = (
            event.vchat.get("meeting_url") or f"https://vc.feishu.cn/j/{secrets.randbelow(10**9):09d}"
        )
        settings = dict(event.vchat.get("meeting_settings") or {})
        settings.update(_meeting_settings(raw.get("meeting_settings"), organizer))
        vchat["meeting_settings"] = settings
    return vchat


def _meeting_settings(raw: Any, organizer: bool) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("vchat.meeting_settings", raw, "must be an object")
    if "password" in raw:
        if not organizer:
            raise FeishuFault(195113, "only the organizer can set a meeting password", 400)
        if not isinstance(raw["password"], str) or not PASSWORD.fullmatch(raw["password"]):
            raise FeishuFault(195112, "invalid meeting password: 4 to 9 digits", 400)
    if "assign_hosts" in raw:
        if not organizer:
            raise FeishuFault(193102, "only the organizer can assign hosts", 400)
        hosts = raw["assign_hosts"]
        if not isinstance(hosts, list) or len(hosts) > 10:
            raise invalid("vchat.meeting_settings.assign_hosts", hosts, "at most 10 host ids")
    permission = raw.get("join_meeting_permission")
    if permission is not None and permission not in JOIN_PERMISSIONS:
        raise invalid("vchat.meeting_settings.join_meeting_permission", permission, "unknown value")
    return {k: v for k, v in raw.items() if v is not None}


def _schemas(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise invalid("schemas", raw, "must be a list")
    result = []
    for item in raw:
        if not isinstance(item, dict) or item.get("ui_name") not in UI_NAMES_ALL:
            raise invalid("schemas.ui_name", item, f"must be one of {', '.join(UI_NAMES_ALL)}")
        status = item.get("ui_status", "hide")
        if status not in ("hide", "readonly", "editable", "unknown"):
            raise invalid("schemas.ui_status", status, "must be hide, readonly, editable or unknown")
        result.append({"ui_name": item["ui_name"], "ui_status": status})
    return result


def _attachments(raw: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise invalid("attachments", raw, "must be a list")
    kept = {a["file_token"]: a for a in current}
    for item in raw:
        token = item.get("file_token") if isinstance(item, dict) else None
        if not isinstance(token, str) or not token:
            raise FeishuFault(193105, "invalid attachment file_token", 400)
        if item.get("is_deleted"):
            kept.pop(token, None)
        else:
            # No drive here: any token is a file we pretend was uploaded for this calendar.
            kept[token] = {"file_token": token, "file_size": "0", "name": token, "is_deleted": False}
    return list(kept.values())


def _check_in(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("enable_check_in"), bool):
        raise invalid("event_check_in.enable_check_in", raw, "is required (bool)")
    positions = {}
    for name in ("check_in_start_time", "check_in_end_time"):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise invalid(f"event_check_in.{name}", value, "must be an object with time_type and duration")
        time_type, duration = value.get("time_type"), value.get("duration")
        if time_type not in CHECK_IN_TYPES:
            raise invalid(f"event_check_in.{name}.time_type", time_type, "unknown time_type")
        if duration not in (0, 5, 15, 30, 60) or (time_type == "before_event_start" and duration == 0):
            raise invalid(f"event_check_in.{name}.duration", duration, "must be 0, 5, 15, 30 or 60")
        base = {"before_event_start": 0, "after_event_start": 0, "after_event_end": 10**6}[time_type]
        positions[name] = base - duration if time_type == "before_event_start" else base + duration
    start, end = positions.get("check_in_start_time"), positions.get("check_in_end_time")
    if start is not None and end is not None and start >= end:
        raise invalid("event_check_in.check_in_end_time", raw, "the check-in start must be before its end")
    return dict(raw)
