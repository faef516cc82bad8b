"""People look-ups: ``GET /open-apis/search/v1/user`` and the contact reads ``GET /contact/v3/users/batch``,
``GET /contact/v3/users/:user_id``, ``POST /contact/v3/users/basic_batch`` and the app identity's
``POST /contact/v3/users/batch_get_id``.

scheduling-api.md §2.1-2.4. The search is user-token only, matches names (Chinese or
Latin, any part), never finds resigned users or users of another tenant, and returns no email.
The batch returns profiles for up to 50 ids (more is 40001, "invalid parameter", the page's code
for a bad parameter) and silently leaves out users the caller may not see (another tenant); each
field needs its own scope, as on Feishu. One profile: 41012 for an unknown id, 41050 for a user
outside the caller's visibility (another tenant). basic_batch: names for 1-10 ids, any tenant
(the page: it does not check the contact range), 40001 otherwise. batch_get_id (tenant token only):
one entry per email and per mobile asked for, in that order ("the number of ids returned is the
number of emails plus the number of mobiles"); an address that finds nobody the app may see has no
``user_id`` (the page lists a missing address among the reasons "no user id is returned").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from sandbox.state import User
from sandbox.wire import (
    FeishuFault,
    api_route,
    decode_offset,
    encode_token,
    field_validation,
    invalid,
)

if TYPE_CHECKING:
    from sandbox.core import Api
    from sandbox.wire import Call

SEARCH_SCOPES = ("contact:user:search",)
PROFILE_SCOPES = (
    "contact:contact.base:readonly",
    "contact:contact:access_as_app",
    "contact:contact:readonly",
    "contact:contact:readonly_as_app",
)
# batch.md names one API scope where get.md names four (any one of PROFILE_SCOPES).
BATCH_SCOPES = ("contact:contact.base:readonly",)
BATCH_LIMIT = 50
BASIC_BATCH_LIMIT = 10
BASIC_SCOPES = ("contact:user.basic_profile:readonly",)
CONTACT = "/open-apis/contact/v3"
GET_ID_SCOPES = ("contact:user.id:readonly",)
GET_ID_LIMIT = 50  # emails and mobiles each (batch_get_id.md: "最大长度 50")
# batch_get_id.md: ``status`` needs any one of these field scopes, held by the app (a tenant token).
STATUS_SCOPES = (
    "contact:user.employee:readonly",
    "contact:contact:access_as_app",
    "contact:contact:readonly",
    "contact:contact:readonly_as_app",
)
AVATAR = "https://sandbox.invalid/avatar/{open_id}_{size}.png"


def routes(sb: Api) -> list[BaseRoute]:
    return [
        api_route(sb, "GET", "/open-apis/search/v1/user", search_users, scopes=SEARCH_SCOPES, user_only=True),
        api_route(sb, "GET", "/open-apis/contact/v3/users/batch", users_batch, scopes=BATCH_SCOPES),
        api_route(sb, "POST", "/open-apis/contact/v3/users/basic_batch", basic_batch, scopes=BASIC_SCOPES),
        api_route(sb, "POST", CONTACT + "/users/batch_get_id", batch_get_id, scopes=GET_ID_SCOPES, tenant_only=True),
        api_route(sb, "GET", "/open-apis/contact/v3/users/{user_id}", get_user, scopes=PROFILE_SCOPES),
    ]


def _matches(user: User, text: str) -> bool:
    text = text.casefold()
    compact = text.replace(" ", "")
    names = (user.name.casefold(), user.en_name.casefold())
    return any(text in name or compact in name.replace(" ", "") for name in names)


def searchable(call: Call, user: User) -> bool:
    """Active users of the caller's tenant: resigned and external users are never found."""
    assert call.user is not None  # user-only route
    return user.status == "active" and user.tenant_key == call.user.tenant_key


