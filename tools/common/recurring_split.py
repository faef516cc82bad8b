"""The changed and cancelled occurrences of a series split by ``this_and_following``.

Feishu has no split operation: tools/common/recurring.py ends the old series with an UNTIL and
creates a new one. The old series' exceptions on or after the split point would be lost (the old
series no longer has those occurrences) or, where Feishu keeps them, left behind as strays; here
they are read first (list events with ``anchor_time``, which returns every exception whose
original time or end is at or after the anchor, cancelled ones as ``status: cancelled``), removed
from the old series, and re-applied to the new one through the 23 operations: a cancelled
occurrence is deleted again (a cancelled exception of the new series), a changed one is patched
(its own fields and times) and gets its own attendees and rooms. The k-th occurrence from the
split point of the old series is the k-th of the new one, expanded like Feishu in the event's
own zone (a weekly 10:00 stays 10:00 across DST; all-day series in UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tools.common.composite import Endpoint, JsonObject, Request, Upstream
from tools.spec import Replay

EVENTS = "/open-apis/calendar/v4/calendars/{calendar_id}/events"
READ = ("calendar:calendar.event:read", "calendar:calendar", "calendar:calendar:readonly")
WRITE = ("calendar:calendar.event:update", "calendar:calendar")
LIST_EVENTS = Endpoint("find_changed_occurrences", "GET", EVENTS, READ)
LIST_ATTENDEES = Endpoint("read_attendees", "GET", EVENTS + "/{event_id}/attendees", READ)
PATCH_OCCURRENCE = Endpoint("carry_changed_occurrence", "PATCH", EVENTS + "/{event_id}", WRITE)
DELETE_OCCURRENCE = Endpoint(
    "cancel_occurrence", "DELETE", EVENTS + "/{event_id}", ("calendar:calendar.event:delete", "calendar:calendar")
)
ADD_TO_OCCURRENCE = Endpoint("invite_to_occurrence", "POST", EVENTS + "/{event_id}/attendees", WRITE)
REMOVE_FROM_OCCURRENCE = Endpoint(
    "remove_from_occurrence", "POST", EVENTS + "/{event_id}/attendees/batch_delete", WRITE
)
ID_FIELD = {"user": "user_id", "chat": "chat_id", "resource": "room_id", "third_party": "third_party_email"}
# Fields an occurrence may change for itself (the rest is the series' or per-viewer state).
# The video link is left out: Feishu makes one per event, and the new series has its own.
OWN_FIELDS = ("summary", "description", "location", "visibility", "attendee_ability", "free_busy_status")
PAGE = "1000"  # list events' largest page


def split_id(event_id: str) -> tuple[str, int]:
    uid, _, tail = event_id.rpartition("_")
    return (uid, int(tail)) if uid and tail.isascii() and tail.isdigit() else (event_id, 0)


def start_of(info: JsonObject) -> int:
    """Unix seconds of a time_info; an all-day date is its midnight UTC."""
    if info.get("date"):
        day = date.fromisoformat(str(info["date"]))
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    return int(info.get("timestamp") or 0)


def span_of(event: JsonObject) -> tuple[int, int]:
    """Start and end; an all-day end date is inclusive (the midnight after it)."""
    end = event.get("end_time") or {}
    extra = 86400 if end.get("date") else 0
    return start_of(event.get("start_time") or {}), start_of(end) + extra


def zone_of(event: JsonObject) -> ZoneInfo:
    info = event.get("start_time") or {}
    return ZoneInfo("UTC" if info.get("date") else str(info.get("timezone") or "UTC"))


def occurrences(rule: str, first: int, zone: ZoneInfo) -> Iterator[int]:
    """Start times of the series ``rule`` whose first occurrence starts at ``first``."""
    from dateutil.rrule import rrulestr  # only a split needs it

    parts = []
    for part in rule.removeprefix("RRULE:").split(";"):
        key, sep, value = part.partition("=")
        if key.upper() == "UNTIL" and not value.endswith("Z"):  # dateutil wants UTC with a zoned start
            value = value + "T235959Z" if len(value) == 8 else value + "Z"
        parts.append(f"{key}={value}" if sep else key)
    for moment in rrulestr("RRULE:" + ";".join(parts), dtstart=datetime.fromtimestamp(first, zone)):
        yield int(moment.timestamp())


def repeats(rule: str | None, start: datetime, length: timedelta, before: datetime, zone: ZoneInfo) -> list[datetime]:
    """A meeting's occurrences from ``start`` (its first, in ``zone``'s wall clock) that end by
    ``before``: only ``start`` without a rule; none when ``start`` is not itself an occurrence of
    the rule (a Tuesday for a rule of Thursdays)."""
    if not rule:
        return [start]
    found: list[datetime] = []
    for moment in occurrences(rule, int(start.timestamp()), zone):
        if moment + length.total_seconds() > before.timestamp():
            break
        found.append(datetime.fromtimestamp(moment, zone))
    return found if found[:1] == [start] else []


def matches(old: JsonObject, split_at: int, originals: list[int], new: JsonObject, new_rule: str) -> dict[int, int]:
    """Original times of the old series (at or after ``split_at``) -> the new series' matching ones:
    the k-th occurrence from the split point is the new series' k-th. Strays are left out."""
    if not originals:
        return {}
    wanted, last = set(originals), max(originals)
    new_times = occurrences(new_rule, span_of(new)[0], zone_of(new))
    found: dict[int, int] = {}
    for moment in occurrences(str(old.get("recurrence") or ""), span_of(old)[0], zone_of(old)):
        if moment > last:
            break
        if moment < split_at:
            continue
        counterpart = next(new_times, None)
        if counterpart is None:
            break
        if moment in wanted:
            found[moment] = counterpart
    return found


