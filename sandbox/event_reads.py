"""Event listings: list (window, anchor, paging, sync), search, instances, instance_view.

feishu-api.md §3 ops 5, 6, 8, 9. A sync token is a position in the world's change sequence:
the next sync returns every event changed since on this calendar, deletions (and events the
calendar no longer shows) as ``status: cancelled``. ``sb.expire_sync_tokens()`` makes every
outstanding page or sync token answer 190008.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox import eventstore, recurrence
from sandbox.calendars import calendar_for
from sandbox.events import EVENTS, READ_SCOPES
from sandbox.render import event_json, event_text, instance_json
from sandbox.state import Calendar, Event, World
from sandbox.wire import (
    Call,
    FeishuFault,
    RenderedJSON,
    api_route,
    ascii_int,
    decode_token,
    encode_token,
    invalid,
    json_array,
    json_object,
    page,
    to_json,
)

if TYPE_CHECKING:
    from sandbox.app import Sandbox

MONTH = 30 * recurrence.DAY
TWO_YEARS = 731 * recurrence.DAY
VIEW_DAYS_LIMIT = 40
VIEW_INSTANCES_LIMIT = 1000


def routes(sb: Sandbox) -> list[BaseRoute]:
    # Listed before the /events/{event_id} routes: "instance_view" and "search" are not event ids.
    return [
        api_route(sb, "GET", EVENTS, list_events, scopes=READ_SCOPES),
        api_route(sb, "POST", EVENTS + "/search", search_events, scopes=READ_SCOPES),
        api_route(sb, "GET", EVENTS + "/instance_view", instance_view, scopes=READ_SCOPES),
        api_route(sb, "GET", EVENTS + "/{event_id}/instances", list_instances, scopes=READ_SCOPES),
    ]


def list_events(call: Call) -> RenderedJSON:
    calendar = calendar_for(call, call.path["calendar_id"], "reader")
    size = call.query_int("page_size", default=500, low=50, high=1000)
    lo, hi = call.query_unix("start_time"), call.query_unix("end_time")
    anchor = call.query_unix("anchor_time")
    sync_token, page_token = call.query("sync_token"), call.query("page_token")
    world = call.sb.world
    if (lo is None) != (hi is None):
        raise invalid("end_time" if hi is None else "start_time", None, "start_time and end_time go together")
    if sync_token and lo is not None:
        # list.md: a window cannot be combined with sync_token; anchor_time can (sync after the anchor).
        raise FeishuFault(190009, "sync_token cannot be combined with start_time and end_time")
    if lo is not None and hi is not None:
        if anchor is not None or page_token:
            raise invalid("start_time", lo, "a time window cannot be combined with anchor_time or page_token")
        # A one-shot window: no paging; whatever exceeds page_size is cut off.
        items = [event_text(call, e) for e in eventstore.events_on(world, calendar) if _in_window(e, lo, hi)]
        return json_object([("has_more", b"false"), ("items", json_array(items[:size]))])
    position = _Position(world.sync_epoch, 0, None, world.change_seq, anchor)
    if page_token:
        position = _Position.decode("evpage", page_token, world.sync_epoch)
    elif sync_token:
        since = _Position.decode("evsync", sync_token, world.sync_epoch).since
        position = replace(position, since=since)
    if position.since is not None:
        items = _changes(call, calendar, position.since, position.anchor)
    else:
        items = _listing(call, calendar, position.anchor)
    chunk = items[position.offset : position.offset + size]
    has_more = position.offset + size < len(items)
    result: list[tuple[str, bytes | list[bytes]]] = [("has_more", to_json(has_more)), ("items", json_array(chunk))]
    if has_more:
        # list.md: a page_token comes back only when anchor_time was passed. Without one, what does not fit
        # in one page cannot be reached (has_more stays true, and no sync token comes either).
        if position.anchor is not None:
            result.append(("page_token", to_json(replace(position, offset=position.offset + size).encode("evpage"))))
    else:
        # The next sync starts where this listing's snapshot was taken.
        next_sync = _Position(position.epoch, 0, position.snapshot, position.snapshot, None)
        result.append(("sync_token", to_json(next_sync.encode("evsync"))))
    return json_object(result)


@dataclass(frozen=True)
class _Position:
    """What a page or sync token remembers: the listing it continues and where."""

    epoch: int  # World.sync_epoch when issued; a later epoch means expired (190008)
    offset: int
    since: int | None  # a sync listing: changes after this change_seq
    snapshot: int  # change_seq when the listing began; the next sync token starts here
    anchor: int | None

    def encode(self, kind: str) -> str:
        fields = (self.epoch, self.offset, self.since, self.snapshot, self.anchor)
        return encode_token(kind, ":".join("" if f is None else str(f) for f in fields))

    @classmethod
    def decode(cls, kind: str, token: str, epoch: int) -> _Position:
        texts = decode_token(kind, token).split(":")
        parts = [ascii_int(p) if p else None for p in texts]
        well_formed = len(parts) == 5 and all(p is not None for p, t in zip(parts, texts, strict=True) if t)
        if well_formed and parts[0] == epoch and None not in (parts[1], parts[3]):
            _, offset, since, snapshot, anchor = parts
            assert offset is not None and snapshot is not None  # checked just above
            return cls(epoch, offset, since, snapshot, anchor)
        raise FeishuFault(190008, f"{kind[2:]} token is invalid or expired; list again without it")


def _listing(call: Call, calendar: Calendar, anchor: int | None) -> list[bytes]:
    events = eventstore.events_on(call.sb.world, calendar)
    if anchor is not None:
        events = [e for e in events if _after_anchor(e, anchor)]
    return [event_text(call, e) for e in events]


def _after_anchor(event: Event, anchor: int) -> bool:
    """Feishu's anchor rule: every recurring master; others that end (or originally start) after it."""
    if event.recurrence:
        return True
    end = recurrence.span(event)[1]
    return end >= anchor or (event.is_exception and event.original_time >= anchor)


