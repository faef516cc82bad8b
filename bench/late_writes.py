"""Late writes: requests that run after the client gave up, what they undid, and what the model learnt.

    python -m bench.late_writes [--calls 400] [--late-rate 0.15] [--seed 7]

The resilience workload's scripted model (bench/workload.py) against a sandbox whose one fault is
``late``: ``late-rate`` of the write requests (event PATCH, attendee add and remove) get no answer
and run 1 to 12 requests later, possibly after the model's newer writes to the same event. The
model does what results say: it repairs an event whose result says a late request undid a change,
and when told that a request "may still apply within N s" it looks at the event again after N s.
Requests still held when the model stops run then (inside the horizon), and the model makes the
checks it was told to make.

A late run is an overwrite when it changed the event (the sandbox's own state, before and after)
after a newer write of the same kind to that event had succeeded;
each is classed by what the model learnt about that event: *named* (a result said so after it
happened, or the read-back put it right), *warned only* (a result had said it might happen, but
nothing named it after), or *unseen*. ``lost writes`` compares the final state with the model's
intent, as in the workload.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client

from bench.workload import Model, Planned, SandboxTokens
from bench.workload_check import GUESTS, verify
from sandbox import Sandbox
from sandbox.faults import LateRequest
from server import writes
from server.app import build_server
from server.clock import VirtualClock
from server.feishu_client import Outcome
from server.settings import Settings

LATE_BY = (1, 2, 3, 4, 6, 8, 12)  # requests after which a held request runs (each equally likely)
WRITES = (("PATCH", "/events/"), ("POST", "/attendees"))  # batch_delete is a POST under /attendees
NOTE_KINDS = (
    ("sent again and now shows", "named"),
    ("no longer shows your last", "named"),
    ("reading the event back shows", "named"),
    ("may still apply it within", "warned"),
)


def inject_late(sb: Sandbox, rate: float) -> None:
    """``rate`` of write requests held back; each rule's chance is its share of what earlier ones left."""
    left = 1.0
    share = rate / len(LATE_BY)
    for late_by in LATE_BY:
        for method, path in WRITES:
            chance = min(1.0, share / left)
            # Stalls just past the client's 0.15 s attempt timeout: the client times out, as in the issue.
            sb.faults.inject("late", probability=chance, method=method, path=path, late_by=late_by, delay=0.2)
        left -= share


@dataclass
class Overwrite:
    step: int  # the model's tool-call count when it happened
    event_id: str


@dataclass
class Learnt:
    notes: list[tuple[int, str, str]] = field(default_factory=list)  # step, event_id, kind
    checks_due: list[tuple[float, str]] = field(default_factory=list)  # virtual time, event_id
    repairs: int = 0


