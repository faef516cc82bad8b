"""Tools that need more than one Feishu request (find_people, get_free_busy, find_meeting_times, ...).

Each Feishu request such a tool makes is declared once as an :class:`Endpoint` (route, method,
scopes); the tool's ``gather`` function decides which to send and with what, through an
:class:`Upstream` the server provides. The server's one client does the HTTP, the envelope, the
errors and the retries, as for every other tool; ``gather`` holds no HTTP, no tokens and no
error handling, and its result is shaped by the Operation's ``respond`` like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tools.spec import Method, Replay

JsonObject = dict[str, Any]


class Refusal(Exception):
    """What a composite tool refuses after looking (a name nobody has, a scope the id cannot take):
    the message goes to the model as it is; nothing was changed."""


@dataclass(frozen=True)
class Endpoint:
    """One Feishu request a composite tool may send."""

    name: str  # what an error names, e.g. "find_people (search/v1/user)"
    method: Method
    route: str  # may hold {placeholders}, filled from ``path``
    scopes: tuple[str, ...]  # any one of these allows the call
    # Only Feishu's own CLI uses it (no document): the server probes for it once per identity
    # and the tool falls back to documented endpoints when it is absent.
    undocumented: bool = False


@dataclass(frozen=True)
class Request:
    """One request to send: the endpoint plus its query and body."""

    endpoint: Endpoint
    query: Sequence[tuple[str, str]] = ()
    body: JsonObject | None = None
    path: dict[str, str] | None = None


class Upstream(Protocol):
    """What a composite tool may ask of the server (implemented in server/upstream.py)."""

    @property
    def timezone(self) -> str:
        """The user's IANA zone."""
        ...

    @property
    def working_hours(self) -> str:
        """The working-hours setting, e.g. ``Mon-Fri 09:00-18:00`` (tools/common/working_hours.py reads it)."""
        ...

    def now(self) -> float:
        """Unix seconds, from the server's one clock."""
        ...

    async def send(self, request: Request) -> JsonObject:
        """Feishu's ``data``, or a FeishuError raised for the model (the tool does not catch it)."""
        ...

    async def write(self, request: Request, replay: Replay) -> JsonObject:
        """A request that changes something, with its replay rule (see tools.spec.Replay)."""
        ...

    async def send_all(self, requests: Sequence[Request]) -> list[JsonObject]:
        """Several requests at once (a few at a time), answers in order; the first failure is raised."""
        ...

    async def send_all_unless(self, requests: Sequence[Request], codes: frozenset[int]) -> list[JsonObject | None]:
        """Like :meth:`send_all`, but an answer is None where Feishu refused that request with one
        of ``codes`` (a refusal the tool reads as "not known", e.g. 195100 for someone who left);
        other failures are raised."""
        ...

    async def send_if_allowed(self, request: Request) -> JsonObject | None:
        """Like :meth:`send`, but None when the user lacks the scope or the role for it (an
        optional enrichment, e.g. profiles); other failures are raised."""
        ...

    async def send_if_offered(self, request: Request) -> JsonObject | None:
        """For an undocumented endpoint: None when Feishu does not offer it (remembered, so the
        next call goes straight to the documented path); other failures are raised."""
        ...