def _changes(call: Call, calendar: Calendar, since: int, anchor: int | None) -> list[bytes]:
    world = call.sb.world
    changed = []
    for event in world.events.values():
        if event.change_seq <= since or (anchor is not None and not _after_anchor(event, anchor)):
            continue
        showing = calendar.calendar_id in eventstore.calendars_of(world, event)
        if showing or calendar.calendar_id in event.seen_on:
            changed.append((event.change_seq, event_text(call, event, cancelled=event.deleted or not showing)))
    return [body for _, body in sorted(changed, key=lambda pair: pair[0])]


def _in_window(event: Event, lo: int, hi: int) -> bool:
    return recurrence.overlaps(event, lo, hi)


def search_events(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "reader", ("primary", "shared"))
    size = max(10, call.query_int("page_size", default=20, low=0, high=100))  # under 10 is raised to 10
    text = call.required_field("query", str)
    if len(text) > 200:
        raise invalid("query", text[:50], "at most 200 characters")
    criteria = call.field("filter", dict) or {}
    lo, hi = _filter_time(criteria, "start_time"), _filter_time(criteria, "end_time")
    if lo is None and hi is None:
        # search.md: without start_time and end_time Feishu searches "近一个月" (the recent month).
        now = int(call.sb.clock.now())
        lo, hi = now - MONTH, now
    lo, hi = (0 if lo is None else lo), (recurrence.MAX_TIMESTAMP if hi is None else hi)
    world = call.sb.world
    found = [
        event_json(call, e)
        for e in eventstore.events_on(world, calendar)
        if e.status != "cancelled"
        and _title_matches(e.summary, text)
        and _in_window(e, lo, hi)
        and _matches_filter(call, e, criteria)
    ]
    result = page(call, found, size)
    del result["has_more"]  # the search reply has no has_more: a page_token means more
    return result


