"""What every tool call can reach: the settings, the one Feishu client and the one clock (from the lifespan)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from server.clock import Clock
from server.feishu_client import FeishuClient
from server.settings import Settings
from server.writes import WriteGuard

# The caller's own IANA zone for this request, where the deployment keeps one per user (team
# mode sets it once the caller's token is verified: server/team/zones.py). Empty: the server's.
CALLER_TIMEZONE: ContextVar[str] = ContextVar("fcm_caller_timezone", default="")


@dataclass
class AppState:
    settings: Settings
    client: FeishuClient
    default_timezone: str  # the server's IANA zone (FEISHU_TIMEZONE, else the machine's)
    clock: Clock  # "now" for the tools; the same object times the client's retries
    writes: WriteGuard = field(default_factory=WriteGuard)  # per-event write order and late writes

    @property
    def timezone(self) -> str:
        """The user's IANA zone: naive times, "today" and working hours are read in it.

        The caller's own when the deployment knows one (team mode), else the server's: the one
        place every tool, the validation context and the composite tools' upstream read it from.
        """
        return CALLER_TIMEZONE.get() or self.default_timezone
