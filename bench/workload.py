"""Resilience workload: mixed tool calls through a real MCP client against the sandbox, with faults.

    python -m bench.workload [--calls 500] [--fault-rate 0.3] [--seed 7]

A scripted "model" creates events (with and without its own idempotency keys), renames and
moves them, invites and removes attendees, deletes them and reads them back, while the sandbox
fails ``fault-rate`` of all upstream requests (429 with reset headers, 500/502/503, timeouts,
connections dropped before and after the write, refused connections, expired tokens). When a
call fails the model does only what the error text advises. Afterwards the sandbox's state is
compared with what the model believes it did: duplicates, lost writes and unintended events are
counted, and so is every error that did not say what to do.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from mcp import Client

from bench.workload_check import GUESTS, verify
from sandbox import DEMO_USER_OPEN_ID, Sandbox, running
from server.app import build_server
from server.clock import VirtualClock
from server.settings import Settings

SLOW = 0.3  # seconds a "slow" fault stalls; the client gives up on an attempt after 0.15 s
# Share of the injected faults per kind (sums to 1): the fault rate is split along these.
FAULT_MIX: tuple[tuple[str, float, dict[str, Any]], ...] = (
    ("rate_limit", 0.15, {"retry_after": 1}),
    ("rate_limit", 0.10, {"retry_after": 3}),
    ("server_error", 0.15, {"status": 500}),
    ("server_error", 0.10, {"status": 502}),
    ("server_error", 0.10, {"status": 503}),
    ("slow", 0.10, {"delay": SLOW}),
    ("drop", 0.10, {}),
    ("drop", 0.15, {"after_write": True}),
    ("connect_error", 0.03, {}),
    ("token_expired", 0.02, {}),
)
FIRST_SLOT = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # far from the seed week's events
MODEL_TRIES = 6  # how often the model follows "retry" advice before it gives up on one intent


class SandboxTokens:
    """A token source whose refresh mints a new token, as the OAuth refresh would."""

    identity = "sandbox:workload"

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.token = sb.demo_token
        self.refreshes = 0

    async def access_token(self) -> str:
        return self.token

    async def refresh_after_rejection(self, rejected: str) -> str:
        self.refreshes += 1
        self.token = self.sb.issue_user_token(DEMO_USER_OPEN_ID)
        return self.token


def inject_faults(sb: Sandbox, rate: float) -> None:
    """Rules checked in order: each one's chance is its share of what the earlier ones left."""
    left = 1.0
    for kind, share, options in FAULT_MIX:
        sb.faults.inject(kind, probability=min(1.0, rate * share / left), **options)
        left -= rate * share


@dataclass
class Planned:
    """One event as the model intends it to be."""

    n: int
    summary: str
    start: int
    end: int
    key: str | None
    event_id: str | None = None
    guests: dict[str, str] = field(default_factory=dict)  # open_id -> attendee_id
    deleted: bool = False
    uncertain: bool = False  # the model gave up on a write without learning its outcome


