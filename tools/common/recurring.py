"""Editing a recurring event with a scope: this occurrence, this and following, or the whole series.

Feishu addresses one occurrence as ``<uid>_<original start>`` and the series as ``<uid>_0``.
``this`` is Feishu's own single-occurrence edit. ``all`` edits the series; a new start/end given
for one occurrence moves every occurrence by the same amount. Feishu does not pass a series' edit on
to its changed occurrences, so ``all`` does what Feishu's CLI does (lark-calendar-recurring.md,
``--apply-to all``): a new time or rule first resets every changed and cancelled occurrence (their
original slots are gone), other fields are applied to each changed occurrence too; the result
names each one. ``this_and_following`` ends the
series before the occurrence (an UNTIL) and starts a new series from it with the same fields,
attendees and rooms (what Feishu's apps do; the API has no such operation); the old series'
changed and cancelled occurrences from there on move to the new series with it
(tools/common/recurring_split.py). The result says what happened to each part.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from tools.common.approval import approval_rooms, booking_notes
from tools.common.composite import Endpoint, JsonObject, Refusal, Request, Upstream
from tools.common.outputs import EventResult, event_result
from tools.common.recurring_split import (
    DELETE_OCCURRENCE,
    PATCH_OCCURRENCE,
    Changed,
    attendees_of,
    carry,
    changed_occurrences,
    invitation,
    matches,
    span_of,
    when,
    zone_of,
)
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
NEEDS_OCCURRENCE = "scope this_and_following needs one occurrence's event_id (uid_<start>), e.g. from view_instances"
NOT_RECURRING = "scope this_and_following is for recurring events; this event does not repeat: call again without scope"
# scope this given the series' own id: Feishu's edit of that id is the whole series, not one occurrence.
THIS_ON_SERIES = (
    "scope this is one occurrence, but {uid}_0 is the whole series: pass that occurrence's event_id "
    "(uid_<start>, from view_instances or list_recurring_instances), or scope all for every occurrence"
)
# scope all on an event that does not repeat is the plain edit; saying "every occurrence of the series"
# there named a series that does not exist.
SINGLE_CHANGED = "changed the event (it does not repeat, so scope all made no difference)"
SINGLE_DELETED = "deleted the event (it does not repeat, so scope all made no difference)"


class ScopeError(Refusal):
    """A scope the event id cannot have (e.g. this_and_following on a series id)."""


def split(event_id: str) -> tuple[str, int]:
    """(uid, original start) of an event id; 0 for a single event or a series."""
    match = _OCCURRENCE.match(event_id)
    return (match["uid"], int(match["time"])) if match else (event_id, 0)


def _get(calendar_id: str, event_id: str) -> Request:
    return Request(GET_EVENT, path={"calendar_id": calendar_id, "event_id": event_id})


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


def _slot(series: JsonObject, original: int) -> tuple[JsonObject, JsonObject]:
    """The start and end time_info of the series' occurrence at ``original`` as the series has it."""
    first, last = span_of(series)
    start, end = dict(series["start_time"]), dict(series["end_time"])
    if start.get("date"):  # all-day: UTC dates, the end date inclusive
        start["date"] = datetime.fromtimestamp(original, UTC).date().isoformat()
        end["date"] = datetime.fromtimestamp(original + last - first - 86400, UTC).date().isoformat()
    else:
        start["timestamp"], end["timestamp"] = str(original), str(original + last - first)
    return start, end


async def edit_series(
    up: Upstream, scope: Scope | None, calendar_id: str, event_id: str, body: JsonObject
) -> JsonObject | None:
    """The scoped edit of ``event_id`` with the PATCH ``body``; None for ``this`` or no scope (Feishu's own
    edit of that id)."""
    uid, original = split(event_id)
    if scope is None:
        return None
    if scope == "this":
        await _one_occurrence(up, calendar_id, uid, original)
        return None
    if scope == "all":
        series = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
        if original and "start_time" in body:
            occurrence = (await up.send(_get(calendar_id, event_id)))["event"]
            moved = int(body["start_time"]["timestamp"]) - _start(occurrence)
            body = {
                **body,
                "start_time": _shifted(series["start_time"], moved),
                "end_time": _shifted(series["end_time"], moved),
            }
        notes = await _changed_for_all(up, calendar_id, series, body)  # first, as Feishu's CLI does
        path = {"calendar_id": calendar_id, "event_id": f"{uid}_0"}
        changed = await up.write(Request(PATCH_EVENT, body=body, path=path), Replay.SAFE)
        done = f"changed every occurrence of the series {uid}_0" if series.get("recurrence") else SINGLE_CHANGED
        return {"event": changed.get("event"), "notes": [done, *notes]}
    if not original:
        raise await _scope_refusal(up, calendar_id, uid)
    return await _split(up, calendar_id, uid, original, body)