def search_users(call: Call) -> dict[str, Any]:
    query = (call.query("query") or "").strip()
    if not query:
        raise invalid("query", query, "is required")
    size = call.query_int("page_size", default=20, low=1, high=200)
    found = [u for u in call.sb.world.users.values() if searchable(call, u) and _matches(u, query)]
    # Closest first: a name that is the query itself, then names that start with it.
    found.sort(key=lambda u: (query.casefold() not in (u.name.casefold(), u.en_name.casefold()), u.en_name))
    start = decode_offset("usersearch", token) if (token := call.query("page_token")) else 0
    chunk = found[start : start + size]
    has_more = start + size < len(found)
    directory = call.sb.world.directory
    users = []
    for user in chunk:
        entry: dict[str, Any] = {
            "avatar": {
                key: AVATAR.format(open_id=user.open_id, size=size_name)
                for key, size_name in (
                    ("avatar_72", "72"),
                    ("avatar_240", "240"),
                    ("avatar_640", "640"),
                    ("avatar_origin", "orig"),
                )
            },
            "department_ids": list(directory.profiles[user.open_id].department_ids)
            if user.open_id in directory.profiles
            else [],
            "name": user.name,
            "open_id": user.open_id,
        }
        if "contact:user.employee_id:readonly" in call.token.scopes:
            entry["user_id"] = user.user_id
        users.append(entry)
    result: dict[str, Any] = {"has_more": has_more, "users": users}
    if has_more:
        result["page_token"] = encode_token("usersearch", start + size)
    return result


def _department_id_type(call: Call) -> None:
    """``department_id_type`` is one of two options (get.md, batch.md), checked by the gateway. The
    sandbox's departments have only their open ids, so either answers with those."""
    kind = call.query("department_id_type")
    if kind and kind not in ("open_department_id", "department_id"):
        options = "department_id_type is optional, options: [department_id,open_department_id]"
        raise field_validation("department_id_type", kind, options)


def users_batch(call: Call) -> dict[str, Any]:
    _department_id_type(call)
    ids = call.query_list("user_ids")
    if not 1 <= len(ids) <= BATCH_LIMIT:
        raise FeishuFault(40001, f"invalid parameter: user_ids takes 1 to {BATCH_LIMIT} ids", 400)
    kind = call.user_id_type()
    world = call.sb.world
    items = []
    for user_id in dict.fromkeys(ids):
        user = world.user_by_any_id(user_id, kind)
        if user is None:
            raise FeishuFault(41012, f"invalid user_id: {user_id}", 400)
        if call.user is not None and user.tenant_key != call.user.tenant_key:
            continue  # outside the caller's visibility: silently left out (scheduling-api.md §2.4)
        items.append(_profile(call, user))
    return {"items": items}


def get_user(call: Call) -> dict[str, Any]:
    _department_id_type(call)
    user = call.sb.world.user_by_any_id(call.path["user_id"], call.user_id_type())
    if user is None:
        raise FeishuFault(41012, "user id invalid error", 400)
    if call.user is not None and user.tenant_key != call.user.tenant_key:
        raise FeishuFault(41050, "no user authority", 400)
    return {"user": _profile(call, user, single=True)}


