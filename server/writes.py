"""Writes under doubt: verify by reading back, and never let a late request undo a write unseen.

A request that went unanswered (timeout, dropped connection, 5xx) may still run at Feishu
later, after newer writes to the same event: an update overwritten by its stalled predecessor,
a removed attendee coming back. Nothing on the wire can stop that (Feishu has no conditional
writes), so this module makes it visible instead:

* writes to one event are serialised within the process, so a new write waits for an earlier
  one (its retries and read-back included) and learns what that one left unsettled;
* a write that had an unanswered request, or that follows one on the same event within
  ``LATE_HORIZON``, is read back before success is reported (the operation's ``ReadBack``);
  if the event disagrees, the write is sent once more and read again, and the model is told;
* while an unanswered request may still land, the result says so, and what it would change;
  every later read of that event (get_event, list_attendees, another write's read-back) is
  compared with the newest write and names anything a late request undid.

What remains (a late request landing after the last read) is measured by
``python -m bench.late_writes``; see docs/resilience.md.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel

from server.errors import OutcomeUnknown
from server.feishu_client import Outcome
from server.paths import fill_route
from tools.spec import Operation, ReadBack, Replay, WireRequest

if TYPE_CHECKING:
    from server.state import AppState

# How long after an unanswered request we assume Feishu may still run it. Feishu does not
# document how long a request can wait in its queue; two minutes is twice our own call deadline.
LATE_HORIZON = 120.0
# How many events' locks and expectations to keep (oldest forgotten first).
TRACKED_LIMIT = 512
# Pages of a read-back listing to follow (100 attendees each).
READ_BACK_PAGES = 10

Key = tuple[str, str, str]  # identity, calendar_id, event_id


@dataclass
class _Unanswered:
    operation: str
    body: dict[str, Any] | None
    until: float  # client clock: after this we assume it can no longer land


@dataclass
class _Expected:
    """The newest write to one view of an event, to compare later reads with."""

    operation: str
    read_back: ReadBack
    body: dict[str, Any]


@dataclass
class _Event:
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    unanswered: list[_Unanswered] = field(default_factory=list)
    expected: dict[str, _Expected] = field(default_factory=dict)  # by read-back route


class WriteGuard:
    """Per-event write serialisation and late-write bookkeeping for one server process."""

    def __init__(self) -> None:
        self._events: OrderedDict[Key, _Event] = OrderedDict()

    def _event(self, key: Key) -> _Event:
        tracked = self._events.pop(key, None) or _Event()
        self._events[key] = tracked
        while len(self._events) > TRACKED_LIMIT:
            oldest, state = next(iter(self._events.items()))
            if state.lock.locked():
                break
            del self._events[oldest]
        return tracked

    def pending(self, key: Key, now: float) -> list[_Unanswered]:
        tracked = self._events.get(key)
        if tracked is None:
            return []
        tracked.unanswered = [u for u in tracked.unanswered if u.until > now]
        return list(tracked.unanswered)


def event_key(op: Operation[Any, Any], params: dict[str, str], identity: str) -> Key | None:
    if "event_id" not in params or "calendar_id" not in params:
        return None
    return (identity, params["calendar_id"], params["event_id"])


async def send(
    op: Operation[Any, Any], inp: Any, params: dict[str, str], wire: WireRequest, state: AppState
) -> tuple[dict[str, Any], list[str]]:
    """Send ``op``'s request; its ``data`` and the notes the model must see beside the result."""
    key = event_key(op, params, state.client.tokens.identity)
    if op.read_only or key is None:
        data = await _call(op, inp, params, wire, state, Outcome())
        # A later page is part of a list: what it lacks may be on another page, so it is not judged.
        whole = not any(name == "page_token" for name, _ in wire.query)
        return data, _check_expected(state, key, op.route, data) if key is not None and whole else []
    async with state.writes._event(key).lock:
        return await _guarded_write(op, inp, params, wire, state, key)


async def _guarded_write(
    op: Operation[Any, Any], inp: Any, params: dict[str, str], wire: WireRequest, state: AppState, key: Key
) -> tuple[dict[str, Any], list[str]]:
    guard, clock = state.writes, state.client.clock
    earlier = guard.pending(key, clock.monotonic())
    outcome = Outcome()
    try:
        data = await _call(op, inp, params, wire, state, outcome)
    finally:
        tracked = _remember(state, key, op, wire, outcome)
    notes: list[str] = []
    rb = op.read_back
    if rb is not None and wire.body is not None:
        # The newest write is what later reads of this view should show; kept only while an
        # unanswered request may still land (a change by someone else is not ours to flag).
        previous = tracked.expected.pop(rb.route, None)
        if guard.pending(key, clock.monotonic()):
            same = previous is not None and previous.operation == op.name
            body = _merged(previous.body, wire.body) if same and previous else dict(wire.body)
            tracked.expected[rb.route] = _Expected(op.name, rb, body)
        if outcome.unanswered or earlier:
            notes += await _verify(op, inp, params, wire, state, key)
    notes += [_may_still_land(u, clock.monotonic()) for u in guard.pending(key, clock.monotonic()) if u in earlier]
    return data, notes