def edited(inp: Any, data: JsonObject) -> EventResult:
    """update_event's result; with no scope, a series' own id changed every occurrence, and it says so."""
    result = event_result(inp, data)
    event, event_id = data.get("event"), str(getattr(inp, "event_id", ""))
    series = isinstance(event, dict) and bool(event.get("recurrence")) and split(event_id)[1] == 0
    if getattr(inp, "scope", None) is None and series:
        note = (
            f"changed every occurrence of the series {event_id} (its own id; for one occurrence pass that "
            "occurrence's id from view_instances with scope this)"
        )
        return result.model_copy(update={"warnings": [note, *result.warnings]})
    return result


async def _one_occurrence(up: Upstream, calendar_id: str, uid: str, original: int) -> None:
    """Refuse scope this on a series' own id (one GET, only for a ``_0`` id): Feishu would change or
    delete every occurrence, which the model asked not to."""
    if original:
        return
    event = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
    if event.get("recurrence"):
        raise ScopeError(THIS_ON_SERIES.format(uid=uid))


async def _is_occurrence(up: Upstream, calendar_id: str, uid: str, original: int) -> None:
    """Feishu's answer for the occurrence id, before anything changes: an id whose time is none of the
    series' (a timestamp off by a minute) is 193001, where the split went ahead from that moment and
    ended the series there, or deleted it whole for a time before its first occurrence."""
    await up.send(_get(calendar_id, f"{uid}_{original}"))


async def _scope_refusal(up: Upstream, calendar_id: str, uid: str) -> ScopeError:
    """this_and_following given a series id: what to do instead, read from the event (one GET, refusals only)."""
    event = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
    return ScopeError(NEEDS_OCCURRENCE if event.get("recurrence") else NOT_RECURRING)


def _retimed(series: JsonObject, body: JsonObject) -> bool:
    """Whether ``body`` gives the series other times or another rule (an echo of its own is none)."""
    for name in ("start_time", "end_time"):
        given, held = body.get(name), series.get(name) or {}
        if given is None:
            continue
        # An all-day date carries no zone in our body (Feishu answers "UTC"): compare what places it.
        keys = ("date", "timestamp", "timezone") if given.get("timezone") else ("date", "timestamp")
        if any(str(given.get(k) or "") != str(held.get(k) or "") for k in keys):
            return True
    return "recurrence" in body and body["recurrence"] != series.get("recurrence")


async def _changed_for_all(up: Upstream, calendar_id: str, series: JsonObject, body: JsonObject) -> list[str]:
    """The series' changed and cancelled occurrences under an edit of all of it, each named."""
    if not series.get("recurrence"):
        return []
    uid = split(str(series.get("event_id") or ""))[0]
    changed = await changed_occurrences(up, calendar_id, uid, 1, with_attendees=False)
    zone, all_day = zone_of(series), bool((series.get("start_time") or {}).get("date"))
    notes = []
    if _retimed(series, body):
        await _destroy(up, calendar_id, uid, changed)
        for one in changed:
            day = when(one.original, zone, all_day)
            if one.cancelled:
                notes.append(
                    f"the occurrence of {day} had been cancelled: it takes place again at the series' new time "
                    "(delete it with scope this to cancel it again)"
                )
            else:
                start = span_of(one.event)[0]
                moved = f" (moved to {when(start, zone, all_day)})" if start != one.original else ""
                dropped = "its own changes are dropped, it follows the series"
                notes.append(f"reset the changed occurrence of {day}{moved}: {dropped}")
        return notes
    fields = {k: v for k, v in body.items() if k not in ("start_time", "end_time", "recurrence")}
    live = [one for one in changed if not one.cancelled]
    if not fields or not live:
        return notes
    for one in live:
        path = {"calendar_id": calendar_id, "event_id": f"{uid}_{one.original}"}
        await up.write(Request(PATCH_OCCURRENCE, body=fields, path=path), Replay.SAFE)
    days = ", ".join(when(one.original, zone, all_day) for one in live)
    return [f"made the same change to the changed occurrences of {days} (Feishu does not pass it on to them)"]


