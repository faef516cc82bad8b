"""Each profile field only with its field scope, as contact-v3/user/get.md and batch.md list them:
a field the token may not read is left out (an empty value it may read is there, empty)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from sandbox import DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID, Sandbox
from tests.sandbox.helpers_sandbox import bearer, ok

pytestmark = pytest.mark.anyio

BATCH = "/open-apis/contact/v3/users/batch"
ONE = f"/open-apis/contact/v3/users/{LI_LEI_OPEN_ID}"
BASE = "contact:contact.base:readonly"


async def read(sb: Sandbox, anonymous: httpx2.AsyncClient, *scopes: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Li Lei's profile from the batch read and from the single read, under a token with ``scopes``."""
    headers = bearer(sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=[BASE, *scopes]))
    (batch,) = ok(await anonymous.get(BATCH, params={"user_ids": LI_LEI_OPEN_ID}, headers=headers))["items"]
    one: dict[str, Any] = ok(await anonymous.get(ONE, headers=headers))["user"]
    return batch, one


@pytest.mark.parametrize(
    ("scopes", "fields"),
    [
        ((), set()),
        (("contact:user.base:readonly",), {"name", "en_name"}),
        (("contact:user.department:readonly",), {"department_ids"}),
        (("contact:user.employee:readonly",), {"status", "city", "job_title"}),
        (("contact:user.email:readonly",), {"email"}),
        (("contact:user.employee_id:readonly",), {"user_id"}),
        # The whole-address-book scope reads every ordinary field, but not email.
        (("contact:contact:readonly",), {"name", "en_name", "department_ids", "status", "city", "job_title"}),
    ],
)
async def test_each_field_needs_its_scope(
    sb: Sandbox, anonymous: httpx2.AsyncClient, scopes: tuple[str, ...], fields: set[str]
) -> None:
    batch, one = await read(sb, anonymous, *scopes)
    assert set(batch) == {"open_id", "union_id"} | fields
    assert set(one) == set(batch)


async def test_department_path_only_from_the_single_read_with_its_scope(
    sb: Sandbox, anonymous: httpx2.AsyncClient
) -> None:
    batch, one = await read(sb, anonymous, "contact:user.department_path:readonly")
    assert "department_path" not in batch
    assert one["department_path"][0]["department_name"]["i18n_name"]["en_us"] == "Backend"
