"""``GET /open-apis/authen/v1/user_info``: who the user token belongs to (feishu-api.md §7.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.wire import Call, api_route

if TYPE_CHECKING:
    from sandbox.core import Api

AVATAR = "https://sandbox.invalid/avatar/{open_id}_{size}.png"


def routes(sb: Api) -> list[BaseRoute]:
    return [api_route(sb, "GET", "/open-apis/authen/v1/user_info", user_info, scopes=(), user_only=True)]


def user_info(call: Call) -> dict[str, Any]:
    user = call.user
    assert user is not None  # user_only routes always have a user
    data: dict[str, Any] = {
        "name": user.name,
        "en_name": user.en_name,
        "open_id": user.open_id,
        "union_id": user.union_id,
        "tenant_key": user.tenant_key,
        "avatar_url": AVATAR.format(open_id=user.open_id, size="orig"),
        "avatar_thumb": AVATAR.format(open_id=user.open_id, size="72"),
        "avatar_middle": AVATAR.format(open_id=user.open_id, size="240"),
        "avatar_big": AVATAR.format(open_id=user.open_id, size="640"),
    }
    # Extra fields only with their extra scope, as Feishu does.
    granted = call.token.scopes
    if "contact:user.email:readonly" in granted:
        data["email"] = user.email
    if "contact:user.employee_id:readonly" in granted:
        data["user_id"] = user.user_id
    if "contact:user.phone:readonly" in granted and user.mobile:
        data["mobile"] = user.mobile
    return data
