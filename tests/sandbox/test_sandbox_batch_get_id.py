"""``POST /contact/v3/users/batch_get_id`` (contact-v3/user/batch_get_id.md) through the official SDK.

The route used to be missing: the SDK's ``contact.v3.user.batch_get_id`` got 405 / 99991301 from the
``users/:user_id`` path. The page: tenant token only; one entry per email and per mobile asked for
("the number of user ids returned is the number of emails plus the number of mobiles"), without a
``user_id`` when the address finds nobody, or a resigned user unless ``include_resigned``.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from lark_oapi.api.contact.v3 import BatchGetIdUserRequest, BatchGetIdUserRequestBody

from sandbox import EXTERNAL_OPEN_ID, LI_LEI_OPEN_ID, Sandbox
from sandbox.seed_directory import ZHAO_MIN_RESIGNED_OPEN_ID
from tests.sandbox.lark_sdk import sdk_client

ZHAO_MIN = "zhao.min.resigned@sandbox.example"


def get_ids(base_url: str, **body: Any) -> Any:
    builder = BatchGetIdUserRequestBody.builder()
    for name, value in body.items():
        builder = getattr(builder, name)(value)
    request = BatchGetIdUserRequest.builder().user_id_type("open_id").request_body(builder.build()).build()
    return sdk_client(base_url, user_tokens=False).contact.v3.user.batch_get_id(request)


def test_every_address_asked_for_has_its_entry(sb: Sandbox, base_url: str) -> None:
    sb.world.users[LI_LEI_OPEN_ID].mobile = "+8613800000002"
    outsider = sb.world.users[EXTERNAL_OPEN_ID].email
    response = get_ids(
        base_url, emails=["Li.Lei@sandbox.example", "nobody@sandbox.example", outsider], mobiles=["13800000002"]
    )
    assert response.success(), (response.code, response.msg)
    listed = [(u.email, u.mobile, u.user_id) for u in response.data.user_list]
    assert listed == [
        ("Li.Lei@sandbox.example", None, LI_LEI_OPEN_ID),
        ("nobody@sandbox.example", None, None),
        (outsider, None, None),  # another tenant: not one the app may see
        (None, "13800000002", LI_LEI_OPEN_ID),  # a mainland number without +86
    ]
    status = response.data.user_list[0].status
    assert (status.is_activated, status.is_resigned, status.is_frozen) == (True, False, False)


def test_a_resigned_user_only_with_include_resigned(sb: Sandbox, base_url: str) -> None:
    assert get_ids(base_url, emails=[ZHAO_MIN]).data.user_list[0].user_id is None
    found = get_ids(base_url, emails=[ZHAO_MIN], include_resigned=True).data.user_list[0]
    assert found.user_id == ZHAO_MIN_RESIGNED_OPEN_ID and found.status.is_resigned


def test_more_than_50_emails_is_the_gateways_refusal(base_url: str) -> None:
    response = get_ids(base_url, emails=[f"u{i}@sandbox.example" for i in range(51)])
    assert response.code == 99992402 and response.get_log_id()


@pytest.mark.anyio
async def test_a_user_token_is_refused(api: httpx2.AsyncClient) -> None:
    reply = await api.post("/open-apis/contact/v3/users/batch_get_id", json={"emails": ["li.lei@sandbox.example"]})
    assert reply.json()["code"] == 99991668
