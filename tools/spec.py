"""How one Feishu operation is declared: the single place a tool states what it is.

An :class:`Operation` names its input model, Feishu route and method, output model,
MCP annotations, toolset, scopes and replay rule. The server turns each declaration into
an MCP tool; one client does the HTTP. Tool modules hold declarations and pure
request/response shaping only: no HTTP, no tokens, no error handling.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

Method = Literal["GET", "POST", "PATCH", "DELETE"]
Toolset = Literal[
    "events",
    "attendees",
    "meetings",
    "rooms",
    "people",
    "freebusy",
    "calendars",
    "subscriptions",
    "settings",
    "exchange",
    "context",
]


class Replay(Enum):
    """Whether the client may send a request again after an unknown outcome (timeout, 5xx, drop).

    A rate-limited request (429) was not executed, so it is always replayed.
    """

    SAFE = "safe"  # reads, and writes whose replay leaves the same state (patch, reply, subscribe)
    KEYED = "keyed"  # create: safe because it always carries an idempotency key
    DELETE = "delete"  # replay is safe; "already deleted" after a replay counts as success
    NEVER = "never"  # replay could do it twice: report "outcome unknown" instead


class Query:
    """Field marker: this input field travels in the query string (not the body)."""


IN_QUERY = Query()


class Input(BaseModel):
    """Base of every tool input: unknown fields are errors, not silently dropped.

    ``defer_build``: a model's validator is built on the first call of its tool, not when the
    server starts (published schemas come pre-generated, see server/schema.py), so a session
    pays only for the tools it uses.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


InT = TypeVar("InT", bound=Input)
OutT = TypeVar("OutT", bound=BaseModel)


@dataclass(frozen=True)
class WireRequest:
    """What goes to Feishu, before the route's placeholders are filled and encoded."""

    path_params: dict[str, str]
    query: list[tuple[str, str]] = field(default_factory=list)
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReadBack:
    """How to confirm a write by reading its resource back (the client sends the GET).

    ``route`` is a GET route filled with the write's own path parameters; ``differs`` gets the
    write's wire body and the GET's ``data`` and names each way the resource disagrees with what
    was sent (empty: it shows the write). Used after a write whose request went unanswered, and
    after a write to a resource that an earlier unanswered request may still change.
    """

    route: str
    differs: Callable[[dict[str, Any] | None, dict[str, Any]], list[str]]
    query: tuple[tuple[str, str], ...] = ()


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def route_params(route: str) -> list[str]:
    """The placeholder names of a route template, in order."""
    return _PLACEHOLDER.findall(route)


def query_value(value: Any) -> list[str]:
    """Feishu's query-string spelling: lowercase booleans, repeated keys for lists."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        return [v for item in value for v in query_value(item)]
    if isinstance(value, Enum):
        return [str(value.value)]
    return [str(value)]


@lru_cache(maxsize=64)
def default_wire(route: str) -> Callable[[Input], WireRequest]:
    """Path fields by placeholder name, IN_QUERY fields to the query, the rest to the JSON body.

    Unset optional fields (None) are left out, so Feishu applies its own defaults.
    """
    placeholders = set(route_params(route))

    def build(inp: Input) -> WireRequest:
        path: dict[str, str] = {}
        query: list[tuple[str, str]] = []
        body: dict[str, Any] = {}
        for name, info in type(inp).model_fields.items():
            value = getattr(inp, name)
            wire_name = info.alias or name
            if name in placeholders:
                path[name] = str(value)
            elif value is None:
                continue
            elif any(isinstance(meta, Query) for meta in info.metadata):
                query.extend((wire_name, v) for v in query_value(value))
            else:
                body[wire_name] = value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value
        return WireRequest(path_params=path, query=query, body=body or None)

    return build


@dataclass(frozen=True)
class Operation(Generic[InT, OutT]):
    """One Feishu operation exposed as one MCP tool."""

    name: str
    title: str
    description: str
    interface_function: str  # the user-token interface's name, e.g. CreateCalendarEventAsync
    method: Method
    route: str  # e.g. /open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}
    input_model: type[InT]
    output_model: type[OutT]
    toolset: Toolset
    read_only: bool
    destructive: bool
    idempotent: bool
    replay: Replay
    scopes: tuple[str, ...]  # any one of these user scopes allows the call
    respond: Callable[[InT, dict[str, Any]], OutT]
    to_wire: Callable[[InT], WireRequest] | None = None
    # Feishu codes that mean "already in the wanted state" once a request was replayed.
    done_after_replay: frozenset[int] = frozenset()
    # Destructive tools: the question put to the user (formatted with the validated input).
    confirm: str = ""
    # Creating or moving an event: warn about busy events it overlaps (never refuse).
    check_overlaps: bool = False
    # Writes whose effect a GET can show: verified by reading back when the outcome was in doubt.
    read_back: ReadBack | None = None
    # Replay.NEVER: the tool call that settles an unknown outcome, for the model (from the input).
    outcome_check: Callable[[InT], str] | None = None
    # A tool that needs several Feishu requests (tools/common/composite.py): ``gather(input, upstream)``
    # sends them and returns what ``respond`` shapes, instead of the one request above.
    # (It may answer None: then the one request is what this input takes.)
    gather: Callable[[InT, Any], Awaitable[dict[str, Any] | None]] | None = None
    # Every request ``gather`` may send (their scopes are asked for at login).
    endpoints: tuple[Any, ...] = ()
    # Names to ids before the request is built: ``prepare(input, upstream, picks)`` returns the input
    # with ids (``picks``: the user's choice per ambiguous name, see server/choose.py).
    prepare: Callable[[InT, Any, dict[str, str]], Awaitable[InT]] | None = None
    # After the one request: ``after(input, data, upstream, calendar_id)`` may send more (e.g. the
    # attendees of a new event) and returns the data ``respond`` shapes.
    after: Callable[[InT, dict[str, Any], Any, str], Awaitable[dict[str, Any]]] | None = None

    @property
    def scope_sets(self) -> tuple[tuple[str, ...], ...]:
        """Every "any one of these" scope set the tool needs: its own and each endpoint's it may send."""
        sets = [self.scopes, *(tuple(getattr(e, "scopes", ())) for e in self.endpoints)]
        return tuple(dict.fromkeys(s for s in sets if s))

    def wire(self, inp: InT) -> WireRequest:
        if self.to_wire is not None:
            return self.to_wire(inp)
        return default_wire(self.route)(inp)
