"""How bench/workload.py judges a run: the sandbox's own state against what the model intended."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox import HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID, WANG_FANG_OPEN_ID, Sandbox

if TYPE_CHECKING:
    from bench.workload import Planned

GUESTS = (LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID)


@dataclass
class Verdict:
    duplicates: int = 0  # events that exist more than once for one intended create
    lost: int = 0  # intended writes (create, rename, move, invite, uninvite, delete) missing
    unintended: int = 0  # events that exist although the model believes they do not
    uncertain: int = 0  # intents the model gave up on without learning the outcome
    events_checked: int = 0  # live events compared field by field
    guests_checked: int = 0  # invitations found in place as intended
    deletions_checked: int = 0  # deleted events confirmed gone
    details: list[str] = field(default_factory=list)


def verify(sb: Sandbox, events: list[Planned]) -> Verdict:
    """Compare the sandbox's own state (not a read through the faulty API) with the plan."""
    verdict = Verdict()
    found: dict[int, list[Any]] = defaultdict(list)
    for event in sb.world.events.values():
        if not event.deleted and event.summary.startswith("wl-"):
            found[int(event.summary[3:7])].append(event)
    for p in events:
        there = found.pop(p.n, [])
        if p.uncertain:
            verdict.uncertain += 1
            continue
        if len(there) > 1:
            verdict.duplicates += len(there) - 1
            verdict.details.append(f"wl-{p.n:04d}: {len(there)} copies")
        if p.event_id is None or p.deleted:
            verdict.deletions_checked += p.deleted and not there
            if there:
                verdict.lost += p.deleted  # a delete that did not happen
                verdict.unintended += not p.deleted
                verdict.details.append(f"wl-{p.n:04d}: exists but should not")
            continue
        if not there:
            verdict.lost += 1
            verdict.details.append(f"wl-{p.n:04d}: missing")
            continue
        event = there[0]
        guests = {a.open_id for a in event.attendees if a.type == "user" and not a.is_organizer}
        guests = {g for g in guests if g in GUESTS and _rsvp(event, g) != "removed"}
        verdict.events_checked += 1
        verdict.guests_checked += len(guests & set(p.guests))
        for what, wanted, actual in (
            ("summary", p.summary, event.summary),
            ("start", p.start, event.start.timestamp),
            ("end", p.end, event.end.timestamp),
            ("guests", set(p.guests), guests),
        ):
            if wanted != actual:
                verdict.lost += 1
                verdict.details.append(f"wl-{p.n:04d}: {what} is {actual!r}, intended {wanted!r}")
    for n, there in found.items():  # events for intents the model never had
        verdict.unintended += len(there)
        verdict.details.append(f"wl-{n:04d}: unexpected")
    return verdict


def _rsvp(event: Any, open_id: str) -> str:
    return next((str(a.rsvp_status) for a in event.attendees if a.open_id == open_id), "")
