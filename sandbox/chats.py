"""Group chats: ``GET /open-apis/im/v1/chats/search`` and ``GET /open-apis/im/v1/chats/:chat_id/members``.

scheduling-api.md §2.7; [D] ``group/chat/search.md``, ``group/chat-member/get.md``. Search matches
chat names (and member names) among the chats visible to the caller: the ones it is in and the
public ones of its tenant (search.md: "当前身份所在的群、对当前身份公开的群"); an empty query or one
over 64 characters finds nothing (as documented); ``owner_id`` is in the ``user_id_type`` asked for.
Members are listed only to a member of the chat, public or not (get.md: "操作者必须在被查询的群组内";
232011 "Operator can NOT be out of the chat"), in ``member_id_type``; an unknown chat id is 232006
("invalid chat_id"), a chat of another tenant 232010, as the page lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.state import Chat, User
from sandbox.wire import EMPLOYEE_ID_SCOPE, FeishuFault, api_route, field_validation, page

if TYPE_CHECKING:
    from sandbox.core import Api
    from sandbox.wire import Call

SEARCH_SCOPES = ("im:chat", "im:chat:readonly", "im:chat:read", "im:chat.group_info:readonly")
MEMBER_SCOPES = ("im:chat", "im:chat:readonly", "im:chat.members:read", "im:chat.group_info:readonly")


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "GET", "/open-apis/im/v1/chats/search", search_chats, scopes=SEARCH_SCOPES),
        api_route(sb, "GET", "/open-apis/im/v1/chats/{chat_id}/members", chat_members, scopes=MEMBER_SCOPES),
    ]


def _member(call: Call, chat: Chat) -> bool:
    return call.user is None or call.user.open_id in chat.member_open_ids


def _visible(call: Call, chat: Chat) -> bool:
    """Found by search: a chat the caller is in, or a public chat of the caller's tenant."""
    if _member(call, chat):
        return True
    return chat.public and call.user is not None and _chat_tenant(call, chat) == call.user.tenant_key


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
            "owner_id": _owner_id(call, chat),
            "owner_id_type": call.user_id_type(),
            "external": False,
            "tenant_key": _chat_tenant(call, chat),
            "chat_status": "normal",
        }
        for chat in found
    ]
    return page(call, items, size)


def _owner_id(call: Call, chat: Chat) -> str:
    owner = call.sb.world.users.get(chat.owner_open_id)
    return call.user_ref(owner) if owner is not None else chat.owner_open_id


def _chat_tenant(call: Call, chat: Chat) -> str:
    owner = call.sb.world.users.get(chat.owner_open_id)
    return owner.tenant_key if owner is not None else ""


def _member_id_type(call: Call) -> str:
    """``member_id_type`` (open_id by default): the gateway checks its options, like user_id_type's."""
    kind = call.query("member_id_type") or "open_id"
    if kind not in ("open_id", "union_id", "user_id"):
        options = "member_id_type is optional, options: [open_id,union_id,user_id]"
        raise field_validation("member_id_type", kind, options)
    if kind == "user_id" and call.token.is_user and EMPLOYEE_ID_SCOPE not in call.token.scopes:
        raise FeishuFault(
            99991679,
            f"Unauthorized. member_id_type=user_id needs the scope [{EMPLOYEE_ID_SCOPE}]",
            403,
            {"permission_violations": [{"type": "action_scope_required", "subject": EMPLOYEE_ID_SCOPE}]},
        )
    return kind


def _member_id(user: User, kind: str) -> str:
    return user.open_id if kind == "open_id" else user.union_id if kind == "union_id" else user.user_id


def chat_members(call: Call) -> dict[str, Any]:
    kind = _member_id_type(call)
    size = call.query_int("page_size", default=20, low=1, high=100)
    chat = call.sb.world.chats.get(call.path["chat_id"])
    if chat is None:
        raise FeishuFault(232006, "Your request specifies a chat_id which is invalid.", 400)
    if call.user is not None and _chat_tenant(call, chat) not in ("", call.user.tenant_key):
        raise FeishuFault(232010, "Operator and chat can NOT be in different tenants.", 400)
    if not _member(call, chat):
        raise FeishuFault(232011, "Operator can NOT be out of the chat.", 400)
    world = call.sb.world
    members = [world.users[m] for m in chat.member_open_ids if m in world.users]
    items = [
        {"member_id_type": kind, "member_id": _member_id(u, kind), "name": u.name, "tenant_key": u.tenant_key}
        for u in members
    ]
    result = page(call, items, size)
    result["member_total"] = len(items)
    return result
