"""What every tool call can reach: the settings, the one Feishu client and the one clock (from the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass

from server.clock import Clock
from server.feishu_client import FeishuClient
from server.settings import Settings


@dataclass
class AppState:
    settings: Settings
    client: FeishuClient
    timezone: str  # the user's IANA zone: naive times and "today" are read in it
    clock: Clock  # "now" for the tools; the same object times the client's retries