async def _verify(
    op: Operation[Any, Any], inp: Any, params: dict[str, str], wire: WireRequest, state: AppState, key: Key
) -> list[str]:
    """Read the event back; if it disagrees with this write, send the write once more."""
    rb = op.read_back
    assert rb is not None
    differences = rb.differs(wire.body, await _read(rb, params, wire, state))
    if not differences:
        return []
    if op.replay is Replay.NEVER:
        return [_not_shown(op.name, differences)]
    again = Outcome()
    try:
        await _call(op, inp, params, wire, state, again)
    finally:
        _remember(state, key, op, wire, again)
    still = rb.differs(wire.body, await _read(rb, params, wire, state))
    if still:
        return [_not_shown(op.name, still)]
    return [
        f"reading the event back after {op.name} showed {'; '.join(differences)}: another request (most likely "
        "an earlier one of ours that had got no answer, reaching Feishu late) undid part of this change after "
        "Feishu applied it, so it was sent again and now shows"
    ]


def _remember(state: AppState, key: Key, op: Operation[Any, Any], wire: WireRequest, outcome: Outcome) -> _Event:
    """Note the write's unanswered requests: each may still land until LATE_HORIZON after it."""
    tracked = state.writes._event(key)
    tracked.unanswered += [_Unanswered(op.name, wire.body, t + LATE_HORIZON) for t in outcome.unanswered]
    return tracked


async def _read(rb: ReadBack, params: dict[str, str], wire: WireRequest, state: AppState) -> dict[str, Any]:
    """The read-back GET (ids spelled as the write spelled them); a paged listing is followed page
    by page and merged into ``items``."""
    path = fill_route(rb.route, params)
    same_ids = [(k, v) for k, v in wire.query if k == "user_id_type"]
    data: dict[str, Any] = {}
    items: list[Any] = []
    token = ""
    for _ in range(READ_BACK_PAGES):
        query = [*rb.query, *same_ids, *([("page_token", token)] if token else [])]
        data = await state.client.call("read back", "GET", path, query=query, replay=Replay.SAFE, writes=False)
        items += data.get("items") or []
        token = str(data.get("page_token") or "") if data.get("has_more") else ""
        if not token:
            break
    return {**data, "items": items} if items else data


def _check_expected(state: AppState, key: Key, route: str, data: dict[str, Any]) -> list[str]:
    """A read of an event: does it still show the newest write an unanswered request could undo?"""
    tracked = state.writes._events.get(key)
    if tracked is None or route not in tracked.expected:
        return []
    expected = tracked.expected[route]
    differences = expected.read_back.differs(expected.body, data)
    if not state.writes.pending(key, state.client.clock.monotonic()):
        del tracked.expected[route]  # nothing of ours can land any more: this was the last look
    if not differences:
        return []
    return [
        f"this event no longer shows your last {expected.operation}: {'; '.join(differences)}. A request of ours "
        f"that had got no answer probably reached Feishu late and undid it (or someone else changed it); call "
        f"{expected.operation} again with the same arguments to restore it"
    ]


async def _call(
    op: Operation[Any, Any], inp: Any, params: dict[str, str], wire: WireRequest, state: AppState, outcome: Outcome
) -> dict[str, Any]:
    try:
        return await state.client.call(
            op.name,
            op.method,
            fill_route(op.route, params),
            query=wire.query,
            body=wire.body,
            replay=op.replay,
            done_after_replay=op.done_after_replay,
            writes=not op.read_only,
            scopes=op.scopes,
            outcome=outcome,
        )
    except OutcomeUnknown as err:
        if op.outcome_check is not None:
            err.advice = f"do not simply retry: {op.outcome_check(inp)}"
        raise


def with_notes(result: BaseModel, notes: list[str]) -> BaseModel:
    """``result`` carrying ``notes``: in its ``warnings`` list, else its ``detail`` text, else
    (an object of Feishu's own fields) under ``data.warnings``, beside Feishu's fields."""
    if "warnings" in type(result).model_fields:
        return result.model_copy(update={"warnings": [*getattr(result, "warnings", []), *notes]})
    if "detail" in type(result).model_fields:
        return result.model_copy(update={"detail": "; ".join([getattr(result, "detail", ""), *notes])})
    data = getattr(result, "data", None)
    if isinstance(data, dict):
        return result.model_copy(update={"data": {**data, "warnings": notes}})
    raise TypeError(f"{type(result).__name__} has no place for notes")


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two writes of one operation as one: later fields win, lists (attendees, ids) add up."""
    out = dict(old)
    for name, value in new.items():
        previous = out.get(name)
        out[name] = [*previous, *value] if isinstance(previous, list) and isinstance(value, list) else value
    return out


def _may_still_land(u: _Unanswered, now: float) -> str:
    sent = json.dumps(u.body, ensure_ascii=False, default=str) if u.body else "{}"
    if len(sent) > 300:
        sent = sent[:300] + "..."
    return (
        f"an earlier {u.operation} request to this event got no answer and Feishu may still apply it within "
        f"the next {max(1, round(u.until - now))} s; it would send {sent}. Check with get_event or "
        "list_attendees after that; if it undid this change, repeat this call"
    )


def _not_shown(operation: str, differences: list[str]) -> str:
    return (
        f"Feishu accepted {operation}, but reading the event back shows {'; '.join(differences)}: another "
        "request changed it meanwhile (or Feishu stores that value in another form). Check with get_event or "
        f"list_attendees, then call {operation} again if needed"
    )
