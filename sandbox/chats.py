"""Group chats: ``GET /open-apis/im/v1/chats/search`` and ``GET /open-apis/im/v1/chats/:chat_id/members``.

scheduling-api.md §2.7. Search matches chat names (and member names) for chats the caller is in;
an empty query or one over 64 characters finds nothing (as documented). Members are listed only
to a member of the chat (232011 otherwise; the docs' code for this case is UNVERIFIED).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.state import Chat
from sandbox.wire import FeishuFault, api_route, page

if TYPE_CHECKING:
    from sandbox.app import Sandbox
    from sandbox.wire import Call

SEARCH_SCOPES = ("im:chat", "im:chat:readonly", "im:chat:read", "im:chat.group_info:readonly")
MEMBER_SCOPES = ("im:chat", "im:chat:readonly", "im:chat.members:read")


def routes(sb: Sandbox) -> list[BaseRoute]:
    return [
        api_route(sb, "GET", "/open-apis/im/v1/chats/search", search_chats, scopes=SEARCH_SCOPES),
        api_route(sb, "GET", "/open-apis/im/v1/chats/{chat_id}/members", chat_members, scopes=MEMBER_SCOPES),
    ]


def _visible(call: Call, chat: Chat) -> bool:
    return call.user is None or call.user.open_id in chat.member_open_ids


def search_chats(call: Call) -> dict[str, Any]:
    query = (call.query("query") or "").strip().casefold()
    size = call.query_int("page_size", default=20, low=1, high=100)
    world = call.sb.world
    found = []
    if 0 < len(query) <= 64:
        for chat in world.chats.values():
            members = [world.users[m] for m in chat.member_open_ids if m in world.users]
            names = [chat.name, *(u.name for u in members), *(u.en_name for u in members)]
            if _visible(call, chat) and any(query in n.casefold() for n in names):
                found.append(chat)
    items = [
        {
            "chat_id": chat.chat_id,
            "avatar": f"https://sandbox.invalid/chat/{chat.chat_id}.png",
            "name": chat.name,
            "description": "",
            "owner_id": chat.owner_open_id,
            "owner_id_type": "open_id",
            "external": False,
            "tenant_key": call.user.tenant_key if call.user is not None else "",
            "chat_status": "normal",
        }
        for chat in found
    ]
    return page(call, items, size)


def chat_members(call: Call) -> dict[str, Any]:
    chat = call.sb.world.chats.get(call.path["chat_id"])
    if chat is None:
        raise FeishuFault(232010, "chat not found (or the chat id is invalid)", 400)
    if not _visible(call, chat):
        raise FeishuFault(232011, "the operator is not in the chat", 400)
    size = call.query_int("page_size", default=20, low=1, high=100)
    kind = call.query("member_id_type") or "open_id"
    world = call.sb.world
    members = [world.users[m] for m in chat.member_open_ids if m in world.users]
    items = [
        {
            "member_id_type": kind,
            "member_id": u.open_id if kind == "open_id" else u.union_id if kind == "union_id" else u.user_id,
            "name": u.name,
            "tenant_key": u.tenant_key,
        }
        for u in members
    ]
    result = page(call, items, size)
    result["member_total"] = len(items)
    return result
