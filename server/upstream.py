"""What a composite tool's ``gather`` may ask of the server (tools/common/composite.py ``Upstream``).

Every request goes through the one Feishu client (retries, deadline, error mapping). The two
places a failure is an answer rather than an error live here, not in tools: a scope or role the
user lacks for an optional enrichment, and an undocumented endpoint Feishu does not offer (the
capability probe: its absence is remembered per client and identity, so later calls take the
documented path at once).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import anyio

from server import errors
from server.feishu_client import FeishuClient
from server.paths import fill_route
from server.state import AppState
from tools.common.composite import JsonObject, Request
from tools.spec import Replay

# Feishu's gateway code for a path it does not serve (what a withdrawn endpoint answers).
PATH_NOT_FOUND = 99991201
PARALLEL_REQUESTS = 4
DELETED = frozenset({193001, 193003})
_ABSENT: weakref.WeakKeyDictionary[FeishuClient, set[tuple[str, str]]] = weakref.WeakKeyDictionary()


class ServerUpstream:
    """The server side of ``tools.common.composite.Upstream`` for one tool call."""

    def __init__(self, state: AppState, operation: str) -> None:
        self._state = state
        self._operation = operation

    @property
    def timezone(self) -> str:
        return self._state.timezone

    @property
    def working_hours(self) -> str:
        return self._state.settings.working_hours

    def now(self) -> float:
        return self._state.clock.now()  # the process's one clock (server/clock.py)

    async def send(self, request: Request) -> JsonObject:
        return await self._call(request, Replay.SAFE, writes=False)  # a look-up: safe to repeat

    async def write(self, request: Request, replay: Replay) -> JsonObject:
        return await self._call(request, replay, writes=True)

    async def _call(self, request: Request, replay: Replay, *, writes: bool) -> JsonObject:
        endpoint = request.endpoint
        route = fill_route(endpoint.route, request.path) if request.path else endpoint.route
        return await self._state.client.call(
            f"{self._operation} ({endpoint.name})",
            endpoint.method,
            route,
            query=request.query,
            body=request.body,
            replay=replay,
            # A delete replayed after a lost answer finds the event gone: that is done.
            done_after_replay=DELETED if replay is Replay.DELETE else frozenset(),
            writes=writes,
            scopes=endpoint.scopes,
        )

    async def send_all(self, requests: Sequence[Request]) -> list[JsonObject]:
        answers = await self.send_all_unless(requests, frozenset())
        return [answer if answer is not None else {} for answer in answers]  # None only for ``codes``

    async def send_all_unless(self, requests: Sequence[Request], codes: frozenset[int]) -> list[JsonObject | None]:
        answers: list[JsonObject | None] = [None for _ in requests]
        limiter = anyio.CapacityLimiter(PARALLEL_REQUESTS)

        async def one(index: int, request: Request) -> None:
            async with limiter:
                try:
                    answers[index] = await self.send(request)
                except errors.FeishuError as exc:
                    if exc.code not in codes:
                        raise

        try:
            async with anyio.create_task_group() as group:
                for index, request in enumerate(requests):
                    group.start_soon(one, index, request)
        except BaseExceptionGroup as failed:
            raise _first(failed) from None  # the model is told of one failure, as from one request
        return answers

    async def send_if_allowed(self, request: Request) -> JsonObject | None:
        try:
            return await self.send(request)
        except (errors.ScopeMissing, errors.AppScopeMissing, errors.PermissionDenied):
            return None

    async def send_if_offered(self, request: Request) -> JsonObject | None:
        client = self._state.client
        key = (client.tokens.identity, request.endpoint.route)
        absent = _ABSENT.setdefault(client, set())
        if key in absent:
            return None
        try:
            return await self.send(request)
        except errors.FeishuError as exc:
            if not _not_offered(exc):
                raise
            absent.add(key)
            return None


def _not_offered(exc: errors.FeishuError) -> bool:
    return exc.code == PATH_NOT_FOUND or (exc.http_status == 404 and exc.code in (-1, 404))


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
