"""Room bookings are asynchronous, as on Feishu: a room added as an attendee answers a moment later.

Feishu's attendee docs: "a room booking is asynchronous: poll ``rsvp_status`` to learn the
result"; for rooms ``needs_action`` means "booking in progress", ``accept`` booked, ``decline``
failed. So the add-attendees answer shows a new room as ``needs_action``, and the room's answer
appears :data:`ANSWER_DELAY` seconds of sandbox clock later, on the first request after that
(every route settles due answers before it runs: deterministic under a pinned clock).

A room that needs approval (``RoomDetail.needs_approval``) follows attendee create.md's
``approval_reason``: booked with a user token and a reason, the booking waits for an approver
(``needs_action``) until one answers; without a reason, or with a tenant token, the booking fails
(``decline``, answered like any other: the docs say it fails, not that the request is refused, and
name no error code). The approver is emulated: :func:`decide` (``Sandbox.decide_approval``, admin
route ``/_sandbox/room_approvals``) answers now; otherwise the rule answers ``accept``
:data:`APPROVAL_DELAY` seconds of sandbox clock after the request (``sb.advance`` drives it).

Where the docs are silent (see README.md): the answer is decided from the bookings at the time of
the request (first come, first served), and a booking in progress, approval pending included,
holds the room for others unless it is going to fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sandbox import eventstore

if TYPE_CHECKING:
    from sandbox.state import Attendee, Event, RsvpStatus, World

# Seconds of sandbox clock between a room's request and its answer ("a moment later").
ANSWER_DELAY = 1.0
# Seconds of sandbox clock before the emulated approver answers a pending approval by rule (accept).
APPROVAL_DELAY = 3600.0


def needs_approval(world: World, room_id: str) -> bool:
    detail = world.directory.room_details.get(room_id)
    return detail is not None and detail.needs_approval


def request(world: World, now: float, room: Attendee, *, taken: bool, by_user: bool) -> None:
    """``room`` is asked for: it shows ``needs_action`` until it answers (or its approver does)."""
    room.rsvp_status = "needs_action"
    room.awaiting_approval = False
    room.room_answer = "decline" if taken else "accept"
    room.answer_at = now + ANSWER_DELAY
    if not taken and needs_approval(world, room.room_id or ""):
        if by_user and room.approval_reason:
            room.awaiting_approval = True
            room.answer_at = now + APPROVAL_DELAY
        else:  # create.md: without approval_reason (or as an app) the booking fails
            room.room_answer = "decline"
    world.room_answers_pending = True


def holding_status(room: Attendee) -> RsvpStatus:
    """The status that decides whether ``room`` holds its slot: its coming answer while it waits."""
    if room.rsvp_status == "needs_action" and room.room_answer is not None:
        return room.room_answer
    return room.rsvp_status


@dataclass(frozen=True)
class Pending:
    """A booking waiting for its approver."""

    event: Event
    room: Attendee


def pending_approvals(world: World) -> list[Pending]:
    """Bookings awaiting approval, one per event (a series' exceptions share their series' booking)."""
    found = []
    for event in world.events.values():
        if event.deleted or event.is_exception:
            continue
        found += [Pending(event, a) for a in event.attendees if a.awaiting_approval and a.rsvp_status == "needs_action"]
    return sorted(found, key=lambda p: (p.room.answer_at, p.event.event_id))


def decide(world: World, now: float, uid: str, room_id: str, answer: RsvpStatus) -> int:
    """The approver answers ``room_id``'s pending booking by event ``uid`` now; how many entries changed."""
    if answer not in ("accept", "decline"):
        raise ValueError("an approver answers accept or decline")
    changed = 0
    for event in world.events.values():
        if event.uid != uid:
            continue
        for attendee in event.attendees:
            if attendee.room_id == room_id and attendee.awaiting_approval and attendee.rsvp_status == "needs_action":
                attendee.room_answer, attendee.answer_at = answer, now
                changed += 1
    if not changed:
        raise LookupError(f"no booking of {room_id} by event {uid} is awaiting approval")
    world.room_answers_pending = True
    settle(world, now)
    return changed


def settle(world: World, now: float) -> None:
    """Give every room whose moment has come its answer (each event changes, as sync tokens see)."""
    if not world.room_answers_pending:
        return
    pending = False
    for event in world.events.values():
        changed = False
        for attendee in event.attendees:
            if attendee.room_answer is None:
                continue
            if attendee.answer_at > now:
                pending = True
                continue
            if attendee.rsvp_status == "needs_action":  # not removed meanwhile
                attendee.rsvp_status = attendee.room_answer
                changed = True
            attendee.room_answer = None
            attendee.awaiting_approval = False
        if changed:
            eventstore.touch(world, event)
    world.room_answers_pending = pending
