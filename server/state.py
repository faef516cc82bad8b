"""What every tool call can reach: the settings, the one Feishu client and the one clock (from the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.clock import Clock
from server.feishu_client import FeishuClient
from server.settings import Settings
from server.writes import WriteGuard


@dataclass
class AppState:
    settings: Settings
    client: FeishuClient
    timezone: str  # the user's IANA zone: naive times and "today" are read in it
    clock: Clock  # "now" for the tools; the same object times the client's retries
    writes: WriteGuard = field(default_factory=WriteGuard)  # per-event write order and late writes
