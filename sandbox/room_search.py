"""``POST /open-apis/vc/v1/rooms/search``: the one user-token room directory (scheduling-api.md §4.1).

``custom_room_ids`` takes precedence over ``keyword``; ``keyword`` matches room names, and with
``search_level_name`` also the names of the levels above the room (city, building, floor);
``room_level_id`` keeps rooms below that level; with none of them every room comes back (the docs
mark all three optional and say only rooms the user may book are returned). Errors use the vc family's codes (121003 bad
parameter). Paging is in the body (``page_token``), 1-100 a page, 10 by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.state import MeetingRoom
from sandbox.wire import FeishuFault, api_route

if TYPE_CHECKING:
    from sandbox.core import Api
    from sandbox.wire import Call

ROOM_SCOPES = ("vc:room", "vc:room:readonly")
BAD_PARAMETER = 121003


def routes(sb: Api) -> list[BaseRoute]:
    return [api_route(sb, "POST", "/open-apis/vc/v1/rooms/search", search_rooms, scopes=ROOM_SCOPES, user_only=True)]


def _bad(field: str, why: str) -> FeishuFault:
    return FeishuFault(BAD_PARAMETER, f"param is invalid: {field} {why}", 400)


def room_json(call: Call, room: MeetingRoom) -> dict[str, Any]:
    directory = call.sb.world.directory
    detail = directory.room_details.get(room.room_id)
    level_id = detail.room_level_id if detail else ""
    return {
        "room_id": room.room_id,
        "name": room.name,
        "capacity": room.capacity,
        "description": detail.description if detail else "",
        "display_id": detail.display_id if detail else "",
        "custom_room_id": room.room_id.removeprefix("omm_"),
        "room_level_id": level_id,
        "path": directory.level_path(level_id),
        "room_status": {"status": True, "schedule_status": True, "contact_ids": []},
        "device": [{"name": d} for d in (detail.devices if detail else [])],
    }


def search_rooms(call: Call) -> dict[str, Any]:
    body = call.body
    size = body.get("page_size", 10)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        raise _bad("page_size", "must be 1-100")
    custom = body.get("custom_room_ids")
    keyword = body.get("keyword")
    level_id = body.get("room_level_id")
    with_levels = body.get("search_level_name", False)
    if not isinstance(with_levels, bool):
        raise _bad("search_level_name", "must be a boolean")
    directory = call.sb.world.directory
    rooms = list(call.sb.world.rooms.values())
    if custom:
        if not isinstance(custom, list) or not all(isinstance(c, str) for c in custom):
            raise _bad("custom_room_ids", "must be a list of strings")
        rooms = [r for r in rooms if r.room_id.removeprefix("omm_") in custom]
    elif isinstance(keyword, str) and keyword.strip():
        text = keyword.strip().casefold()

        def matches(room: MeetingRoom) -> bool:
            names = [room.name]
            detail = directory.room_details.get(room.room_id)
            if with_levels and detail is not None:
                names += directory.level_names(detail.room_level_id)
            return any(text in name.casefold() for name in names)

        rooms = [r for r in rooms if matches(r)]
    if level_id:
        if not isinstance(level_id, str) or level_id not in directory.levels:
            raise _bad("room_level_id", "no such room level")
        rooms = [r for r in rooms if level_id in _path(call, r)]
    rooms.sort(key=lambda r: r.name)
    token = body.get("page_token") or "0"
    if not isinstance(token, str) or not (token.isascii() and token.isdigit()):
        raise _bad("page_token", "is not one this search returned")
    start = int(token)
    chunk = rooms[start : start + size]
    result: dict[str, Any] = {"rooms": [room_json(call, r) for r in chunk], "has_more": start + size < len(rooms)}
    if result["has_more"]:
        result["page_token"] = str(start + size)  # the docs' example tokens are offsets ("0", "50")
    return result


def _path(call: Call, room: MeetingRoom) -> list[str]:
    directory = call.sb.world.directory
    detail = directory.room_details.get(room.room_id)
    return directory.level_path(detail.room_level_id) if detail else []
