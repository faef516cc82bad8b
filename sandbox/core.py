"""What most sandbox modules need of the :class:`~sandbox.app.Sandbox`: its state and its clock.

Route and seed modules are typed against this, not the whole Sandbox, so a reader sees at a glance
that they only read and change the world at the sandbox's "now". They still receive the Sandbox
itself, because ``world`` is replaced on reset and a route must see the current one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request

    from sandbox.state import AccessToken, User, World
    from server.clock import Clock


class Core(Protocol):
    world: World
    clock: Clock


class Api(Core, Protocol):
    """What a module that serves Feishu routes needs besides: the gate every route passes
    (``sandbox.wire.api_route``: authentication, then what fell due by now)."""

    def authenticate(
        self, request: Request, *, scopes: Sequence[str], user_only: bool = False, tenant_only: bool = False
    ) -> tuple[AccessToken, User | None]: ...

    def settle(self) -> None: ...