def _filter_time(criteria: dict[str, Any], name: str) -> int | None:
    """A filter bound, if given (one bound alone leaves the other side open: an assumption)."""
    raw = criteria.get(name)
    if not raw:
        return None
    return recurrence.instant(recurrence.parse_time_info(f"filter.{name}", raw), is_end=name == "end_time")


def _title_matches(summary: str, text: str) -> bool:
    if "_" in text:
        return summary == text
    return text.casefold() in summary.casefold()


def _matches_filter(call: Call, event: Event, criteria: dict[str, Any]) -> bool:
    user_ids = set(criteria.get("user_ids") or [])
    room_ids = set(criteria.get("room_ids") or [])
    chat_ids = set(criteria.get("chat_ids") or [])
    if not (user_ids or room_ids or chat_ids):
        return True
    world = call.sb.world
    for attendee in event.attendees:
        user = world.users.get(attendee.open_id or "")
        if user is not None and call.user_ref(user) in user_ids:
            return True
        if attendee.room_id in room_ids or attendee.chat_id in chat_ids:
            return True
    return False


def expand(world: World, master: Event, lo: int, hi: int, *, with_cancelled: bool) -> list[Event]:
    """The occurrences of ``master`` overlapping [lo, hi), with its exceptions applied, by start."""
    if not master.recurrence:
        start, end = recurrence.span(master)
        return [master] if start < hi and end > lo else []
    exceptions = eventstore.exceptions_of(world, master)
    found: dict[int, Event] = {}
    for occ in recurrence.occurrences(master, lo, hi):
        found[occ.original_time] = exceptions.get(occ.original_time) or eventstore.occurrence(master, occ.original_time)
    for original_time, exception in exceptions.items():
        if exception.deleted:
            found.pop(original_time, None)
            continue
        start, end = recurrence.span(exception)
        overlaps = start < hi and end > lo
        if overlaps or (exception.status == "cancelled" and original_time in found):
            found[original_time] = exception
        else:
            found.pop(original_time, None)  # moved out of the window
    kept = [e for e in found.values() if with_cancelled or e.status != "cancelled"]
    return sorted(kept, key=lambda e: (recurrence.instant(e.start), e.event_id))


def list_instances(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "reader")
    lo, hi = _required_window(call)
    if hi - lo > TWO_YEARS:
        raise invalid("end_time", hi, "the span may be at most 2 years")
    size = call.query_int("page_size", default=50, low=10, high=500)
    event = eventstore.find_event(call, calendar, call.path["event_id"])
    world = call.sb.world
    instances = [event] if event.original_time != 0 else expand(world, event, lo, hi, with_cancelled=True)
    return page(call, [instance_json(call, e, full=False) for e in instances], size)


def instance_view(call: Call) -> dict[str, Any]:
    calendar = calendar_for(call, call.path["calendar_id"], "reader", ("primary", "shared"))
    lo, hi = _required_window(call)
    if hi - lo >= VIEW_DAYS_LIMIT * recurrence.DAY:
        raise FeishuFault(193103, f"the time span must be less than {VIEW_DAYS_LIMIT} days")
    call.user_id_type()
    world = call.sb.world
    instances: list[Event] = []
    for event in eventstore.events_on(world, calendar):
        if event.is_exception:
            continue  # applied through its master
        instances.extend(expand(world, event, lo, hi, with_cancelled=False))
        if len(instances) > VIEW_INSTANCES_LIMIT:
            raise FeishuFault(193104, f"more than {VIEW_INSTANCES_LIMIT} instances in the time span")
    instances.sort(key=lambda e: (recurrence.instant(e.start), e.event_id))
    return {"items": [instance_json(call, e, full=True) for e in instances]}


def _required_window(call: Call) -> tuple[int, int]:
    lo = call.query_unix("start_time", required=True)
    hi = call.query_unix("end_time", required=True)
    assert lo is not None and hi is not None  # required=True raised otherwise
    if hi <= lo:
        raise invalid("end_time", hi, "must be after start_time")
    return lo, hi
