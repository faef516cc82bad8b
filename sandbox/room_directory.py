"""The room and room-level directory of ``vc/v1``, tenant token only (scheduling-api.md §4.2).

``GET /rooms`` (``room_level_id`` empty = the whole tenant, else the rooms directly on that level),
``GET /rooms/:room_id``, ``POST /rooms/mget``; ``GET /room_levels`` (children of ``room_level_id``,
the root when empty), ``GET /room_levels/:room_level_id``, ``POST /room_levels/mget``, ``GET
/room_levels/search?custom_level_ids=1000,1001`` (the level ids whose ``custom_group_id`` is listed,
vc-v1/room_level/search.md). Pages hold
at most 100 (``page_size`` checked by the gateway, 99992402); an unknown room or level is 121004
"data not exist" (vc-v1/room/get.md). Each page marks these ``tenant_access_token`` only: a user
token is refused by the gateway with 99991668, the code that also means "this API does not take
user tokens" (feishu-api.md §10.2; which of 99991668 and the vc service's 121005 Feishu sends is
not documented). A level's ``path`` is its ancestors from the root (the get page's example: the
parent's id), a room's is every level above it down to its own, as in room search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.directory import RoomLevel
from sandbox.room_search import ROOM_SCOPES, room_json
from sandbox.wire import FeishuFault, api_route, page

if TYPE_CHECKING:
    from sandbox.core import Api
    from sandbox.wire import Call, Handler

VC = "/open-apis/vc/v1"
MAX_IDS = 100  # mget: the pages state no limit; a page's worth


def routes(sb: Api) -> list[BaseRoute]:
    def tenant(method: str, path: str, handler: Handler) -> BaseRoute:
        return api_route(sb, method, VC + path, handler, scopes=ROOM_SCOPES, tenant_only=True)

    return [
        tenant("GET", "/rooms", list_rooms),
        tenant("POST", "/rooms/mget", mget_rooms),
        tenant("GET", "/rooms/{room_id}", get_room),
        tenant("GET", "/room_levels", list_levels),
        tenant("POST", "/room_levels/mget", mget_levels),
        tenant("GET", "/room_levels/search", search_levels),  # before /{room_level_id}, which would take it
        tenant("GET", "/room_levels/{room_level_id}", get_level),
    ]


def _missing(what: str) -> FeishuFault:
    return FeishuFault(121004, f"data not exist: {what}", 404)


def _ids(call: Call, name: str) -> list[str]:
    ids = call.body.get(name)
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS or not all(isinstance(i, str) for i in ids):
        raise FeishuFault(121003, f"param error: {name} takes 1 to {MAX_IDS} ids", 400)
    return list(dict.fromkeys(ids))


def _level_of(call: Call, room_id: str) -> str:
    detail = call.sb.world.directory.room_details.get(room_id)
    return detail.room_level_id if detail else ""


def list_rooms(call: Call) -> dict[str, Any]:
    size = call.query_int("page_size", default=20, low=1, high=100)
    level_id = call.query("room_level_id") or ""
    if level_id and level_id not in call.sb.world.directory.levels:
        raise _missing(f"room_level_id {level_id}")
    rooms = sorted(call.sb.world.rooms.values(), key=lambda r: r.name)
    if level_id:
        rooms = [r for r in rooms if _level_of(call, r.room_id) == level_id]
    result = page(call, [room_json(call, r) for r in rooms], size, "vcrooms")
    result["rooms"] = result.pop("items")
    return result


def get_room(call: Call) -> dict[str, Any]:
    room = call.sb.world.rooms.get(call.path["room_id"])
    if room is None:
        raise _missing(f"room_id {call.path['room_id']}")
    return {"room": room_json(call, room)}


def mget_rooms(call: Call) -> dict[str, Any]:
    rooms = call.sb.world.rooms
    return {"items": [room_json(call, rooms[i]) for i in _ids(call, "room_ids") if i in rooms]}


def level_json(call: Call, level: RoomLevel) -> dict[str, Any]:
    directory = call.sb.world.directory
    return {
        "room_level_id": level.room_level_id,
        "name": level.name,
        "parent_id": level.parent_id,
        "path": directory.level_path(level.parent_id),
        "has_child": any(other.parent_id == level.room_level_id for other in directory.levels.values()),
        "custom_group_id": custom_id(level),
    }


def custom_id(level: RoomLevel) -> str:
    """The tenant's own id for a level (``custom_group_id``; search.md's ``custom_level_ids``)."""
    return level.room_level_id.removeprefix("omb_")


def _levels(call: Call, ids: Sequence[str]) -> list[dict[str, Any]]:
    levels = call.sb.world.directory.levels
    return [level_json(call, levels[i]) for i in ids if i in levels]


def list_levels(call: Call) -> dict[str, Any]:
    size = call.query_int("page_size", default=20, low=1, high=100)
    parent = call.query("room_level_id") or "0"
    levels = call.sb.world.directory.levels
    if parent != "0" and parent not in levels:
        raise _missing(f"room_level_id {parent}")
    children = sorted((lv for lv in levels.values() if lv.parent_id == parent), key=lambda lv: lv.name)
    return page(call, _levels(call, [lv.room_level_id for lv in children]), size, "vclevels")


def get_level(call: Call) -> dict[str, Any]:
    found = _levels(call, [call.path["room_level_id"]])
    if not found:
        raise _missing(f"room_level_id {call.path['room_level_id']}")
    return {"room_level": found[0]}


def mget_levels(call: Call) -> dict[str, Any]:
    return {"items": _levels(call, _ids(call, "level_ids"))}


def search_levels(call: Call) -> dict[str, Any]:
    """``custom_level_ids`` is required, comma separated (the page's example ``1000,1001``); the page
    is silent on ids that match no level: they are left out, as a search finds nothing for them."""
    wanted = [i.strip() for i in (call.query("custom_level_ids") or "").split(",") if i.strip()]
    if not wanted:
        raise FeishuFault(121003, "param error: custom_level_ids is required", 400)
    by_custom = {custom_id(lv): lv.room_level_id for lv in call.sb.world.directory.levels.values()}
    return {"level_ids": [by_custom[i] for i in dict.fromkeys(wanted) if i in by_custom]}
