"""The scheduling endpoints the last stop left unlike Feishu, as a user of the official lark-oapi SDK
meets them: public chats in chat search, the room-level search by custom ids, and the suggestion's
``event_rrule``. Same pattern as test_sandbox_scheduling_fidelity.py: the SDK's request objects,
sent to the sandbox on loopback, read back through the SDK's models.
"""

from __future__ import annotations

from typing import Any

from lark_oapi.api.im.v1 import GetChatMembersRequest, SearchChatRequest

from sandbox import DEMO_CHAT_ID, EXTERNAL_OPEN_ID, Sandbox
from sandbox.seed_directory import DESIGN_CHAT_ID, FRONTEND_CHAT_ID, open_id
from tests.sandbox.lark_sdk import as_user, parsed
from tests.sandbox.test_sandbox_scheduling_fidelity import refused


def search(client: Any, option: Any, query: str, **params: Any) -> Any:
    builder = SearchChatRequest.builder().query(query)
    for name, value in params.items():
        builder = getattr(builder, name)(value)
    return client.im.v1.chat.search(builder.build(), option)


def members(client: Any, option: Any, chat_id: str) -> Any:
    return client.im.v1.chat_members.get(GetChatMembersRequest.builder().chat_id(chat_id).build(), option)


def test_chat_search_finds_public_chats_the_user_is_not_in_page_by_page(client: Any, sb: Sandbox, as_demo: Any) -> None:
    # search.md: the chats visible to the identity, "the ones it is in and the ones public to it".
    assert sb.demo_user.open_id not in sb.world.chats[FRONTEND_CHAT_ID].member_open_ids
    seen: list[Any] = []
    token = None
    while True:
        more: dict[str, str] = {"page_token": token} if token else {}
        page = parsed(search(client, as_demo, "guild", page_size=1, **more))
        assert len(page.items) == 1
        seen += page.items
        if not page.has_more:
            assert page.page_token is None
            break
        token = page.page_token
    assert [c.chat_id for c in seen] == [DESIGN_CHAT_ID, FRONTEND_CHAT_ID]
    public = seen[1]
    owner = sb.world.users[open_id("yang0fan")]
    assert (public.name, public.owner_id, public.owner_id_type, public.external, public.chat_status) == (
        "Frontend guild 前端",
        owner.open_id,
        "open_id",
        False,
        "normal",
    )
    assert public.tenant_key == sb.demo_user.tenant_key and public.avatar
    # A member's name finds the public chat too ("关键词支持匹配群国际化名称、群成员名称").
    assert FRONTEND_CHAT_ID in [c.chat_id for c in parsed(search(client, as_demo, "Lin Na")).items]


def test_a_public_chat_lists_its_members_to_members_only(client: Any, sb: Sandbox, as_demo: Any) -> None:
    # chat-member/get.md: "the operator (bot or user) must be in the chat"; 232011 otherwise.
    refused(members(client, as_demo, FRONTEND_CHAT_ID), 232011, 400)
    member = as_user(sb.issue_user_token(open_id("lin0na")))
    listed = parsed(members(client, member, FRONTEND_CHAT_ID))
    assert [m.member_id for m in listed.items] == sb.world.chats[FRONTEND_CHAT_ID].member_open_ids
    assert listed.member_total == 3


def test_private_chats_and_other_tenants_public_chats_stay_hidden(client: Any, sb: Sandbox, as_demo: Any) -> None:
    # The private "Backend team" is not the demo user's: search does not show it.
    assert parsed(search(client, as_demo, "Backend team")).items == []
    outsider = as_user(sb.issue_user_token(EXTERNAL_OPEN_ID))
    found = parsed(search(client, outsider, "guild"))
    assert found.items == [] and found.has_more is False
    # A chat the demo user is in is found as before.
    assert [c.chat_id for c in parsed(search(client, as_demo, "Product team")).items] == [DEMO_CHAT_ID]
