"""The official SDK (lark-oapi) as a client of a sandbox served on loopback.

The SDK is untyped (mypy ignores it), so these helpers keep the call shape in one place: a
client on the sandbox's base URL that sends the caller's own user token, never fetching one.
"""

from __future__ import annotations

import time
from typing import Any

import lark_oapi as lark
from lark_oapi.api.calendar.v4 import CalendarEvent, TimeInfo
from lark_oapi.core.cache import ICache

from sandbox import DEMO_APP_ID, DEMO_APP_SECRET


class TokenCache(ICache):  # type: ignore[misc]  # the SDK is untyped
    """A token cache of one client's own: the SDK's default is process-wide, so a tenant token fetched
    from one test's sandbox was sent to the next test's, which never issued it (99991663)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        value, expire = self.values.get(key, ("", 0.0))
        return value if expire > time.time() else None

    def set(self, key: str, value: str, expire: int) -> None:
        self.values[key] = (value, expire)


def sdk_client(base_url: str, *, user_tokens: bool = True, cache: ICache | None = None) -> Any:
    """``user_tokens``: each request carries its own user token; otherwise the SDK fetches a tenant token
    and keeps it in ``cache`` (a new one when not given: the SDK has one cache for the whole process)."""
    builder = lark.Client.builder().app_id(DEMO_APP_ID).app_secret(DEMO_APP_SECRET).domain(base_url)
    builder = builder.enable_set_token(True) if user_tokens else builder.cache(cache or TokenCache())
    return builder.log_level(lark.LogLevel.ERROR).build()


def as_user(token: str) -> Any:
    return lark.RequestOption.builder().user_access_token(token).build()


def parsed(response: Any) -> Any:
    """The SDK's parsed ``data`` of a successful reply (fails the test with Feishu's code otherwise)."""
    assert response.success(), (response.code, response.msg)
    return getattr(response, "data", None)  # replies with an empty data have no attribute


def when(seconds: int) -> Any:
    """A timed ``time_info`` in Asia/Shanghai."""
    return TimeInfo.builder().timestamp(str(seconds)).timezone("Asia/Shanghai").build()


def new_event(summary: str, start: int, end: int, **extra: Any) -> Any:
    """An event body; ``extra`` names more builder methods (``location=...``)."""
    builder = CalendarEvent.builder().summary(summary).start_time(when(start)).end_time(when(end))
    for name, value in extra.items():
        builder = getattr(builder, name)(value)
    return builder.build()
