"""The server's own client replays removals and unbinds after a lost reply.

The tools declare which Feishu code means "already done" after a replay (``done_after_replay``);
these tests hold the sandbox's routes to that contract: the first attempt lands, its reply is
dropped, the replay meets the "already gone" code, and the call still succeeds with one change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandbox import ADMIN_OPEN_ID, LI_LEI_OPEN_ID, WEEKLY_SYNC_UID, Sandbox
from server.feishu_client import FeishuClient
from server.tokens import StaticToken
from tests.sandbox.helpers_sandbox import V4, event_path
from tools.attendees import add_attendees, remove_attendees
from tools.exchange import delete_exchange_binding
from tools.meetings import unbind_meeting_chat
from tools.spec import Operation

pytestmark = pytest.mark.anyio

WEEKLY = f"{WEEKLY_SYNC_UID}_0"


@pytest.fixture
async def http(sb: Sandbox) -> AsyncIterator[Any]:
    async with sb.client() as client:
        yield client


async def send(sb: Sandbox, http: Any, op: Operation[Any, Any], path: str, token: str | None = None, **kw: Any) -> Any:
    feishu = FeishuClient(http, StaticToken(token or sb.demo_token), clock=sb.clock)
    return await feishu.call(op.name, op.method, path, replay=op.replay, done_after_replay=op.done_after_replay, **kw)


async def test_a_removal_whose_reply_was_lost(sb: Sandbox, http: Any) -> None:
    li_lei = next(a for a in sb.world.events[WEEKLY].attendees if a.open_id == LI_LEI_OPEN_ID)
    sb.faults.inject("drop", times=1, method="POST", path="/batch_delete", after_write=True)
    path = event_path(WEEKLY) + "/attendees/batch_delete"
    assert await send(sb, http, remove_attendees, path, body={"attendee_ids": [li_lei.attendee_id]}) == {}
    assert li_lei.rsvp_status == "removed"
    assert [(e.fault, e.code) for e in sb.log.matching("POST", "/batch_delete")] == [("drop", None), (None, 194000)]


async def test_an_invitation_whose_reply_was_lost_is_sent_once(sb: Sandbox, http: Any) -> None:
    sb.faults.inject("drop", times=1, method="POST", path="/attendees", after_write=True)
    body = {"attendees": [{"type": "user", "user_id": ADMIN_OPEN_ID}]}
    data = await send(sb, http, add_attendees, event_path(WEEKLY) + "/attendees", body=body)
    assert [a["user_id"] for a in data["attendees"] if a.get("user_id") == ADMIN_OPEN_ID] == [ADMIN_OPEN_ID]
    assert sum(a.open_id == ADMIN_OPEN_ID for a in sb.world.events[WEEKLY].attendees) == 1


async def test_an_unbind_whose_reply_was_lost(sb: Sandbox, http: Any) -> None:
    async with sb.client(headers={"Authorization": f"Bearer {sb.demo_token}"}) as api:
        chat_id = (await api.post(event_path(WEEKLY) + "/meeting_chat")).json()["data"]["meeting_chat_id"]
    sb.faults.inject("drop", times=1, method="DELETE", path="/meeting_chat", after_write=True)
    path = event_path(WEEKLY) + "/meeting_chat"
    assert await send(sb, http, unbind_meeting_chat, path, query=[("meeting_chat_id", chat_id)]) == {}
    assert sb.world.meeting_chats == {}
    assert [(e.fault, e.code) for e in sb.log.matching("DELETE", "/meeting_chat")] == [("drop", None), (None, 195108)]


async def test_an_exchange_unbind_whose_reply_was_lost(sb: Sandbox, http: Any) -> None:
    admin = sb.issue_user_token(ADMIN_OPEN_ID)
    body = {"admin_account": "admin@corp.example", "exchange_account": "li.lei@corp.example", "user_id": LI_LEI_OPEN_ID}
    async with sb.client(headers={"Authorization": f"Bearer {admin}"}) as api:
        binding_id = (await api.post(V4 + "/exchange_bindings", json=body)).json()["data"]["exchange_binding_id"]
    sb.faults.inject("drop", times=1, method="DELETE", path="/exchange_bindings", after_write=True)
    path = f"{V4}/exchange_bindings/{binding_id}"
    assert await send(sb, http, delete_exchange_binding, path, token=admin) == {}
    assert sb.world.exchange_bindings == {}
    replies = [(e.fault, e.code) for e in sb.log.matching("DELETE", "/exchange_bindings")]
    assert replies == [("drop", None), (None, 195103)]
