"""What every tool call can reach: the settings and the one Feishu client (from the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass

from server.feishu_client import FeishuClient
from server.settings import Settings


@dataclass
class AppState:
    settings: Settings
    client: FeishuClient
    timezone: str  # the user's IANA zone: naive times and "today" are read in it
