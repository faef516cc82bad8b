"""The time-sense tool: who the user is, now, their timezone, today's and tomorrow's range."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, model_validator

from tools.common import times
from tools.common.fields import Timezone
from tools.spec import Input, Operation, Replay


class ContextInput(Input):
    timezone: Timezone = None

    _tz: str = PrivateAttr(default="UTC")
    _now: float = PrivateAttr(default=0.0)

    @model_validator(mode="after")
    def _zone(self, info: ValidationInfo) -> Self:
        context = info.context or {}
        self._tz = self.timezone or context.get("timezone") or "UTC"
        times.zone(self._tz)
        # "Now" is the server's one clock (server/clock.py), handed in with the call: never the
        # system time read here, so a pinned clock pins this tool too.
        self._now = float(context["now"])
        return self


class DayRange(BaseModel):
    start: str
    end: str


class CurrentContext(BaseModel):
    user: Annotated[dict[str, Any], Field(description="name, open_id, union_id, tenant_key.")]
    timezone: str
    now: str
    today: DayRange
    tomorrow: DayRange


USER_FIELDS = ("name", "en_name", "open_id", "union_id", "tenant_key", "email")


def _context(inp: ContextInput, data: dict[str, Any]) -> CurrentContext:
    zone = times.zone(inp._tz)
    now = datetime.fromtimestamp(int(inp._now), zone)
    midnight = now.replace(hour=0, minute=0, second=0)

    def day(offset: int) -> DayRange:
        start = midnight + timedelta(days=offset)
        return DayRange(start=times.rfc3339(start), end=times.rfc3339(start + timedelta(days=1)))

    return CurrentContext(
        user={k: data[k] for k in USER_FIELDS if data.get(k)},
        timezone=inp._tz,
        now=times.rfc3339(now),
        today=day(0),
        tomorrow=day(1),
    )


get_current_context = Operation(
    name="get_current_context",
    title="Who am I and what time is it",
    description=(
        "The signed-in user, the current time in their timezone, and today's and tomorrow's range. "
        "Call it first to turn 'tomorrow at 3' into an exact time."
    ),
    interface_function="",  # not one of the 23 calendar operations: Feishu's user_info
    method="GET",
    route="/open-apis/authen/v1/user_info",
    input_model=ContextInput,
    output_model=CurrentContext,
    toolset="context",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=(),
    respond=_context,
)
