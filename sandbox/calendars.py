"""Calendars: ``POST /calendars/primary``, ``GET /calendars``, ``GET /calendars/:calendar_id``, and
the access check events share.

:func:`calendar_for` applies Feishu's calendar codes: 191001 malformed id, 191000 not found,
191003 deleted, 191002 no (sufficient) role, 191004 a calendar type the API does not serve.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.state import Calendar, Role, role_at_least
from sandbox.wire import CALENDAR_V4, Call, FeishuFault, api_route, decode_token, encode_token, page

if TYPE_CHECKING:
    from sandbox.core import Api

PRIMARY_SCOPES = ("calendar:calendar:read", "calendar:calendar:readonly", "calendar:calendar")
LIST_SCOPES = ("calendar:calendar", "calendar:calendar:read", "calendar:calendar:readonly")
CALENDAR_ID = re.compile(r"[\w.\-]+@[\w.\-]+")


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "POST", CALENDAR_V4 + "/calendars/primary", primary, scopes=PRIMARY_SCOPES),
        api_route(sb, "GET", CALENDAR_V4 + "/calendars", list_calendars, scopes=LIST_SCOPES),
        api_route(sb, "GET", CALENDAR_V4 + "/calendars/{calendar_id}", get_calendar, scopes=LIST_SCOPES),
    ]


def calendar_json(calendar: Calendar, role: Role) -> dict[str, Any]:
    return {
        "calendar_id": calendar.calendar_id,
        "summary": calendar.summary,
        "description": calendar.description,
        "permissions": calendar.permissions,
        "color": calendar.color,
        "type": calendar.type,
        "summary_alias": calendar.summary_alias,
        "is_deleted": calendar.is_deleted,
        "is_third_party": False,
        "role": role,
    }


def calendar_for(
    call: Call,
    calendar_id: str,
    role: Role,
    types: Collection[str] = ("primary", "shared", "resource"),
) -> Calendar:
    """The calendar, if the caller holds at least ``role`` on it and the API serves its type."""
    if not CALENDAR_ID.fullmatch(calendar_id):  # "$" would let a trailing newline through
        raise FeishuFault(191001, "invalid calendar_id", 400)
    calendar = call.sb.world.calendars.get(calendar_id)
    if calendar is None:
        raise FeishuFault(191000, "calendar not found", 404)
    if calendar.is_deleted:
        raise FeishuFault(191003, "calendar is deleted", 403)
    if not role_at_least(caller_role(call, calendar), role):
        raise FeishuFault(191002, "no calendar access_role", 403)
    if calendar.type not in types:
        raise FeishuFault(191004, f"calendar type {calendar.type} is not supported by this API", 403)
    return calendar


def caller_role(call: Call, calendar: Calendar) -> Role:
    if call.user is None:
        # The app identity sees its tenant's shared and room calendars as a reader.
        return "reader" if calendar.type in ("shared", "resource") else "unknown"
    if calendar.type != "resource" and calendar.owner_open_id is not None:
        owner = call.sb.world.users.get(calendar.owner_open_id)
        if owner is not None and owner.tenant_key != call.user.tenant_key:
            return calendar.acl.get(call.user.open_id, "unknown")
    return calendar.role_of(call.user.open_id)


def primary(call: Call) -> dict[str, Any]:
    if call.user is None:
        # An app calls this for its bot's calendar; the sandbox models no bot calendars.
        raise FeishuFault(191000, "calendar not found: the app has no primary calendar here", 404)
    calendar = call.sb.world.primary_calendar(call.user.open_id)
    if calendar is None:
        raise FeishuFault(191000, "calendar not found", 404)
    return {"calendars": [{"calendar": calendar_json(calendar, "owner"), "user_id": call.user_ref(call.user)}]}


def get_calendar(call: Call) -> dict[str, Any]:
    """[D] ``calendar/get.md``: the calendar itself is ``data`` (no wrapper), with the caller's role."""
    calendar = calendar_for(call, call.path["calendar_id"], "free_busy_reader", ("primary", "shared", "resource"))
    return calendar_json(calendar, caller_role(call, calendar))


def list_calendars(call: Call) -> dict[str, Any]:
    """The caller's calendar list, a page at a time.

    The page is cut from the whole list, deleted calendars included, and the deleted ones are then
    left out of it: a page may hold fewer than ``page_size`` calendars, or none, while ``has_more``
    is true, as calendar/list.md warns ("may be less than page_size, or empty: use has_more").
    """
    size = call.query_int("page_size", default=500, low=50, high=1000)
    listed = [c for c in call.sb.world.calendars.values() if c.type != "resource" and _subscribed(call, c)]
    sync_token = call.query("sync_token")
    if sync_token:
        # Calendars do not change through this API surface: nothing is new since the token.
        decode_token("calsync", sync_token)
        listed = []
    result = page(call, [{"calendar": c} for c in listed], size)
    result["calendar_list"] = [
        calendar_json(c, caller_role(call, c)) for item in result.pop("items") if not (c := item["calendar"]).is_deleted
    ]
    if not result["has_more"]:
        result["sync_token"] = encode_token("calsync", call.sb.world.change_seq)
    return result


def _subscribed(call: Call, calendar: Calendar) -> bool:
    if call.user is None:
        return calendar.type == "shared"
    return calendar.owner_open_id == call.user.open_id or call.user.open_id in calendar.acl
