"""Deterministic demo data: one tenant, a demo user and colleagues, calendars, rooms and a chat.

The ids are fixed so tests and the demo can name them (they are re-exported from ``sandbox``).
Building blocks (:func:`add_user`, :func:`add_room`, ...) also serve tests that start empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.state import Calendar, Chat, MeetingRoom, Role, Tenant, User

if TYPE_CHECKING:
    from sandbox.core import Core

TENANT_KEY = "sandbox0tenant"
EXTERNAL_TENANT_KEY = "partner0tenant"

DEMO_USER_OPEN_ID = "ou_sandbox0demo0user00000000000001"
LI_LEI_OPEN_ID = "ou_sandbox0li0lei000000000000000002"
HAN_MEIMEI_OPEN_ID = "ou_sandbox0han0meimei00000000000003"
WANG_FANG_OPEN_ID = "ou_sandbox0wang0fang000000000000004"
ADMIN_OPEN_ID = "ou_sandbox0tenant0admin0000000005"
EXTERNAL_OPEN_ID = "ou_sandbox0external0partner000006"

DEMO_PRIMARY_CALENDAR_ID = "feishu.cn_sandboxdemo0primary@group.calendar.feishu.cn"
TEAM_CALENDAR_ID = "feishu.cn_sandbox0team0shared@group.calendar.feishu.cn"
ROOM_IDS = ("omm_sandbox0room0everest", "omm_sandbox0room0kunlun", "omm_sandbox0room0taishan")
ROOM_CALENDAR_IDS = tuple(f"feishu.cn_{room_id[4:]}@resource.calendar.feishu.cn" for room_id in ROOM_IDS)
DEMO_CHAT_ID = "oc_sandbox0product0team0chat00001"
WEEKLY_SYNC_UID = "sandbox0weekly0sync0uid0000000001"

_PEOPLE = (
    # open_id, user_id, name, en_name, email, tenant, super-admin
    # The demo user administers the sandbox tenant, as a developer does their test tenant: every
    # tool can be tried as them, the super-admin-only Exchange bindings included.
    (DEMO_USER_OPEN_ID, "demo001", "演示用户", "Demo User", "demo.user@sandbox.example", TENANT_KEY, True),
    (LI_LEI_OPEN_ID, "lilei002", "李雷", "Li Lei", "li.lei@sandbox.example", TENANT_KEY, False),
    (HAN_MEIMEI_OPEN_ID, "hanmm003", "韩梅梅", "Han Meimei", "han.meimei@sandbox.example", TENANT_KEY, False),
    (WANG_FANG_OPEN_ID, "wangf004", "王芳", "Wang Fang", "wang.fang@sandbox.example", TENANT_KEY, False),
    (ADMIN_OPEN_ID, "admin005", "管理员", "Tenant Admin", "admin@sandbox.example", TENANT_KEY, True),
    (EXTERNAL_OPEN_ID, "ext006", "Partner Pat", "Partner Pat", "pat@partner.example", EXTERNAL_TENANT_KEY, False),
)
_ROOMS = (
    ("Everest 珠峰 (8)", 8, "A", "3F"),
    ("Kunlun 昆仑 (4)", 4, "A", "3F"),
    ("Taishan 泰山 (20)", 20, "B", "5F"),
)


def primary_calendar_id(open_id: str) -> str:
    """A new user's primary calendar id (the demo user's is fixed)."""
    if open_id == DEMO_USER_OPEN_ID:
        return DEMO_PRIMARY_CALENDAR_ID
    return f"feishu.cn_{open_id[3:]}@group.calendar.feishu.cn"


def add_user(
    sb: Core,
    open_id: str,
    name: str,
    *,
    user_id: str | None = None,
    en_name: str = "",
    email: str = "",
    tenant_key: str = TENANT_KEY,
    is_super_admin: bool = False,
) -> User:
    """A user with their primary calendar."""
    world = sb.world
    world.tenants.setdefault(tenant_key, Tenant(tenant_key, f"Tenant {tenant_key}"))
    user = User(
        open_id=open_id,
        user_id=user_id or open_id[3:15],
        union_id="on_" + open_id[3:],
        name=name,
        en_name=en_name or name,
        email=email,
        tenant_key=tenant_key,
        is_super_admin=is_super_admin,
    )
    world.users[open_id] = user
    calendar_id = primary_calendar_id(open_id)
    world.calendars[calendar_id] = Calendar(calendar_id, name, "primary", open_id)
    return user


def add_shared_calendar(
    sb: Core, calendar_id: str, summary: str, owner_open_id: str, acl: dict[str, Role] | None = None
) -> Calendar:
    calendar = Calendar(calendar_id, summary, "shared", owner_open_id, acl=dict(acl or {}), permissions="public")
    calendar.default_role = "reader"
    sb.world.calendars[calendar_id] = calendar
    return calendar


def add_room(sb: Core, room_id: str, name: str, capacity: int, building: str, floor: str) -> MeetingRoom:
    """A meeting room and its resource calendar (busy whenever an event books the room)."""
    calendar_id = f"feishu.cn_{room_id[4:]}@resource.calendar.feishu.cn"
    sb.world.calendars[calendar_id] = Calendar(
        calendar_id, name, "resource", None, room_id=room_id, permissions="show_only_free_busy"
    )
    room = MeetingRoom(room_id, name, calendar_id, capacity, building, floor)
    sb.world.rooms[room_id] = room
    return room


def add_chat(
    sb: Core, chat_id: str, name: str, owner_open_id: str, members: list[str], *, public: bool = False
) -> Chat:
    chat = Chat(chat_id, name, owner_open_id, list(members), public=public)
    sb.world.chats[chat_id] = chat
    return chat


def populate(sb: Core) -> None:
    """The demo world: people, their calendars, the team calendar, three rooms and the team chat."""
    sb.world.tenants[TENANT_KEY] = Tenant(TENANT_KEY, "Core Technology Co.")
    sb.world.tenants[EXTERNAL_TENANT_KEY] = Tenant(EXTERNAL_TENANT_KEY, "Partner Ltd.")
    for open_id, user_id, name, en_name, email, tenant_key, is_admin in _PEOPLE:
        add_user(
            sb,
            open_id,
            name,
            user_id=user_id,
            en_name=en_name,
            email=email,
            tenant_key=tenant_key,
            is_super_admin=is_admin,
        )
    add_shared_calendar(
        sb,
        TEAM_CALENDAR_ID,
        "Product team",
        LI_LEI_OPEN_ID,
        {DEMO_USER_OPEN_ID: "writer", HAN_MEIMEI_OPEN_ID: "writer", WANG_FANG_OPEN_ID: "reader"},
    )
    for room_id, (name, capacity, building, floor) in zip(ROOM_IDS, _ROOMS, strict=True):
        add_room(sb, room_id, name, capacity, building, floor)
    add_chat(
        sb,
        DEMO_CHAT_ID,
        "Product team",
        LI_LEI_OPEN_ID,
        [DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID, WANG_FANG_OPEN_ID],
    )