class LateModel(Model):
    """The workload's model, plus what a careful assistant does with the notes results carry."""

    learnt: Learnt

    def live(self) -> list[Planned]:
        """A small working set (the newest three events), so writes to one event follow each other
        closely: the case where a late request can undo a newer write."""
        return super().live()[-3:]

    def by_id(self, event_id: str) -> Planned | None:
        return next((p for p in self.events if p.event_id == event_id), None)

    async def act(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
        data = await super().act(tool, arguments)
        event_id = str(arguments.get("event_id", ""))
        notes = [*(data or {}).get("warnings", []), (data or {}).get("detail", "")]
        repair = False
        for note in notes:
            for marker, kind in NOTE_KINDS:
                if marker in note:
                    self.learnt.notes.append((self.tally.calls, event_id, kind))
                    repair |= kind == "named" and "sent again and now shows" not in note
            wait = re.search(r"may still apply it within the next (\d+) s", note)
            if wait:
                self.learnt.checks_due.append((self.clock.time + float(wait.group(1)), event_id))
        p = self.by_id(event_id)
        if repair and p is not None and not p.deleted:
            await self.repair(p)
        return data

    async def step(self) -> None:
        await self.due_checks()
        await super().step()

    async def due_checks(self, everything: bool = False) -> None:
        due = [(t, e) for t, e in self.learnt.checks_due if everything or t <= self.clock.time]
        self.learnt.checks_due = [c for c in self.learnt.checks_due if c not in due]
        for event_id in dict.fromkeys(e for _, e in due):
            p = self.by_id(event_id)
            if p is not None and not p.deleted and not p.uncertain:
                await self.act("get_event", {"event_id": event_id})
                await self.act("list_attendees", {"event_id": event_id})

    async def repair(self, p: Planned) -> None:
        """Put the event back as intended: the fields, then the guest list."""
        self.learnt.repairs += 1
        times = {"start": _iso(p.start), "end": _iso(p.end)}
        await Model.act(self, "update_event", {"event_id": p.event_id, "summary": p.summary, **times})
        listed = await Model.act(self, "list_attendees", {"event_id": p.event_id})
        present = {a.get("user_id"): a.get("attendee_id") for a in (listed or {}).get("items", [])}
        missing = [{"type": "user", "user_id": g} for g in p.guests if g not in present]
        extra = [str(present[g]) for g in GUESTS if g in present and g not in p.guests]
        if missing:
            await Model.act(self, "add_attendees", {"event_id": p.event_id, "attendees": missing})
        if extra:
            await Model.act(self, "remove_attendees", {"event_id": p.event_id, "attendee_ids": extra})


def _iso(ts: int) -> str:
    from bench.workload import iso

    return iso(ts)


def _digest(sb: Sandbox, event_id: str) -> tuple[Any, ...]:
    for event in sb.world.events.values():
        if event.event_id == event_id:
            guests = frozenset(a.open_id for a in event.attendees if a.type == "user" and a.rsvp_status != "removed")
            return (event.summary, event.start.timestamp, event.end.timestamp, event.deleted, guests)
    return ()


def _newer_write_done(sb: Sandbox, late: LateRequest) -> bool:
    """Whether a write of the same kind to the same event, sent after ``late``, had already succeeded:
    only then did ``late`` undo something (landing before its own replay is just the write landing)."""
    logid = late.scope.get("state", {}).get("logid")
    sent = next((i for i, e in enumerate(sb.log) if e.logid == logid), len(sb.log))
    kind = "/attendees" in late.path
    return any(
        e.fault is None
        and e.code == 0
        and e.method == late.method
        and _event_of(e.path) == _event_of(late.path)
        and ("/attendees" in e.path) == kind
        for e in sb.log[sent + 1 :]
    )


def _event_of(path: str) -> str:
    parts = path.split("/events/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 else ""


async def _unguarded(
    op: Any, inp: Any, params: dict[str, str], wire: Any, state: Any, key: Any
) -> tuple[dict[str, Any], list[str]]:
    """The write path without server/writes.py's checks (no read-back, no notes): the baseline."""
    return await writes._call(op, inp, params, wire, state, Outcome()), []


async def run_late_writes(
    calls: int = 400, late_rate: float = 0.15, seed: int = 7, guard: bool = True
) -> dict[str, Any]:
    """One run; ``guard=False`` measures the same run without read-backs and notes (the baseline)."""
    guarded = writes._guarded_write
    if not guard:
        writes._guarded_write = _unguarded
    try:
        return await _run(calls, late_rate, seed)
    finally:
        writes._guarded_write = guarded


async def _run(calls: int, late_rate: float, seed: int) -> dict[str, Any]:
    clock = VirtualClock(start=time.time())
    sb = Sandbox(seed=True, clock=clock, fault_seed=seed)
    tokens = SandboxTokens(sb)
    settings = Settings.load({}, toolsets="all", timezone="UTC", connect_timeout=0.05, read_timeout=0.1)
    server = build_server(settings, tokens, transport=sb.transport(), clock=clock)
    overwrites: list[Overwrite] = []
    model: LateModel | None = None
    run_held = sb.app.run_late

    async def watched(held: list[LateRequest]) -> None:
        for late in held:
            event_id = _event_of(late.path)
            before = _digest(sb, event_id)
            await run_held([late])
            if _digest(sb, event_id) != before and _newer_write_done(sb, late):
                overwrites.append(Overwrite(model.tally.calls if model else 0, event_id))

    sb.app.run_late = watched  # type: ignore[method-assign]  # count what each late run changed
    inject_late(sb, late_rate)
    started = time.perf_counter()
    async with Client(server) as client:
        model = LateModel(client, clock, random.Random(seed), attendees=True, seed=seed)
        model.learnt = Learnt()
        while model.tally.calls < calls:
            await model.step()
        held_at_end = len(sb.faults.late)
        sb.faults.rules.clear()  # no new faults; what is held still runs (inside the horizon)
        await sb.run_late()
        clock.time += 300  # the model waits as told, then makes the checks it was told to make
        await model.due_checks(everything=True)
    wall = time.perf_counter() - started
    verdict = verify(sb, model.events)
    classes: Counter[str] = Counter()
    for o in overwrites:
        later = {kind for step, e, kind in model.learnt.notes if e == o.event_id and step >= o.step}
        before = {kind for step, e, kind in model.learnt.notes if e == o.event_id and step <= o.step}
        classes["named" if "named" in later else "warned only" if "warned" in before else "unseen"] += 1
    held = [e for e in sb.log if e.fault == "late"]
    return {
        "tool calls": model.tally.calls,
        "calls by tool": dict(sorted(model.tally.per_tool.items())),
        "upstream requests": len(sb.log),
        "write requests held back (late fault)": len(held),
        "late executions": len(sb.faults.late_runs),
        "of which ran after the model stopped": held_at_end,
        "late executions that changed an event (overwrites)": len(overwrites),
        "overwrites named to the model": classes["named"],
        "overwrites only warned of in advance": classes["warned only"],
        "overwrites unseen": classes["unseen"],
        "notes seen by the model": dict(Counter(kind for _, _, kind in model.learnt.notes)),
        "repairs made by the model": model.learnt.repairs,
        "lost writes at the end": verdict.lost,
        "duplicates": verdict.duplicates,
        "unintended events": verdict.unintended,
        "intents left uncertain": verdict.uncertain,
        "wall seconds": round(wall),
        "problems": verdict.details + model.tally.unadvised,
    }


def _summed(total: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """Figures of several runs: numbers and per-kind counts added, lists joined."""
    out = dict(run)
    for name, value in total.items():
        if isinstance(value, dict):
            out[name] = dict(Counter(value) + Counter(run[name]))
        elif isinstance(value, list | int | float):
            out[name] = value + run[name]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="late-executing writes against the sandbox")
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--late-rate", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1, help="runs with seeds seed, seed+1, ...; counts summed")
    parser.add_argument("--no-guard", action="store_true", help="baseline: writes without read-back or notes")
    args = parser.parse_args(argv)
    logging.getLogger("feishu_calendar_mcp").setLevel(logging.ERROR)
    figures: dict[str, Any] = {}
    for seed in range(args.seed, args.seed + args.runs):
        run = anyio.run(run_late_writes, args.calls, args.late_rate, seed, not args.no_guard)
        figures = _summed(figures, run)
    for name, value in figures.items():
        if name != "problems":
            print(f"{name}: {value}")
    for problem in figures["problems"]:
        print(f"PROBLEM {problem}")
    return 1 if figures["overwrites unseen"] or figures["lost writes at the end"] else 0


if __name__ == "__main__":
    sys.exit(main())