def basic_batch(call: Call) -> dict[str, Any]:
    ids = call.body.get("user_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= BASIC_BATCH_LIMIT or not all(isinstance(i, str) for i in ids):
        raise FeishuFault(40001, f"param is invalid: user_ids takes 1 to {BASIC_BATCH_LIMIT} ids", 400)
    kind = call.user_id_type()
    found = [(i, call.sb.world.user_by_any_id(i, kind)) for i in dict.fromkeys(ids)]
    return {
        "users": [
            {"user_id": i, "name": u.name, "i18n_name": {"zh_cn": u.name, "en_us": u.en_name}}
            for i, u in found
            if u is not None
        ]
    }


def batch_get_id(call: Call) -> dict[str, Any]:
    kind = call.user_id_type()
    asked: list[tuple[str, str]] = []
    for name in ("emails", "mobiles"):
        values = call.body.get(name)
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise field_validation(name, values, f"{name} must be a list of strings")
        if len(values) > GET_ID_LIMIT:
            raise field_validation(name, len(values), f"the max len is {GET_ID_LIMIT}")
        asked += [(name[:-1], v) for v in values]
    include_resigned = call.body.get("include_resigned") is True
    app = call.sb.world.apps.get(call.token.app_id)
    tenant = app.tenant_key if app is not None else ""
    enabled = app.enabled_scopes if app is not None else None
    with_status = enabled is None or any(s in enabled for s in STATUS_SCOPES)
    listed = []
    for field, value in asked:
        entry: dict[str, Any] = {field: value}
        user = _by_address(call, field, value, tenant)
        if user is not None and (user.status != "resigned" or include_resigned):
            entry["user_id"] = {"open_id": user.open_id, "union_id": user.union_id, "user_id": user.user_id}[kind]
            if with_status:
                entry["status"] = _status(user)
        listed.append(entry)
    return {"user_list": listed}


def _by_address(call: Call, field: str, value: str, tenant: str) -> User | None:
    """The app's tenant's user with that email, or that mobile (a mainland number may omit +86)."""
    for user in call.sb.world.users.values():
        if user.tenant_key != tenant:
            continue
        if field == "email" and user.email and user.email.casefold() == value.strip().casefold():
            return user
        if field == "mobile" and user.mobile and value.strip() in (user.mobile, user.mobile.removeprefix("+86")):
            return user
    return None


def _status(user: User) -> dict[str, bool]:
    return {
        "is_frozen": user.status == "frozen",
        "is_resigned": user.status == "resigned",
        "is_activated": user.status == "active",
        "is_exited": user.status == "resigned",
        "is_unjoin": False,
    }


# Scopes that read every ordinary profile field (the "满足任一" lists of contact-v3/user/get.md).
WHOLE_PROFILE = ("contact:contact:access_as_app", "contact:contact:readonly", "contact:contact:readonly_as_app")


def _profile(call: Call, user: User, *, single: bool = False) -> dict[str, Any]:
    """A user as contact-v3/user/batch.md and get.md return one: each field only with its field scope.

    name/en_name: ``contact:user.base:readonly``; department_ids: ``contact:user.department:readonly``;
    status, city, job_title: ``contact:user.employee:readonly`` (each also with any of
    ``WHOLE_PROFILE``); email: ``contact:user.email:readonly`` alone; user_id:
    ``contact:user.employee_id:readonly``. ``department_path`` only from the single-user read, with
    a user token and ``contact:user.department_path:readonly`` ("该查询接口目前不返回...部门路径",
    batch.md). A field the token may read but the user has no value for is there, empty.
    """
    scopes = call.token.scopes

    def granted(field_scope: str) -> bool:
        return field_scope in scopes or any(s in scopes for s in WHOLE_PROFILE)

    profile = call.sb.world.directory.profiles.get(user.open_id)
    departments = list(profile.department_ids) if profile is not None else []
    out: dict[str, Any] = {"open_id": user.open_id, "union_id": user.union_id}
    if granted("contact:user.base:readonly"):
        out |= {"name": user.name, "en_name": user.en_name}
    if "contact:user.employee_id:readonly" in scopes:
        out["user_id"] = user.user_id
    if "contact:user.email:readonly" in scopes:
        out["email"] = user.email
    if granted("contact:user.department:readonly"):
        out["department_ids"] = departments
    if user.time_zone:  # only set by a test: see User.time_zone
        out["time_zone"] = user.time_zone
    if granted("contact:user.employee:readonly"):
        out["status"] = _status(user)
        out |= {"job_title": profile.job_title if profile else "", "city": profile.city if profile else ""}
    if single and call.user is not None and "contact:user.department_path:readonly" in scopes:
        out["department_path"] = [_department_path(call, d) for d in departments]
    return out


def _department_path(call: Call, department_id: str) -> dict[str, Any]:
    departments = call.sb.world.directory.departments
    chain: list[str] = []
    current = department_id
    while current in departments:
        chain.insert(0, current)
        current = departments[current].parent_id
    department = departments.get(department_id)
    return {
        "department_id": department_id,
        "department_name": {
            "name": department.name if department else "",
            "i18n_name": {"zh_cn": department.name, "en_us": department.en_name} if department else {},
        },
        "department_path": {
            "department_ids": chain,
            "department_path_name": {
                "name": "/".join(departments[d].name for d in chain),
                "i18n_name": {"en_us": "/".join(departments[d].en_name for d in chain)},
            },
        },
    }
