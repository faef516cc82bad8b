"""Property-based fuzz of every tool from its published input schema (used by CI and bench/fuzz_long.py).

For each example hypothesis picks a tool and either a schema-valid argument object or one that
breaks exactly one rule of the schema, calls the tool through a real MCP client, and checks:

* nothing ends in a bare "Error executing tool" or an internal error (an unhandled exception);
* arguments the schema rejects are refused before any request goes out, naming the problem;
* every request that does go out is the tool's own route and method (plus the primary-calendar
  lookup, and the overlap check after a create or a move).

Values are drawn from the JSON schema the client sees (tools/list), with a few field-name hints
(times, zones, recurrence rules) so valid examples also get past the cross-field rules that a
schema cannot express and reach the network.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx2
import jsonschema
from hypothesis import strategies as st
from mcp import Client
from mcp.server import MCPServer

from server.app import build_server
from server.clock import VirtualClock
from server.feishu_client import PRIMARY_ROUTE
from server.settings import Settings
from server.state import AppState
from server.tokens import StaticToken
from tools import OPERATIONS
from tools.calendars import CALENDAR_LIST
from tools.common.composite import Endpoint
from tools.context import get_current_context
from tools.events_agenda import view_instances
from tools.spec import Operation

Json = Any
ALL_OPERATIONS: tuple[Operation[Any, Any], ...] = (*OPERATIONS, get_current_context)
BARE = re.compile(r"^Error executing tool \w+:?\s*$")
REFUSED = "nothing was sent to Feishu"
# What a call says when a name it looked up means nothing (after look-ups only).
NOT_FOUND = "Nothing was changed"
PRIMARY = "cal_primary_fuzz"

# Classes of input that once ended in "internal error" (issue 10), tried wherever they fit:
# strings far past any sensible length (a zone name the OS cannot open, a token that no longer
# fits in a URL), dates at the ends of the calendar, and digits of other scripts (which Python's
# \d and int() read).
HUGE = st.sampled_from([65, 257, 2049, 66_000]).map(lambda n: "x" * n)
ODD_DIGITS = st.text(alphabet=st.characters(categories=["Nd"], exclude_characters="0123456789"), min_size=1)
EXTREME_TIMES = st.sampled_from(
    ["9999-12-31", "0001-01-01", "1970-01-01", "2500-01-01", "9999-12-31T23:59-23:59", "0001-01-01T00:00+00:01"]
)
TIMES = st.one_of(
    st.sampled_from(["2026-11-23", "2026-11-24", "2026-02-30", "2026-11-23T15:00", "2026-11-23 09:30"]),
    st.sampled_from(["2026-11-23T15:00:00+08:00", "2026-11-23T16:00:00Z", "1795417200", "0", "99999999999"]),
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    EXTREME_TIMES,
    ODD_DIGITS,
    st.text(max_size=12),
)
TIME_FIELDS = ("start", "end", "anchor_time")
HINTS: dict[str, st.SearchStrategy[Json]] = dict.fromkeys(TIME_FIELDS, TIMES) | {
    "timezone": st.sampled_from(["Asia/Shanghai", "UTC", "Europe/London", "America/New_York", "Mars/Base", ""])
    | HUGE
    | st.text(min_size=1, max_size=300),
    "recurrence": st.sampled_from(["FREQ=DAILY;COUNT=3", "FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY;COUNT=2;UNTIL=20261231"])
    | st.sampled_from(["FREQ=DAILY;BYHOUR=99999999999999999999", "FREQ=DAILY;COUNT=١٢", "FREQ=YEARLY;UNTIL=99991231"])
    | st.text(max_size=20),
}
# The sweep's values: one of each class above, for every text field of every tool.
HOSTILE = (
    *("x" * n for n in (65, 257, 2049, 66_000)),
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59-23:59",
    "١٧٩٥٤١٧٢٠٠",  # Arabic-Indic digits
    "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff12\uff13",  # fullwidth digits
    "FREQ=DAILY;BYHOUR=99999999999999999999",
)
EVENT = {"event_id": "e_0"}
DAY = {"start": "2026-11-23", "end": "2026-11-24"}
# The fewest arguments each tool accepts: exactly its schema's `required` (tests/e2e/test_arguments_e2e.py).
MINIMAL_ARGUMENTS: dict[str, dict[str, Json]] = {
    "get_current_context": {},
    "create_event": {"start": "2026-11-23T15:00:00+08:00", "end": "2026-11-23T16:00:00+08:00"},
    "delete_event": EVENT,
    "update_event": EVENT,
    "get_event": EVENT,
    "list_events": {},
    "search_events": {"query": "sync"},
    "reply_event": {**EVENT, "rsvp_status": "accept"},
    "list_recurring_instances": {**EVENT, **DAY},
    "view_instances": DAY,
    "create_meeting_chat": EVENT,
    "unbind_meeting_chat": {**EVENT, "meeting_chat_id": "oc_1"},
    "create_meeting_minutes": EVENT,
    "get_room_freebusy": {"room_ids": ["omm_1"], **DAY},
    "add_attendees": {**EVENT, "attendees": [{"type": "user", "user_id": "ou_1"}]},
    "remove_attendees": {**EVENT, "attendee_ids": ["user_1"]},
    "list_attendees": EVENT,
    "list_chat_members": {**EVENT, "attendee_id": "chat_1"},
    "subscribe_events": {},
    "unsubscribe_events": {},
    "generate_caldav_config": {},
    "create_exchange_binding": {},
    "delete_exchange_binding": {"exchange_binding_id": "ZXhj"},
    "get_exchange_binding": {"exchange_binding_id": "ZXhj"},
    "find_people": {"query": "Li Lei"},
    "get_free_busy": {**DAY, "people": ["Li Lei"]},
    "find_meeting_times": {**DAY, "attendees": ["Li Lei"], "duration_minutes": 30},
    "find_rooms": {},
    "list_calendars": {},
}
# Values of the wrong JSON type that no lenient reading turns into the right one.
WRONG: dict[str, list[Json]] = {
    "string": [12, 3.5, True, None, [], {"a": 1}],
    "integer": ["twelve", 3.5, [], {"a": 1}, None],
    "number": ["far", [], {"a": 1}, None],
    "boolean": ["maybe", 2, [], {"a": 1}, None],
    "array": ["a,b", 7, {"a": 1}, None],
    "object": ["x", 7, ["x"], None],
}


def valid(schema: dict[str, Json], name: str = "") -> st.SearchStrategy[Json]:
    """Values the schema accepts (hinted by field name where the schema says only "string")."""
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        low = schema.get("minItems", 0)
        return st.lists(
            valid(schema["items"], name), min_size=low, max_size=max(low, min(schema.get("maxItems", 3), 3))
        )
    if kind == "object":
        return _object(schema)
    raise ValueError(f"schema keyword set not covered by the fuzzer: {schema}")


def _string(schema: dict[str, Json], name: str) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    base: st.SearchStrategy[Any]
    if "pattern" in schema:
        base = st.from_regex(str(schema["pattern"]), fullmatch=True)
    elif name in HINTS:
        base = HINTS[name]
    else:
        base = st.text(max_size=40) | ODD_DIGITS
    if high is None and "pattern" not in schema:
        base = base | HUGE  # no published limit: the server's own must answer, never a crash

    def fitting(s: Any) -> bool:
        return isinstance(s, str) and low <= len(s) and (high is None or len(s) <= high)

    fits: st.SearchStrategy[str] = base.filter(fitting)
    if high is None or "pattern" in schema:
        return fits
    return st.one_of(fits, st.just("x" * high), st.just("y" * max(low, 1)))  # the boundaries themselves


def _object(schema: dict[str, Json]) -> st.SearchStrategy[dict[str, Json]]:
    props: dict[str, Json] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {k: valid(v, k) for k, v in props.items() if k in required},
        optional={k: valid(v, k) for k, v in props.items() if k not in required},
    )


def _violations(schema: dict[str, Json], name: str, optional: bool = False) -> list[st.SearchStrategy[Json]]:
    """Strategies for values that break one rule of ``schema`` (the type, a bound, a pattern...)."""
    kind = schema.get("type", "string")
    wrong = WRONG[kind]
    if optional:
        wrong = [w for w in wrong if w is not None]  # null in an optional field means "not given"
    if name in TIME_FIELDS:
        # Deliberately lenient: a JSON number in a time field is read as Unix seconds (tools/common/fields.py).
        wrong = [w for w in wrong if isinstance(w, bool) or not isinstance(w, int | float)]
    out: list[st.SearchStrategy[Json]] = [st.sampled_from(wrong)]
    if "enum" in schema:
        out.append(st.text(max_size=12).filter(lambda s: s not in schema["enum"]))
    if "maxLength" in schema:
        out.append(st.just("z" * (schema["maxLength"] + 1)))
    if schema.get("minLength", 0) > 0:
        out.append(st.just("z" * (schema["minLength"] - 1)))
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        out.append(
            st.sampled_from(["a/b", "..%2F", "x y", "?q=1", "#frag", "no-at-sign"]).filter(
                lambda s: not pattern.search(s)
            )
        )
    if "minimum" in schema:
        out.append(st.just(schema["minimum"] - 1))
    if "maximum" in schema:
        out.append(st.just(schema["maximum"] + 1))
    if kind == "array":
        if "maxItems" in schema and schema["maxItems"] <= 50:
            out.append(
                st.lists(valid(schema["items"], name), min_size=schema["maxItems"] + 1, max_size=schema["maxItems"] + 1)
            )
        if schema.get("minItems", 0) > 0:
            out.append(st.just([]))
        out.append(st.lists(st.one_of(*_violations(schema["items"], name)), min_size=1, max_size=1))
    if kind == "object" and schema.get("properties"):
        out.append(_object_with_one_violation(schema))
    return out


def _object_with_one_violation(schema: dict[str, Json]) -> st.SearchStrategy[dict[str, Json]]:
    props: dict[str, Json] = schema.get("properties", {})
    required = list(schema.get("required", []))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Json]:
        args = draw(_object(schema))
        leave_one_out = draw(st.booleans())
        if required and leave_one_out:
            args.pop(draw(st.sampled_from(required)), None)  # a required field left out
            return args
        key = draw(st.sampled_from(sorted(props)))
        args[key] = draw(st.one_of(*_violations(props[key], key, optional=key not in required)))
        return args

    return build()


@dataclass(repr=False)
class Upstream:
    """A Feishu that says yes to everything and remembers every request."""

    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        event = {
            "event_id": "evt_fuzz_0",
            "summary": "fuzz",
            "start_time": {"timestamp": "1795417200", "timezone": "UTC"},
            "end_time": {"timestamp": "1795420800", "timezone": "UTC"},
        }
        data = {
            "event": event,
            "items": [],
            "has_more": False,
            "calendars": [{"calendar": {"calendar_id": PRIMARY}}],
            "attendees": [],
            "open_id": "ou_fuzz",
            "name": "Fuzz",
            # Look-ups by name (the scheduling tools) find exactly one of each.
            "users": [{"open_id": "ou_fuzz", "name": "Fuzz"}],
            "rooms": [{"room_id": "omm_fuzz", "name": "Fuzz", "capacity": 10}],
        }
        return httpx2.Response(200, json={"code": 0, "msg": "success", "data": data})


def route_pattern(op: Operation[Any, Any] | Endpoint) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(op.route)) + "$")


OVERLAP = ("GET", route_pattern(view_instances))
PRIMARY_LOOKUP = ("POST", re.compile("^" + re.escape(PRIMARY_ROUTE) + "$"))


def allowed_routes(op: Operation[Any, Any]) -> list[tuple[str, re.Pattern[str]]]:
    allowed = [(op.method, route_pattern(op)), PRIMARY_LOOKUP]
    # A tool of several requests (tools/common/composite.py) may send each it declares.
    allowed += [(e.method, route_pattern(e)) for e in op.endpoints]
    if "calendar_id" in op.input_model.model_fields:  # a calendar's name is looked up in the list
        allowed.append(("GET", route_pattern(CALENDAR_LIST)))
    if op.check_overlaps:
        allowed.append(OVERLAP)
    return allowed


@dataclass
class Harness:
    """One server (all toolsets) on the yes-saying upstream, and what the examples did."""

    upstream: Upstream = field(default_factory=Upstream, repr=False)
    outcomes: Counter[str] = field(default_factory=Counter)
    server: MCPServer[AppState] = field(init=False, repr=False)
    schemas: dict[str, dict[str, Json]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        settings = Settings.load({"FEISHU_TIMEZONE": "Asia/Shanghai"}, toolsets="all")
        self.server = build_server(
            settings,
            StaticToken("u-fuzz"),
            transport=httpx2.MockTransport(self.upstream),
            clock=VirtualClock(),
            operations=ALL_OPERATIONS,
        )

    async def load_schemas(self) -> None:
        async with Client(self.server) as client:
            self.schemas = {t.name: t.input_schema for t in (await client.list_tools()).tools}

    def cases(self) -> st.SearchStrategy[tuple[str, dict[str, Json], bool]]:
        """(tool, arguments, broken) with ``broken`` meaning the arguments violate the schema."""
        return st.sampled_from(sorted(self.schemas)).flatmap(self.cases_for)

    def cases_for(self, name: str) -> st.SearchStrategy[tuple[str, dict[str, Json], bool]]:
        """The cases of one tool."""
        schema = self.schemas[name]
        good = _object(schema).map(lambda a: (name, a, False))
        bad = _object_with_one_violation(schema).map(lambda a: (name, a, True))
        return st.one_of(good, bad) if schema.get("properties") else good

    async def check(self, tool: str, arguments: dict[str, Json], broken: bool) -> None:
        """Call ``tool`` and assert the three properties (raises AssertionError with the story)."""
        async with Client(self.server) as client:
            await self._check(client, tool, arguments, broken)

    async def sweep(self, tool: str) -> int:
        """Every hostile value in every text field of ``tool``, on its minimal arguments; the calls made.

        Deterministic, so each class of input that once crashed the server is tried in every field
        on every run, where random examples reach a given field and class only now and then.
        """
        schema = self.schemas[tool]
        calls = 0
        async with Client(self.server) as client:
            for name, prop in sorted(schema.get("properties", {}).items()):
                shape = prop.get("items", {}) if prop.get("type") == "array" else prop
                if shape.get("type") != "string" or "enum" in shape:
                    continue
                for value in HOSTILE:
                    arguments = {**MINIMAL_ARGUMENTS[tool], name: [value] if shape is not prop else value}
                    valid = jsonschema.Draft202012Validator(schema).is_valid(arguments)
                    await self._check(client, tool, arguments, not valid)
                    calls += 1
        return calls

    async def _check(self, client: Client, tool: str, arguments: dict[str, Json], broken: bool) -> None:
        op = next(o for o in ALL_OPERATIONS if o.name == tool)
        schema_ok = jsonschema.Draft202012Validator(self.schemas[tool]).is_valid(arguments)
        assert schema_ok != broken, f"fuzzer bug: {tool} {arguments!r} schema-valid={schema_ok}"
        self.upstream.requests.clear()
        result = await client.call_tool(tool, arguments)
        message = "" if not result.is_error else str(getattr(result.content[0], "text", ""))
        story = f"{tool}({arguments!r}) -> {message or 'ok'}"
        assert not BARE.match(message), story
        assert "internal error" not in message, story
        for request in self.upstream.requests:
            assert any(m == request.method and p.match(_path(request)) for m, p in allowed_routes(op)), (
                f"{story}\nwent to {request.method} {_path(request)}"
            )
        if broken:
            assert result.is_error and REFUSED in message, story
            assert not self.upstream.requests, f"{story}\nbut {len(self.upstream.requests)} request(s) went out"
            self.outcomes["invalid refused"] += 1
        elif result.is_error and NOT_FOUND in message:
            # A name (calendar, person, room) that means nothing: only look-ups went out.
            assert all(r.method == "GET" or r.url.path.endswith("/search") for r in self.upstream.requests), story
            self.outcomes["valid, name not found"] += 1
        elif result.is_error:
            # Valid for the schema but not for a rule it cannot express (both times, a real date...).
            assert REFUSED in message and not self.upstream.requests, story
            self.outcomes["valid, refused by a cross-field rule"] += 1
        else:
            assert any(r.method == op.method and route_pattern(op).match(r.url.path) for r in self.upstream.requests), (
                story
            )
            self.outcomes["valid, sent"] += 1
        self.outcomes[f"tool {tool}"] += 1


def _path(request: httpx2.Request) -> str:
    """The path as sent, percent-encoding intact (what Feishu's router would see)."""
    return request.url.raw_path.decode().split("?", 1)[0]