@dataclass
class Changed:
    """One exception of the old series on or after the split point."""

    event: JsonObject  # as list events returned it
    original: int
    attendees: list[JsonObject] = field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        return self.event.get("status") == "cancelled"


async def attendees_of(up: Upstream, calendar_id: str, event_id: str) -> list[JsonObject]:
    """Every attendee of an event or occurrence (op 16, paged), the removed ones left out."""
    found: list[JsonObject] = []
    query = [("page_size", "100")]
    path = {"calendar_id": calendar_id, "event_id": event_id}
    for _ in range(30):  # 3000 attendees at most per event
        data = await up.send(Request(LIST_ATTENDEES, query=query, path=path))
        found += [a for a in data.get("items") or [] if isinstance(a, dict) and a.get("rsvp_status") != "removed"]
        token = data.get("page_token")
        if not data.get("has_more") or not token:
            break
        query = [("page_size", "100"), ("page_token", str(token))]
    return found


async def changed_occurrences(
    up: Upstream, calendar_id: str, uid: str, split_at: int, *, with_attendees: bool = True
) -> list[Changed]:
    """The old series' exceptions whose original time is at or after ``split_at``, by original time."""
    found: dict[int, Changed] = {}
    query: list[tuple[str, str]] = [("anchor_time", str(split_at)), ("page_size", PAGE)]
    for _ in range(100):
        data = await up.send(Request(LIST_EVENTS, query=query, path={"calendar_id": calendar_id}))
        for item in data.get("items") or []:
            event_uid, original = split_id(str(item.get("event_id") or ""))
            if event_uid == uid and original >= split_at:
                found[original] = Changed(item, original)
        token = data.get("page_token")
        if not data.get("has_more") or not token:
            break
        query = [("anchor_time", str(split_at)), ("page_size", PAGE), ("page_token", str(token))]
    for changed in found.values():
        if with_attendees and not changed.cancelled:
            changed.attendees = await attendees_of(up, calendar_id, f"{uid}_{changed.original}")
    return [found[k] for k in sorted(found)]


def identity(attendee: JsonObject) -> tuple[str, str] | None:
    kind = str(attendee.get("type"))
    ref = attendee.get(ID_FIELD.get(kind, ""))
    return (kind, str(ref).lower() if kind == "third_party" else str(ref)) if ref else None


