"""A stateful Feishu calendar emulator (see README.md in this package)."""

from sandbox.app import DEMO_APP_ID, DEMO_APP_SECRET, ROUTE_MODULES, Sandbox, running, serve
from sandbox.faults import FAULT_KINDS, Fault, Faults
from sandbox.seed import (
    ADMIN_OPEN_ID,
    DEMO_CHAT_ID,
    DEMO_PRIMARY_CALENDAR_ID,
    DEMO_USER_OPEN_ID,
    EXTERNAL_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_CALENDAR_IDS,
    ROOM_IDS,
    TEAM_CALENDAR_ID,
    WANG_FANG_OPEN_ID,
    WEEKLY_SYNC_UID,
    add_chat,
    add_room,
    add_shared_calendar,
    add_user,
)
from sandbox.wire import Call, FeishuFault, api_route

__all__ = [
    "ADMIN_OPEN_ID",
    "DEMO_APP_ID",
    "DEMO_APP_SECRET",
    "DEMO_CHAT_ID",
    "DEMO_PRIMARY_CALENDAR_ID",
    "DEMO_USER_OPEN_ID",
    "EXTERNAL_OPEN_ID",
    "FAULT_KINDS",
    "HAN_MEIMEI_OPEN_ID",
    "LI_LEI_OPEN_ID",
    "ROOM_CALENDAR_IDS",
    "ROOM_IDS",
    "ROUTE_MODULES",
    "TEAM_CALENDAR_ID",
    "WANG_FANG_OPEN_ID",
    "WEEKLY_SYNC_UID",
    "Call",
    "Fault",
    "Faults",
    "FeishuFault",
    "Sandbox",
    "add_chat",
    "add_room",
    "add_shared_calendar",
    "add_user",
    "api_route",
    "running",
    "serve",
]