async def _destroy(up: Upstream, calendar_id: str, uid: str, changed: list[Changed]) -> None:
    """Remove the occurrences' own records with delete_exception (UNDOCUMENTED; what Feishu's CLI
    sends before a series-wide change): each follows the series again rather than staying cancelled."""
    for one in changed:
        query = [("need_notification", "false"), ("delete_exception", "true")]
        path = {"calendar_id": calendar_id, "event_id": f"{uid}_{one.original}"}
        await up.write(Request(DELETE_OCCURRENCE, query=query, path=path), Replay.DELETE)


async def _destroy_changed(up: Upstream, calendar_id: str, series: JsonObject) -> list[str]:
    """Before the whole series goes: its changed occurrences' own records, each named."""
    uid = split(str(series.get("event_id") or ""))[0]
    changed = await changed_occurrences(up, calendar_id, uid, 1, with_attendees=False)
    await _destroy(up, calendar_id, uid, changed)
    zone, all_day = zone_of(series), bool((series.get("start_time") or {}).get("date"))
    live = [when(span_of(one.event)[0], zone, all_day) for one in changed if not one.cancelled]
    return [f"deleted its changed occurrences too ({', '.join(live)})"] if live else []


async def _split(up: Upstream, calendar_id: str, uid: str, original: int, body: JsonObject) -> JsonObject:
    """End the series before ``original`` and continue it, changed by ``body``, as a new series."""
    # Everything is read before anything changes: a refusal leaves the calendar as it was.
    series = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
    rule = str(series.get("recurrence") or "")
    if not rule:
        raise ScopeError(f"{uid}_0 is not a recurring event: use scope this")
    await _is_occurrence(up, calendar_id, uid, original)
    guests = await attendees_of(up, calendar_id, f"{uid}_0")
    changed = await changed_occurrences(up, calendar_id, uid, original)
    first = span_of(series)[0]
    new: JsonObject = {k: series[k] for k in COPIED if series.get(k) not in (None, "", {})}
    new["start_time"], new["end_time"] = _slot(series, original)  # its slot, even if it was moved
    new |= {"recurrence": rule_from(rule, first, zone_of(series).key, original)} | body
    reason = f"continues the booking of the recurring event {uid}_0"
    invites = [i for a in guests if (i := invitation(a, reason))]
    approval = await approval_rooms(up, invites)

    notes = await _drop_changed(up, calendar_id, series, changed, notify=False, report=False)
    path = {"calendar_id": calendar_id, "event_id": f"{uid}_0"}
    if original <= first:  # its first occurrence: the new series replaces the old one whole
        await up.write(Request(DELETE_EVENT, query=[("need_notification", "false")], path=path), Replay.DELETE)
        notes.append(f"replaced the series {uid}_0 (this was its first occurrence)")
    else:
        await up.write(Request(PATCH_EVENT, body={"recurrence": rule_until(rule, original)}, path=path), Replay.SAFE)
        notes.append(f"ended the series {uid}_0 before this occurrence; the earlier ones keep their changes")
    key = uuid.uuid4().hex
    created = await up.write(
        Request(CREATE_EVENT, query=[("idempotency_key", key)], body=new, path={"calendar_id": calendar_id}),
        Replay.KEYED,
    )
    event = created.get("event") or {}
    new_id = str(event.get("event_id") or "")
    notes.append(f"started the new series {new_id} from this occurrence")
    if invites and new_id:
        target = {"calendar_id": calendar_id, "event_id": new_id}
        added = await up.write(Request(ADD_ATTENDEES, body={"attendees": invites}, path=target), Replay.SAFE)
        notes.append(
            f"invited the {len(invites)} attendees and rooms of the old series to the new one "
            "(their replies are not carried: each answers the new series)"
        )
        notes += booking_notes(added.get("attendees") or [], approval)
    notes += await _carry_all(up, calendar_id, new_id, changed, series, invites, new, original, body)
    return {"event": event, "notes": notes}