@dataclass
class Tally:
    calls: int = 0
    ok: int = 0
    advised: Counter[str] = field(default_factory=Counter)  # error kind -> count
    unadvised: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)  # the last error of each intent given up
    stale_reads: int = 0
    per_tool: Counter[str] = field(default_factory=Counter)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class Model:
    """Plays the assistant: picks an action, calls the tool, follows the advice in errors."""

    def __init__(self, client: Client, clock: VirtualClock, rng: random.Random, attendees: bool, seed: int) -> None:
        self.client = client
        self.clock = clock
        self.rng = rng
        self.attendees = attendees
        self.seed = seed
        self.events: list[Planned] = []
        self.tally = Tally()

    def live(self) -> list[Planned]:
        return [p for p in self.events if p.event_id and not p.deleted and not p.uncertain]

    async def act(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
        """Call ``tool``; on an error, do what its "What to do" says. None: the model gave up."""
        for _ in range(MODEL_TRIES):
            result = await self.client.call_tool(tool, arguments)
            self.tally.calls += 1
            self.tally.per_tool[tool] += 1
            if not result.is_error:
                self.tally.ok += 1
                return result.structured_content or {}
            message = str(getattr(result.content[0], "text", ""))
            if "What to do:" not in message:
                self.tally.unadvised.append(message)
                return None
            self.tally.advised[_kind(message)] += 1
            key = re.search(r'idempotency_key="([^"]+)"', message)
            wait = re.search(r"retry after ([\d.]+) s", message)
            if key:
                arguments = {**arguments, "idempotency_key": key.group(1)}
            if wait:
                self.clock.time += float(wait.group(1))  # the model waits as told (virtual time)
            if not (key or wait or re.search(r"retry this call|calling again|call it again", message)):
                self.tally.abandoned.append(message)
                return None  # a definite refusal: retrying would not help
        self.tally.abandoned.append(f"still failing after {MODEL_TRIES} tries: {message}")
        return None

    async def step(self) -> None:
        live = self.live()
        if not live:
            return await self.create()
        invited = [p for p in live if p.guests]
        actions: list[tuple[float, Any]] = [
            (30, self.create),
            (18, lambda: self.update(self.rng.choice(live))),
            (10, lambda: self.delete(self.rng.choice(live))),
            (22, lambda: self.read(self.rng.choice(live))),
        ]
        if self.attendees:
            actions.append((12, lambda: self.invite(self.rng.choice(live))))
        if self.attendees and invited:
            actions.append((8, lambda: self.uninvite(self.rng.choice(invited))))
        weights, choices = zip(*actions, strict=True)
        await self.rng.choices(choices, weights)[0]()

    async def create(self) -> None:
        n = len(self.events)
        start = int(FIRST_SLOT.timestamp()) + n * 3600
        key = f"workload-{self.seed}-{n:05d}".ljust(32, "0") if self.rng.random() < 0.5 else None
        planned = Planned(n, f"wl-{n:04d} v0", start, start + 1800, key)
        self.events.append(planned)
        arguments = {"summary": planned.summary, "start": iso(planned.start), "end": iso(planned.end)}
        if key:
            arguments["idempotency_key"] = key
        data = await self.act("create_event", arguments)
        if data is None:
            planned.uncertain = True
        else:
            planned.event_id = str(data["event"]["event_id"])

    async def update(self, p: Planned) -> None:
        version = int(p.summary.rsplit("v", 1)[1]) + 1
        change: dict[str, Any] = {"summary": f"wl-{p.n:04d} v{version}"}
        if self.rng.random() < 0.3:
            change |= {"start": iso(p.start + 900), "end": iso(p.end + 900)}
        if await self.act("update_event", {"event_id": p.event_id, **change}) is None:
            p.uncertain = True
            return
        p.summary = change["summary"]
        if "start" in change:
            p.start, p.end = p.start + 900, p.end + 900

    async def invite(self, p: Planned) -> None:
        free = [g for g in GUESTS if g not in p.guests]
        if not free:
            return await self.read(p)
        guest = self.rng.choice(free)
        arguments = {"event_id": p.event_id, "attendees": [{"type": "user", "user_id": guest}]}
        data = await self.act("add_attendees", arguments)
        if data is None:
            p.uncertain = True
            return
        mine = [a for a in data.get("items", []) if a.get("user_id") == guest]
        p.guests[guest] = str(mine[0]["attendee_id"]) if mine else ""

    async def uninvite(self, p: Planned) -> None:
        guest, attendee_id = self.rng.choice(sorted(p.guests.items()))
        if await self.act("remove_attendees", {"event_id": p.event_id, "attendee_ids": [attendee_id]}) is None:
            p.uncertain = True
            return
        del p.guests[guest]

    async def delete(self, p: Planned) -> None:
        if await self.act("delete_event", {"event_id": p.event_id}) is None:
            p.uncertain = True
            return
        p.deleted = True

    async def read(self, p: Planned) -> None:
        choice = self.rng.random()
        if choice < 0.5:
            data = await self.act("get_event", {"event_id": p.event_id})
            seen = ((data or {}).get("event") or {}).get("external_content", {}).get("summary")
            if data is not None and seen != p.summary:
                self.tally.stale_reads += 1
        elif choice < 0.75:
            day = iso(p.start)[:10]
            await self.act("list_events", {"start": day, "end": day, "timezone": "UTC"})
        else:
            day = iso(p.start)[:10]
            await self.act("view_instances", {"start": day, "end": day, "timezone": "UTC"})


def _kind(message: str) -> str:
    """A short name for an error, from what its advice says (for the figures)."""
    advice = message.partition("What to do:")[2]
    for marker, name in (
        ("retry after", "rate limited: retry after N s"),
        ("idempotency_key=", "create outcome unknown: repeat with its key"),
        ("may already be done", "delete outcome unknown: repeat"),
        ("may or may not have been applied", "change outcome unknown: safe to repeat"),
        ("retry this call", "Feishu unavailable: retry later"),
        ("sign in", "token refused: sign in"),
    ):
        if marker in advice:
            return name
    return message.split("\n", 1)[0][:80]


async def _supports_attendees(sb: Sandbox) -> bool:
    """Whether this sandbox serves the attendee routes yet (asked before any fault is injected)."""
    async with sb.client(headers={"Authorization": f"Bearer {sb.demo_token}"}) as http:
        primary = (await http.post("/open-apis/calendar/v4/calendars/primary")).json()["data"]
        calendar_id = primary["calendars"][0]["calendar"]["calendar_id"]
        reply = await http.get(f"/open-apis/calendar/v4/calendars/{calendar_id}/events/none_0/attendees")
    sb.log.clear()
    return bool(reply.json().get("code") != 99991201)


async def run_workload(calls: int = 500, fault_rate: float = 0.3, seed: int = 7, http: bool = False) -> dict[str, Any]:
    """Run the workload; the figures (and the verdict's details) as a dict.

    ``http``: talk to the sandbox over a real loopback socket (real httpx2 timeouts, connections
    cut mid-reply) instead of in process.
    """
    clock = VirtualClock(start=time.time())
    sb = Sandbox(seed=True, clock=clock, fault_seed=seed)
    tokens = SandboxTokens(sb)
    attendees = await _supports_attendees(sb)
    with contextlib.ExitStack() as stack:
        domain = stack.enter_context(running(sb)) if http else "feishu"
        transport = None if http else sb.transport()
        settings = Settings.load(
            {}, domain=domain, toolsets="all", timezone="UTC", connect_timeout=0.05, read_timeout=0.1
        )
        server = build_server(settings, tokens, transport=transport, clock=clock)
        inject_faults(sb, fault_rate)
        started = time.perf_counter()
        async with Client(server) as client:
            model = Model(client, clock, random.Random(seed), attendees, seed)
            while model.tally.calls < calls:
                await model.step()
        wall = time.perf_counter() - started
    sb.faults.clear()
    verdict = verify(sb, model.events)
    faults = Counter(e.fault for e in sb.log if e.fault)
    tally = model.tally
    return {
        "transport": "loopback HTTP" if http else "in process (ASGI)",
        "tool calls": tally.calls,
        "calls by tool": dict(sorted(tally.per_tool.items())),
        "succeeded": tally.ok,
        "errors with advice": sum(tally.advised.values()),
        "errors by kind": dict(tally.advised.most_common()),
        "unadvised errors": len(tally.unadvised),
        "upstream requests": len(sb.log),
        "faults injected": sum(faults.values()),
        "fault share": round(sum(faults.values()) / max(1, len(sb.log)), 3),
        "faults by kind": dict(faults.most_common()),
        "client retries": len(clock.sleeps),
        "virtual seconds waited": round(sum(clock.sleeps), 1),
        "token refreshes": tokens.refreshes,
        "events intended": len(model.events),
        "of which created with the model's own key": sum(p.key is not None for p in model.events),
        "attendee tools exercised": attendees,
        "events checked": verdict.events_checked,
        "invitations checked": verdict.guests_checked,
        "deletions checked": verdict.deletions_checked,
        "duplicates": verdict.duplicates,
        "lost writes": verdict.lost,
        "unintended events": verdict.unintended,
        "intents left uncertain": verdict.uncertain,
        "stale reads": tally.stale_reads,
        "wall seconds": round(wall, 1),
        "problems": verdict.details + tally.unadvised + tally.abandoned,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="resilience workload against the sandbox")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--http", action="store_true", help="over a loopback socket instead of in process")
    args = parser.parse_args(argv)
    # The client logs each give-up as a warning; the figures below count them instead.
    logging.getLogger("feishu_calendar_mcp").setLevel(logging.ERROR)
    figures = anyio.run(run_workload, args.calls, args.fault_rate, args.seed, args.http)
    for name, value in figures.items():
        if name != "problems":
            print(f"{name}: {value}")
    for problem in figures["problems"]:
        print(f"PROBLEM {problem}")
    bad = figures["duplicates"] + figures["lost writes"] + figures["unintended events"] + figures["unadvised errors"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
