"""``POST /open-apis/calendar/v4/settings/generate_caldav_conf`` (feishu-api.md op 20).

User token only. The body's only field is ``device_name`` (optional, at most 100 characters;
§9 explains why there is no password input). Every call mints a fresh account for one device:
a new user name and password, kept in ``World.caldav`` so tests can see what was handed out.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.state import CaldavSetting
from sandbox.wire import CALENDAR_V4, Call, api_route, invalid

if TYPE_CHECKING:
    from sandbox.core import Api

CALDAV_SCOPES = ("calendar:calendar", "calendar:settings.caldav:create")
SERVER_ADDRESS = "caldav.feishu.cn"
DEVICE_NAME_LIMIT = 100


def routes(sb: Api) -> list[BaseRoute]:
    path = CALENDAR_V4 + "/settings/generate_caldav_conf"
    return [api_route(sb, "POST", path, generate_caldav_conf, scopes=CALDAV_SCOPES, user_only=True)]


def generate_caldav_conf(call: Call) -> dict[str, Any]:
    assert call.user is not None  # user_only routes always have a user
    device_name = call.field("device_name", str) or ""
    if len(device_name) > DEVICE_NAME_LIMIT:
        raise invalid("device_name", device_name, f"must be at most {DEVICE_NAME_LIMIT} characters")
    setting = CaldavSetting(
        open_id=call.user.open_id,
        device_name=device_name,
        user_name=f"{call.user.user_id}_{secrets.token_hex(4)}",
        password=secrets.token_urlsafe(12),
        server_address=SERVER_ADDRESS,
    )
    call.sb.world.caldav.append(setting)
    return {
        "password": setting.password,
        "user_name": setting.user_name,
        "server_address": setting.server_address,
        "device_name": setting.device_name,
    }