async def _drop_changed(
    up: Upstream, calendar_id: str, series: JsonObject, changed: list[Changed], *, notify: bool, report: bool
) -> list[str]:
    """Delete the old series' changed occurrences from the split on: once the series ends before them
    they belong to no occurrence, and Feishu's own CLI deletes them too rather than leave strays."""
    uid = split(str(series.get("event_id") or ""))[0]
    zone, all_day = zone_of(series), bool((series.get("start_time") or {}).get("date"))
    notes = []
    for one in changed:
        if one.cancelled:
            continue
        path = {"calendar_id": calendar_id, "event_id": f"{uid}_{one.original}"}
        query = [("need_notification", "true" if notify else "false")]
        await up.write(Request(DELETE_OCCURRENCE, query=query, path=path), Replay.DELETE)
        if report:
            start = span_of(one.event)[0]
            notes.append(
                f"deleted the changed occurrence of {when(one.original, zone, all_day)} "
                f"(it was at {when(start, zone, all_day)})"
            )
    return notes


async def _carry_all(
    up: Upstream,
    calendar_id: str,
    new_id: str,
    changed: list[Changed],
    series: JsonObject,
    invites: list[JsonObject],
    new: JsonObject,
    original: int,
    body: JsonObject,
) -> list[str]:
    if not changed or not new_id:
        return []
    if "recurrence" in body:  # a new rule has other occurrences: nothing to match them with
        return [f"{len(changed)} changed or cancelled occurrences from here on were not carried: the rule changed"]
    targets = matches(series, original, [c.original for c in changed], new, str(new["recurrence"]))
    notes = []
    for one in changed:
        target = targets.get(one.original)
        zone, all_day = zone_of(series), bool(series["start_time"].get("date"))
        if target is None:
            notes.append(f"the occurrence of {when(one.original, zone, all_day)} is not one of the new series: dropped")
            continue
        keep_time = not (one.original == original and "start_time" in body)  # this edit sets its time
        notes.append(await carry(up, calendar_id, new_id, one, target, series, invites, keep_time))
    return notes


async def delete_series(
    up: Upstream, scope: Scope | None, calendar_id: str, event_id: str, notify: bool | None = None
) -> JsonObject | None:
    """The scoped delete of ``event_id``; None for ``this`` or no scope (Feishu's own delete of that id)."""
    uid, original = split(event_id)
    path = {"calendar_id": calendar_id, "event_id": f"{uid}_0"}
    if scope is None:
        return None
    if scope == "this":
        await _one_occurrence(up, calendar_id, uid, original)
        return None
    query = [] if notify is None else [("need_notification", "true" if notify else "false")]
    if scope == "all":
        # Its changed occurrences first, as Feishu's CLI does: a series' delete is not documented to
        # take them along (its skill: edits of the series do not cascade to them).
        series = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
        notes = await _destroy_changed(up, calendar_id, series) if series.get("recurrence") else []
        await up.write(Request(DELETE_EVENT, query=query, path=path), Replay.DELETE)
        return {"notes": [f"deleted the whole series {uid}_0" if series.get("recurrence") else SINGLE_DELETED, *notes]}
    if not original:
        raise await _scope_refusal(up, calendar_id, uid)
    series = (await up.send(_get(calendar_id, f"{uid}_0")))["event"]
    await _is_occurrence(up, calendar_id, uid, original)
    if original <= span_of(series)[0]:
        await up.write(Request(DELETE_EVENT, query=query, path=path), Replay.DELETE)
        return {"notes": [f"deleted the whole series {uid}_0 (this was its first occurrence)"]}
    changed = await changed_occurrences(up, calendar_id, uid, original, with_attendees=False)
    notes = await _drop_changed(up, calendar_id, series, changed, notify=notify is not False, report=True)
    rule = rule_until(str(series.get("recurrence") or ""), original)
    await up.write(Request(PATCH_EVENT, body={"recurrence": rule}, path=path), Replay.SAFE)
    cancelled = sum(c.cancelled for c in changed)
    notes.insert(0, f"ended the series {uid}_0 before this occurrence: it and the later ones are gone")
    if cancelled:
        notes.append(f"{cancelled} of the later occurrences had been cancelled already")
    return {"notes": notes}
