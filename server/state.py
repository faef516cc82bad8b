"""What every tool call can reach: the settings and the one Feishu client (from the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.feishu_client import FeishuClient
from server.settings import Settings
from server.writes import WriteGuard


@dataclass
class AppState:
    settings: Settings
    client: FeishuClient
    timezone: str  # the user's IANA zone: naive times and "today" are read in it
    writes: WriteGuard = field(default_factory=WriteGuard)  # per-event write order and late writes
