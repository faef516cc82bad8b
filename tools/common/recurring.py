"""Editing a recurring event with a scope: this occurrence, this and following, or the whole series.

Feishu addresses one occurrence as ``<uid>_<original start>`` and the series as ``<uid>_0``.
``this`` is Feishu's own single-occurrence edit. ``all`` edits the series; a new start/end given
for one occurrence moves every occurrence by the same amount. ``this_and_following`` ends the
series before the occurrence (an UNTIL) and starts a new series from it with the same fields,
attendees and rooms (what Feishu's apps do; the API has no such operation). The result says what
happened to each part.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from tools.common.composite import Endpoint, JsonObject, Refusal, Request, Upstream
from tools.spec import Replay

Scope = Literal["this", "this_and_following", "all"]
EVENTS = "/open-apis/calendar/v4/calendars/{calendar_id}/events"
READ = ("calendar:calendar.event:read", "calendar:calendar", "calendar:calendar:readonly")
WRITE = ("calendar:calendar.event:update", "calendar:calendar")
GET_EVENT = Endpoint("read_event", "GET", EVENTS + "/{event_id}", READ)
PATCH_EVENT = Endpoint("change_series", "PATCH", EVENTS + "/{event_id}", WRITE)
CREATE_EVENT = Endpoint("start_new_series", "POST", EVENTS, ("calendar:calendar.event:create", "calendar:calendar"))
ADD_ATTENDEES = Endpoint("invite_to_new_series", "POST", EVENTS + "/{event_id}/attendees", WRITE)
DELETE_EVENT = Endpoint("delete_series", "DELETE", EVENTS + "/{event_id}", ("calendar:calendar.event:delete",))
# Fields a new series copies from the old one (the rest is Feishu's per-event state).
COPIED = ("summary", "description", "location", "vchat", "visibility", "attendee_ability", "free_busy_status", "color")
_OCCURRENCE = re.compile(r"^(?P<uid>.+)_(?P<time>\d+)$")


class ScopeError(Refusal):
    """A scope the event id cannot have (e.g. this_and_following on a series id)."""


def split(event_id: str) -> tuple[str, int]:
    """(uid, original start) of an event id; 0 for a single event or a series."""
    match = _OCCURRENCE.match(event_id)
    return (match["uid"], int(match["time"])) if match else (event_id, 0)


def _get(calendar_id: str, event_id: str, *, attendees: bool = False) -> Request:
    query = [("need_attendee", "true"), ("max_attendee_num", "100")] if attendees else []
    return Request(GET_EVENT, query=query, path={"calendar_id": calendar_id, "event_id": event_id})


def _start(event: JsonObject) -> int:
    return int((event.get("start_time") or {}).get("timestamp") or 0)


def rule_until(rule: str, before: int) -> str:
    """``rule`` ending just before ``before`` (Unix seconds): COUNT/UNTIL replaced by that UNTIL."""
    kept = [
        p for p in rule.removeprefix("RRULE:").split(";") if p and p.split("=")[0].upper() not in ("COUNT", "UNTIL")
    ]
    until = datetime.fromtimestamp(before - 1, UTC).strftime("%Y%m%dT%H%M%SZ")
    return ";".join([*kept, f"UNTIL={until}"])


def rule_from(rule: str, master_start: int, tz: str, split_at: int) -> str:
    """The rule of the series that continues from ``split_at``: a COUNT keeps only what remains."""
    parts = [p for p in rule.removeprefix("RRULE:").split(";") if p]
    count = next((p for p in parts if p.upper().startswith("COUNT=")), None)
    if count is None:
        return ";".join(parts)
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr  # only series with a COUNT need it

    start = datetime.fromtimestamp(master_start, ZoneInfo(tz))
    before = rrulestr("RRULE:" + ";".join(parts), dtstart=start).between(
        start, datetime.fromtimestamp(split_at - 1, ZoneInfo(tz)), inc=True
    )
    remaining = max(1, int(count.split("=")[1]) - len(before))
    return ";".join(p if p is not count else f"COUNT={remaining}" for p in parts)


def _shifted(info: JsonObject, seconds: int) -> JsonObject:
    return {**info, "timestamp": str(int(info["timestamp"]) + seconds)} if info.get("timestamp") else info


async def edit_series(
    up: Upstream, scope: Scope, calendar_id: str, event_id: str, body: JsonObject
) -> JsonObject | None:
    """The scoped edit of ``event_id`` with the PATCH ``body``; None for ``this`` (Feishu's own edit)."""
    uid, original = split(event_id)
    if scope == "this":
        return None
    if scope == "all":
        if original and "start_time" in body:
            occurrence = (await up.send(_get(calendar_id, event_id)))["event"]
            series = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
            moved = int(body["start_time"]["timestamp"]) - _start(occurrence)
            body = {
                **body,
                "start_time": _shifted(series["start_time"], moved),
                "end_time": _shifted(series["end_time"], moved),
            }
        path = {"calendar_id": calendar_id, "event_id": f"{uid}_0"}
        changed = await up.write(Request(PATCH_EVENT, body=body, path=path), Replay.SAFE)
        return {"event": changed.get("event"), "notes": [f"changed every occurrence of the series {uid}_0"]}
    if not original:
        raise ScopeError(
            "scope this_and_following needs one occurrence's event_id (uid_<start>), e.g. from view_instances"
        )
    series = (await up.send(_get(calendar_id, f"{uid}_0", attendees=True)))["event"]
    occurrence = (await up.send(_get(calendar_id, event_id)))["event"]
    rule = str(series.get("recurrence") or "")
    path = {"calendar_id": calendar_id, "event_id": f"{uid}_0"}
    await up.write(Request(PATCH_EVENT, body={"recurrence": rule_until(rule, original)}, path=path), Replay.SAFE)
    tz = str((series.get("start_time") or {}).get("timezone") or "UTC")
    new: JsonObject = {k: series[k] for k in COPIED if series.get(k) not in (None, "", {})}
    new |= {"start_time": occurrence["start_time"], "end_time": occurrence["end_time"]}
    new |= {"recurrence": rule_from(rule, _start(series), tz, original)} | body
    key = uuid.uuid4().hex
    created = await up.write(
        Request(CREATE_EVENT, query=[("idempotency_key", key)], body=new, path={"calendar_id": calendar_id}),
        Replay.KEYED,
    )
    event = created.get("event") or {}
    guests = [_invite(a) for a in series.get("attendees") or [] if not a.get("is_organizer") and _invite(a)]
    notes = [f"ended the series {uid}_0 before this occurrence"]
    if guests and event.get("event_id"):
        target = {"calendar_id": calendar_id, "event_id": str(event["event_id"])}
        await up.write(Request(ADD_ATTENDEES, body={"attendees": guests}, path=target), Replay.SAFE)
        notes.append(f"invited the {len(guests)} attendees and rooms of the old series to the new one")
    notes.append(f"started the new series {event.get('event_id')} from this occurrence")
    return {"event": event, "notes": notes}


def _invite(attendee: JsonObject) -> dict[str, Any] | None:
    kind = attendee.get("type")
    field = {"user": "user_id", "chat": "chat_id", "resource": "room_id", "third_party": "third_party_email"}.get(
        str(kind)
    )
    if field is None or not attendee.get(field) or attendee.get("rsvp_status") == "removed":
        return None
    return {"type": kind, field: attendee[field]}


async def delete_series(up: Upstream, scope: Scope, calendar_id: str, event_id: str) -> JsonObject | None:
    """The scoped delete of ``event_id``; None for ``this`` (Feishu's own delete)."""
    uid, original = split(event_id)
    path = {"calendar_id": calendar_id, "event_id": f"{uid}_0"}
    if scope == "this":
        return None
    if scope == "all":
        await up.write(Request(DELETE_EVENT, path=path), Replay.DELETE)
        return {"notes": [f"deleted the whole series {uid}_0"]}
    if not original:
        raise ScopeError(
            "scope this_and_following needs one occurrence's event_id (uid_<start>), e.g. from view_instances"
        )
    series = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
    rule = rule_until(str(series.get("recurrence") or ""), original)
    await up.write(Request(PATCH_EVENT, body={"recurrence": rule}, path=path), Replay.SAFE)
    return {"notes": [f"ended the series {uid}_0 before this occurrence: it and the later ones are gone"]}