def invitation(attendee: JsonObject, fallback_reason: str) -> JsonObject | None:
    """How to invite ``attendee`` again; None for the organizer and failed room bookings."""
    kind = identity(attendee)
    if kind is None or attendee.get("is_organizer") or attendee.get("rsvp_status") == "removed":
        return None
    if kind[0] == "resource" and attendee.get("rsvp_status") == "decline":
        return None  # the booking had failed: asking again could book a room the user never had
    invite: JsonObject = {"type": kind[0], ID_FIELD[kind[0]]: attendee[ID_FIELD[kind[0]]]}
    if kind[0] == "resource":
        # A room that needs approval fails without a reason (attendee create.md); Feishu ignores it elsewhere.
        invite["approval_reason"] = str(attendee.get("approval_reason") or fallback_reason)[:200]
    return invite


def own_changes(changed: Changed, old: JsonObject, keep_time: bool) -> JsonObject:
    """What the occurrence changed for itself: its fields that differ from the old series, and its
    times when it was moved (``keep_time`` False: the new series' times win for it)."""
    body: JsonObject = {
        k: changed.event[k]
        for k in OWN_FIELDS
        if changed.event.get(k) not in (None, "", {}, []) and changed.event[k] != old.get(k)
    }
    start, end = span_of(changed.event)
    first, last = span_of(old)
    if keep_time and (start, end) != (changed.original, changed.original + last - first):
        body["start_time"], body["end_time"] = changed.event["start_time"], changed.event["end_time"]
    return body


def when(seconds: int, zone: ZoneInfo, all_day: bool) -> str:
    moment = datetime.fromtimestamp(seconds, UTC if all_day else zone)
    return moment.strftime("%a %Y-%m-%d" if all_day else "%a %Y-%m-%d %H:%M")


async def carry(
    up: Upstream,
    calendar_id: str,
    new_id: str,
    changed: Changed,
    target: int,
    old: JsonObject,
    invited: list[JsonObject],
    keep_time: bool,
) -> str:
    """Re-apply one changed or cancelled occurrence to the new series' occurrence ``target``; a note."""
    zone, all_day = zone_of(old), bool((old.get("start_time") or {}).get("date"))
    uid = split_id(new_id)[0]
    occurrence = f"{uid}_{target}"
    path = {"calendar_id": calendar_id, "event_id": occurrence}
    label = f"the occurrence of {when(changed.original, zone, all_day)}"
    if changed.cancelled:
        query = [("need_notification", "false")]  # it was cancelled before: nobody needs telling again
        await up.write(Request(DELETE_OCCURRENCE, query=query, path=path), Replay.DELETE)
        return f"{label} stays cancelled ({occurrence})"
    body = own_changes(changed, old, keep_time)
    if body:
        await up.write(Request(PATCH_OCCURRENCE, body={**body, "need_notification": False}, path=path), Replay.SAFE)
    reason = f"continues the booking of the recurring event {old.get('event_id')}"
    mine: dict[tuple[str, str], JsonObject] = {}
    for attendee in changed.attendees:
        key, again = identity(attendee), invitation(attendee, reason)
        if key is not None and again is not None:
            mine[key] = again
    series_keys = {identity(a) for a in invited}
    added = [again for key, again in mine.items() if key not in series_keys]
    gone = [{"type": key[0], ID_FIELD[key[0]]: ref} for key, ref in _refs(invited) if key not in mine]
    quiet = {"need_notification": False}  # the new series' invitations already told everyone
    if added:
        await up.write(Request(ADD_TO_OCCURRENCE, body={"attendees": added, **quiet}, path=path), Replay.SAFE)
    if gone:
        await up.write(Request(REMOVE_FROM_OCCURRENCE, body={"delete_ids": gone, **quiet}, path=path), Replay.SAFE)
    what = [*sorted(k for k in body if k not in ("start_time", "end_time"))]
    if "start_time" in body:
        what.insert(0, f"moved to {when(span_of(changed.event)[0], zone, all_day)}")
    if added or gone:
        what.append(f"attendees ({len(added)} added, {len(gone)} removed)")
    return f"{label} keeps its changes ({', '.join(what) or 'none to carry'}) as {occurrence}"


def _refs(invited: list[JsonObject]) -> list[tuple[tuple[str, str], str]]:
    out = []
    for attendee in invited:
        key = identity(attendee)
        if key is not None:
            out.append((key, str(attendee[ID_FIELD[key[0]]])))
    return out
