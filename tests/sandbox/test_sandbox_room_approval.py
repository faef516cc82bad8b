"""A room that needs approval, driven through the official SDK (attendee create.md, ``approval_reason``).

Documented: ``approval_reason`` (at most 200 characters) counts only with a user token; booking an
approval room without it fails ("直接预约失败"), and with a tenant token it always fails; a failed
booking is ``rsvp_status`` decline, one in progress needs_action. Assumed (sandbox/README.md): the
failure is an answer like any other (no error code: the docs name none), the approver is emulated
(``Sandbox.decide_approval``, ``/_sandbox/room_approvals``) and answers accept by rule
``APPROVAL_DELAY`` after the request; a booking awaiting approval holds the room in free/busy.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from lark_oapi.api.calendar.v4 import (
    CalendarEventAttendee,
    ListCalendarEventAttendeeRequest,
    ListFreebusyRequest,
    ListFreebusyRequestBody,
)

from sandbox import DEMO_PRIMARY_CALENDAR_ID, Sandbox, room_booking, running
from sandbox.seed_directory import APPROVAL_ROOM_ID
from server.clock import VirtualClock
from tests.sandbox.helpers_sandbox import DAY, FIXED_NOW, HOUR, bearer, rfc3339
from tests.sandbox.lark_sdk import as_user, parsed, sdk_client
from tests.sandbox.test_sandbox_fidelity import add_attendees, probe

START = int(FIXED_NOW) + 12 * DAY + 2 * HOUR


def room(reason: str | None = None) -> Any:
    builder = CalendarEventAttendee.builder().type("resource").room_id(APPROVAL_ROOM_ID)
    return (builder.approval_reason(reason) if reason is not None else builder).build()


def status(client: Any, option: Any, event_id: str) -> tuple[str, Any]:
    listing = ListCalendarEventAttendeeRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).event_id(event_id)
    items = parsed(client.calendar.v4.calendar_event_attendee.list(listing.build(), option)).items
    [found] = [a for a in items if a.type == "resource"]
    return str(found.rsvp_status), found.approval_reason


def room_busy(client: Any, option: Any) -> list[tuple[str, str]]:
    """The approval room's free/busy over the probe's hour, with rsvp_status (freebusy/list)."""
    body = (
        ListFreebusyRequestBody.builder()
        .time_min(rfc3339(START - HOUR))
        .time_max(rfc3339(START + 2 * HOUR))
        .room_id(APPROVAL_ROOM_ID)
        .need_rsvp_status(True)
    )
    request = ListFreebusyRequest.builder().request_body(body.build()).build()
    items = parsed(client.calendar.v4.freebusy.list(request, option)).freebusy_list or []
    return [(i.start_time, str(i.rsvp_status)) for i in items]


def test_with_a_reason_the_booking_waits_for_the_approver(sb: Sandbox, client: Any, as_demo: Any) -> None:
    event = probe(client, as_demo, "board review", START)
    added = parsed(add_attendees(client, as_demo, event.event_id, room("Quarterly board review")))
    assert [(a.rsvp_status, a.approval_reason) for a in added.attendees if a.type == "resource"] == [
        ("needs_action", "Quarterly board review")
    ]
    sb.advance(room_booking.ANSWER_DELAY)  # an ordinary room would have answered by now
    assert status(client, as_demo, event.event_id) == ("needs_action", "Quarterly board review")
    assert room_busy(client, as_demo) == [(rfc3339(START), "needs_action")]  # pending approval holds the room
    sb.advance(room_booking.APPROVAL_DELAY)  # the approver's rule: accept an hour later
    assert status(client, as_demo, event.event_id)[0] == "accept"
    assert room_busy(client, as_demo) == [(rfc3339(START), "accept")]


def test_without_a_reason_the_booking_fails(sb: Sandbox, client: Any, as_demo: Any) -> None:
    event = probe(client, as_demo, "no reason", START)
    added = add_attendees(client, as_demo, event.event_id, room())
    assert added.code == 0  # the request is accepted: the booking fails, as create.md says, not the call
    sb.advance(room_booking.ANSWER_DELAY)
    assert status(client, as_demo, event.event_id)[0] == "decline"
    assert room_busy(client, as_demo) == []


def test_a_reason_over_200_characters_is_refused(client: Any, as_demo: Any) -> None:
    event = probe(client, as_demo, "long reason", START)
    refused = add_attendees(client, as_demo, event.event_id, room("x" * 201))
    assert refused.code == 190002 and "approval_reason" in refused.error["field_violations"][0]["field"]


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_the_approver_answers_now(sb: Sandbox, client: Any, as_demo: Any, answer: str) -> None:
    event = probe(client, as_demo, "decided", START)
    parsed(add_attendees(client, as_demo, event.event_id, room("Board")))
    [pending] = room_booking.pending_approvals(sb.world)
    assert (pending.event.event_id, pending.room.room_id) == (event.event_id, APPROVAL_ROOM_ID)
    assert sb.decide_approval(pending.event.uid, APPROVAL_ROOM_ID, answer) == 1
    assert status(client, as_demo, event.event_id)[0] == answer
    assert room_booking.pending_approvals(sb.world) == []
    assert room_busy(client, as_demo) == ([(rfc3339(START), "accept")] if answer == "accept" else [])
    with pytest.raises(LookupError):  # nothing is waiting any more
        sb.decide_approval(pending.event.uid, APPROVAL_ROOM_ID, answer)


def test_a_second_booking_of_a_pending_slot_fails(sb: Sandbox, client: Any, as_demo: Any) -> None:
    first = probe(client, as_demo, "first", START)
    parsed(add_attendees(client, as_demo, first.event_id, room("Board")))
    second = probe(client, as_demo, "second", START)
    parsed(add_attendees(client, as_demo, second.event_id, room("Board too")))
    sb.advance(room_booking.ANSWER_DELAY)
    assert status(client, as_demo, second.event_id)[0] == "decline"  # first come, first served
    assert status(client, as_demo, first.event_id)[0] == "needs_action"


def test_the_approver_over_the_admin_routes() -> None:
    sb = Sandbox(seed=True, clock=VirtualClock(FIXED_NOW), admin=True)
    with running(sb) as base_url, httpx2.Client(base_url=base_url, headers=bearer(sb.demo_token)) as http:
        client = sdk_client(base_url)
        option = as_user(sb.demo_token)
        event = probe(client, option, "over http", START)
        parsed(add_attendees(client, option, event.event_id, room("Board")))
        [pending] = http.get("/_sandbox/room_approvals").json()["result"]
        assert pending["event_id"] == event.event_id and pending["approval_reason"] == "Board"
        assert pending["due"] == FIXED_NOW + room_booking.APPROVAL_DELAY
        decision = {"uid": pending["uid"], "room_id": APPROVAL_ROOM_ID, "answer": "decline"}
        assert http.post("/_sandbox/room_approvals", json={**decision, "answer": "maybe"}).status_code == 400
        assert http.post("/_sandbox/room_approvals", json=decision).json() == {"ok": True, "result": 1}
        assert status(client, option, event.event_id)[0] == "decline"
        assert http.get("/_sandbox/room_approvals").json()["result"] == []
        assert http.post("/_sandbox/room_approvals", json=decision).status_code == 400  # nothing waits
