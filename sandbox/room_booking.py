"""Room bookings are asynchronous, as on Feishu: a room added as an attendee answers a moment later.

Feishu's attendee docs: "a room booking is asynchronous: poll ``rsvp_status`` to learn the
result"; for rooms ``needs_action`` means "booking in progress", ``accept`` booked, ``decline``
failed. So the add-attendees answer shows a new room as ``needs_action``, and the room's answer
appears :data:`ANSWER_DELAY` seconds of sandbox clock later, on the first request after that
(every route settles due answers before it runs: deterministic under a pinned clock).

Where the docs are silent (see README.md): the answer is decided from the bookings at the time of
the request (first come, first served), and a booking in progress holds the room for others
unless it is going to fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox import eventstore

if TYPE_CHECKING:
    from sandbox.state import Attendee, RsvpStatus, World

# Seconds of sandbox clock between a room's request and its answer ("a moment later").
ANSWER_DELAY = 1.0


def request(world: World, now: float, room: Attendee, answer: RsvpStatus) -> None:
    """``room`` is asked for: it shows ``needs_action`` until it answers ``answer``."""
    room.rsvp_status = "needs_action"
    room.room_answer = answer
    room.answer_at = now + ANSWER_DELAY
    world.room_answers_pending = True


def holding_status(room: Attendee) -> RsvpStatus:
    """The status that decides whether ``room`` holds its slot: its coming answer while it waits."""
    if room.rsvp_status == "needs_action" and room.room_answer is not None:
        return room.room_answer
    return room.rsvp_status


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
        if changed:
            eventstore.touch(world, event)
    world.room_answers_pending = pending
