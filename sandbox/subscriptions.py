"""Event-change subscriptions: ``POST .../events/subscription`` and ``.../events/unsubscription``.

Feishu (feishu-api.md ops 18-19): user token only, reader or better on the calendar, no body,
``data`` is ``{}``. A subscription belongs to the app *and* the user, so the same user signed in
to two apps holds two. Subscribing twice, or unsubscribing what is not subscribed, succeeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from sandbox.calendars import calendar_for
from sandbox.state import Subscription, World
from sandbox.wire import CALENDAR_V4, Call, api_route

if TYPE_CHECKING:
    from sandbox.core import Api

EVENTS = CALENDAR_V4 + "/calendars/{calendar_id}/events"
READ_SCOPES = ("calendar:calendar", "calendar:calendar.event:read", "calendar:calendar:readonly")


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "POST", EVENTS + "/subscription", subscribe, scopes=READ_SCOPES, user_only=True),
        api_route(sb, "POST", EVENTS + "/unsubscription", unsubscribe, scopes=READ_SCOPES, user_only=True),
    ]


def subscribers(world: World, calendar_id: str) -> list[Subscription]:
    """Who would be pushed ``calendar.calendar.event.changed_v4`` for this calendar."""
    return [s for s in world.subscriptions if s.calendar_id == calendar_id]


def _key(call: Call) -> Subscription:
    calendar = calendar_for(call, call.path["calendar_id"], "reader")
    assert call.user is not None  # user_only routes always have a user
    return Subscription(app_id=call.app_id, open_id=call.user.open_id, calendar_id=calendar.calendar_id)


def subscribe(call: Call) -> None:
    wanted = _key(call)
    if wanted not in call.sb.world.subscriptions:
        call.sb.world.subscriptions.append(wanted)


def unsubscribe(call: Call) -> None:
    wanted = _key(call)
    call.sb.world.subscriptions[:] = [s for s in call.sb.world.subscriptions if s != wanted]
