"""Rooms that need approval: what a user token can tell, and what a booking's answer means.

Feishu's user-token room search (vc/v1/rooms/search) has no approval field, and a room's approval
settings (vc/v1/reserve_configs) are for app tokens only; what a user sees is the room's
description, where administrators say so ("needs approval", "需审批"). Booking such a room needs
``approval_reason`` (attendee create.md: without it the booking fails, and nothing says why), so a
tool asks for the reason before it books. The booking then waits for the approver: rsvp_status
``needs_action`` means "awaiting approval" there, not "booking in progress".
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.common.composite import JsonObject, Refusal, Request, Upstream
from tools.common.resolve import ROOM_SEARCH

APPROVAL_WORDS = ("approval", "approve", "审批")
DIRECTORY_PAGES = 3  # of 100 rooms, as find_rooms reads


def needs_approval(room: JsonObject) -> bool:
    """Whether a room of vc/v1/rooms/search says it needs approval (in its description)."""
    text = str(room.get("description") or "").casefold()
    return any(word in text for word in APPROVAL_WORDS)


async def approval_rooms(up: Upstream, attendees: Iterable[JsonObject]) -> dict[str, str]:
    """The rooms among ``attendees`` that need approval, room_id -> name, from the room directory.

    Empty when the user has not granted room search (``vc:room:readonly``): booking by room_id
    works without it, so the check is skipped rather than the booking refused."""
    wanted = {str(a.get("room_id")) for a in attendees if a.get("type") == "resource" and a.get("room_id")}
    found: dict[str, str] = {}
    body: JsonObject = {"page_size": 100, "search_level_name": True}
    for _ in range(DIRECTORY_PAGES if wanted else 0):
        data = await up.send_if_allowed(Request(ROOM_SEARCH, body=dict(body)))
        if data is None:
            break
        for room in data.get("rooms") or []:
            if isinstance(room, dict) and room.get("room_id") in wanted and needs_approval(room):
                found[str(room["room_id"])] = str(room.get("name") or room["room_id"])
        if not data.get("has_more") or not data.get("page_token") or wanted <= found.keys():
            break
        body["page_token"] = data["page_token"]
    return found


def require_reasons(attendees: Iterable[JsonObject], approval: dict[str, str]) -> None:
    """Refuse a booking of a room that needs approval without ``approval_reason`` (it would fail)."""
    missing = [
        approval[str(a["room_id"])] for a in attendees if a.get("room_id") in approval and not a.get("approval_reason")
    ]
    if missing:
        names = ", ".join(f'"{name}"' for name in missing)
        raise Refusal(
            f"room {names} needs approval: call again with approval_reason (why you book it, at most 200 "
            "characters), asking the user if you do not know; without one Feishu fails the booking"
        )


def booking_notes(attendees: Iterable[JsonObject], approval: dict[str, str]) -> list[str]:
    """What each room's rsvp_status means for the booking, in words."""
    notes = []
    for attendee in attendees:
        if attendee.get("type") != "resource":
            continue
        room_id = str(attendee.get("room_id") or "")
        name = attendee.get("display_name") or approval.get(room_id) or room_id
        status = attendee.get("rsvp_status")
        if status == "needs_action" and room_id in approval:
            notes.append(f"room {name}: awaiting approval (needs_action until its approver answers; not booked yet)")
        elif status == "needs_action":
            notes.append(f"room {name}: booking in progress (list_attendees shows the answer in a moment)")
        elif status == "accept":
            notes.append(f"room {name}: booked")
        elif status == "decline":
            notes.append(f"room {name}: booking failed (taken, or not approved)")
    return notes
