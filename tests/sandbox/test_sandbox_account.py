"""User-only routes: event-change subscriptions, CalDAV config, Exchange bindings."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx2
import pytest
from lark_oapi.api.calendar.v4 import (
    CreateExchangeBindingRequest,
    DeleteExchangeBindingRequest,
    ExchangeBinding,
    GenerateCaldavConfSettingRequest,
    GenerateCaldavConfSettingRequestBody,
    GetExchangeBindingRequest,
    SubscriptionCalendarEventRequest,
    UnsubscriptionCalendarEventRequest,
)

from sandbox import (
    ADMIN_OPEN_ID,
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_PRIMARY_CALENDAR_ID,
    DEMO_USER_OPEN_ID,
    EXTERNAL_OPEN_ID,
    LI_LEI_OPEN_ID,
    TEAM_CALENDAR_ID,
    Sandbox,
    running,
)
from sandbox.subscriptions import subscribers
from tests.sandbox.helpers_sandbox import V4, bearer, fails, ok
from tests.sandbox.lark_sdk import as_user, parsed, sdk_client

pytestmark = pytest.mark.anyio

CALDAV = V4 + "/settings/generate_caldav_conf"
EXCHANGE = V4 + "/exchange_bindings"


def subscription(calendar_id: str, verb: str = "subscription") -> str:
    return f"{V4}/calendars/{calendar_id}/events/{verb}"


# -- subscriptions ------------------------------------------------------------------------------


async def test_subscribe_records_app_user_and_calendar_once(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    assert ok(await api.post(subscription(DEMO_PRIMARY_CALENDAR_ID))) == {}
    ok(await api.post(subscription(DEMO_PRIMARY_CALENDAR_ID)))
    [held] = subscribers(sb.world, DEMO_PRIMARY_CALENDAR_ID)
    assert (held.app_id, held.open_id) == (DEMO_APP_ID, DEMO_USER_OPEN_ID)
    assert ok(await api.post(subscription(DEMO_PRIMARY_CALENDAR_ID, "unsubscription"))) == {}
    assert subscribers(sb.world, DEMO_PRIMARY_CALENDAR_ID) == []
    # Unsubscribing again is not an error.
    ok(await api.post(subscription(DEMO_PRIMARY_CALENDAR_ID, "unsubscription")))


async def tenant_token(api: httpx2.AsyncClient) -> str:
    reply = await api.post(
        "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}
    )
    token: str = reply.json()["tenant_access_token"]
    return token


async def test_user_only_routes_refuse_the_app_identity(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    app = bearer(await tenant_token(api))
    some_id = base64.urlsafe_b64encode(b"admin@corp.example li.lei@corp.example").decode()
    for method, path in (
        ("POST", subscription(TEAM_CALENDAR_ID)),
        ("POST", subscription(TEAM_CALENDAR_ID, "unsubscription")),
        ("POST", CALDAV),
        ("POST", EXCHANGE),
        ("GET", f"{EXCHANGE}/{some_id}"),
        ("DELETE", f"{EXCHANGE}/{some_id}"),
    ):
        fails(await api.request(method, path, headers=app, json={}), 99991663)
    assert sb.world.subscriptions == [] and sb.world.caldav == []


async def test_subscribe_needs_reader_access(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    li_lei_primary = sb.world.primary_calendar(LI_LEI_OPEN_ID)
    assert li_lei_primary is not None
    # The demo user only sees free/busy on a colleague's primary calendar.
    fails(await api.post(subscription(li_lei_primary.calendar_id)), 191002, 403)
    fails(await api.post(subscription("feishu.cn_nothing@group.calendar.feishu.cn")), 191000, 404)
    assert sb.world.subscriptions == []


async def test_subscribe_needs_a_read_scope(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    narrow = sb.issue_user_token(DEMO_USER_OPEN_ID, scopes=["calendar:calendar.event:create"])
    fails(await api.post(subscription(DEMO_PRIMARY_CALENDAR_ID), headers=bearer(narrow)), 99991679, 403)


# -- CalDAV -------------------------------------------------------------------------------------


async def test_caldav_config_is_a_fresh_account_per_device(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    phone = ok(await api.post(CALDAV, json={"device_name": "iPhone"}))
    laptop = ok(await api.post(CALDAV, json={}))
    assert phone["device_name"] == "iPhone" and laptop["device_name"] == ""
    assert phone["server_address"] == "caldav.feishu.cn"
    assert phone["password"] != laptop["password"] and phone["user_name"] != laptop["user_name"]
    assert [(s.open_id, s.device_name) for s in sb.world.caldav] == [
        (DEMO_USER_OPEN_ID, "iPhone"),
        (DEMO_USER_OPEN_ID, ""),
    ]


async def test_caldav_device_name_is_at_most_100_characters(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    body = fails(await api.post(CALDAV, json={"device_name": "x" * 101}), 190002, 400)
    assert body["error"]["field_violations"][0]["field"] == "device_name"
    fails(await api.post(CALDAV, json={"device_name": 7}), 190002, 400)
    assert ok(await api.post(CALDAV, json={"device_name": "x" * 100}))["device_name"] == "x" * 100
    assert len(sb.world.caldav) == 1


# -- Exchange -----------------------------------------------------------------------------------


def binding_body(**override: str) -> dict[str, str]:
    return {
        "admin_account": "admin@corp.example",
        "exchange_account": "li.lei@corp.example",
        "user_id": LI_LEI_OPEN_ID,
        **override,
    }


@pytest.fixture
async def admin(sb: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    """A client signed in as the tenant super-admin."""
    async with sb.client(headers=bearer(sb.issue_user_token(ADMIN_OPEN_ID))) as client:
        yield client


async def test_exchange_binding_lifecycle(sb: Sandbox, admin: httpx2.AsyncClient) -> None:
    created = ok(await admin.post(EXCHANGE, json=binding_body()))
    binding_id = created["exchange_binding_id"]
    assert base64.urlsafe_b64decode(binding_id).decode() == "admin@corp.example li.lei@corp.example"
    assert created == {
        "exchange_binding_id": binding_id,
        "status": "doing",
        "user_id": LI_LEI_OPEN_ID,
        "admin_account": "admin@corp.example",
        "exchange_account": "li.lei@corp.example",
    }
    assert sb.world.exchange_bindings[binding_id].open_id == LI_LEI_OPEN_ID
    # The import moves on with the clock.
    sb.advance(61)
    assert ok(await admin.get(f"{EXCHANGE}/{binding_id}"))["status"] == "cal_done"
    sb.advance(300)
    got = ok(await admin.get(f"{EXCHANGE}/{binding_id}", params={"user_id_type": "user_id"}))
    assert got["status"] == "done" and got["user_id"] == "lilei002"
    assert ok(await admin.delete(f"{EXCHANGE}/{binding_id}")) == {}
    assert sb.world.exchange_bindings == {}
    fails(await admin.get(f"{EXCHANGE}/{binding_id}"), 195103, 404)
    fails(await admin.delete(f"{EXCHANGE}/{binding_id}"), 195103, 404)
    # Unbound, the mailbox can be bound again.
    ok(await admin.post(EXCHANGE, json=binding_body()))


async def test_exchange_needs_a_super_admin(sb: Sandbox, api: httpx2.AsyncClient, admin: httpx2.AsyncClient) -> None:
    colleague = bearer(sb.issue_user_token(LI_LEI_OPEN_ID))  # not an administrator
    fails(await api.post(EXCHANGE, json=binding_body(), headers=colleague), 195101, 403)
    binding_id = ok(await admin.post(EXCHANGE, json=binding_body()))["exchange_binding_id"]
    fails(await api.get(f"{EXCHANGE}/{binding_id}", headers=colleague), 195101, 403)
    fails(await api.delete(f"{EXCHANGE}/{binding_id}", headers=colleague), 195101, 403)
    assert binding_id in sb.world.exchange_bindings


async def test_the_demo_user_administers_the_sandbox_tenant(sb: Sandbox, api: httpx2.AsyncClient) -> None:
    """So every tool can be tried as the demo user, Exchange bindings included."""
    body = {"admin_account": "admin@sandbox.example", "exchange_account": "demo.user@sandbox.example"}
    created = ok(await api.post(EXCHANGE, json={**body, "user_id": DEMO_USER_OPEN_ID}))
    assert ok(await api.get(f"{EXCHANGE}/{created['exchange_binding_id']}"))["status"] == "doing"
    ok(await api.delete(f"{EXCHANGE}/{created['exchange_binding_id']}"))


async def test_exchange_create_rules(sb: Sandbox, admin: httpx2.AsyncClient) -> None:
    fails(await admin.post(EXCHANGE, json=binding_body(admin_account="administrator")), 195106, 404)
    fails(await admin.post(EXCHANGE, json=binding_body(exchange_account="li.lei@other.example")), 195105, 403)
    fails(await admin.post(EXCHANGE, json=binding_body(user_id="ou_nobody")), 195100, 404)
    fails(await admin.post(EXCHANGE, json=binding_body(user_id=EXTERNAL_OPEN_ID)), 195104, 403)
    missing = fails(await admin.post(EXCHANGE, json={"admin_account": "admin@corp.example"}), 190002, 400)
    assert missing["error"]["field_violations"][0]["field"] == "exchange_account"
    fails(await admin.post(EXCHANGE, json=binding_body(exchange_account="x" * 501)), 190002, 400)
    assert sb.world.exchange_bindings == {}
    ok(await admin.post(EXCHANGE, json=binding_body()))
    again = fails(await admin.post(EXCHANGE, json=binding_body(user_id=DEMO_USER_OPEN_ID)), 190002, 400)
    assert again["error"]["field_violations"][0]["field"] == "exchange_account"


async def test_exchange_ids_that_do_not_decode_are_invalid(admin: httpx2.AsyncClient) -> None:
    fails(await admin.get(f"{EXCHANGE}/not-base64!"), 195102, 400)
    fails(await admin.get(f"{EXCHANGE}/%FF"), 195102, 400)
    fails(await admin.get(f"{EXCHANGE}/" + base64.urlsafe_b64encode(b"\xff\xfe").decode()), 195102, 400)
    unknown = base64.b64encode(b"admin@corp.example nobody@corp.example").decode()
    fails(await admin.get(f"{EXCHANGE}/{unknown}"), 195103, 404)


async def test_exchange_ids_fit_in_a_path(admin: httpx2.AsyncClient) -> None:
    # Standard base64 of this pair holds a '/', which would split the path.
    body = binding_body(exchange_account="room?@corp.example")
    binding_id = ok(await admin.post(EXCHANGE, json=body))["exchange_binding_id"]
    assert "/" not in binding_id and "+" not in binding_id
    assert ok(await admin.get(f"{EXCHANGE}/{binding_id}"))["exchange_account"] == "room?@corp.example"


async def test_exchange_accounts_need_the_email_scope(sb: Sandbox, admin: httpx2.AsyncClient) -> None:
    binding_id = ok(await admin.post(EXCHANGE, json=binding_body()))["exchange_binding_id"]
    narrow = sb.issue_user_token(ADMIN_OPEN_ID, scopes=["calendar:exchange.bindings:read"])
    got = ok(await admin.get(f"{EXCHANGE}/{binding_id}", headers=bearer(narrow)))
    assert "admin_account" not in got and "exchange_account" not in got and got["user_id"] == LI_LEI_OPEN_ID


# -- through the official SDK ---------------------------------------------------------------------


def test_sdk_subscriptions_and_caldav(sb: Sandbox) -> None:
    with running(sb) as base_url:
        client, me = sdk_client(base_url), as_user(sb.demo_token)
        events = client.calendar.v4.calendar_event
        subscribe = SubscriptionCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).build()
        parsed(events.subscription(subscribe, me))
        assert len(subscribers(sb.world, DEMO_PRIMARY_CALENDAR_ID)) == 1
        unsubscribe = UnsubscriptionCalendarEventRequest.builder().calendar_id(DEMO_PRIMARY_CALENDAR_ID).build()
        parsed(events.unsubscription(unsubscribe, me))
        assert subscribers(sb.world, DEMO_PRIMARY_CALENDAR_ID) == []
        body = GenerateCaldavConfSettingRequestBody.builder().device_name("Work Mac").build()
        request = GenerateCaldavConfSettingRequest.builder().request_body(body).build()
        conf = parsed(client.calendar.v4.setting.generate_caldav_conf(request, me))
        assert conf.device_name == "Work Mac" and conf.password == sb.world.caldav[0].password


def test_sdk_exchange_bindings(sb: Sandbox) -> None:
    with running(sb) as base_url:
        client, admin = sdk_client(base_url), as_user(sb.issue_user_token(ADMIN_OPEN_ID))
        bindings = client.calendar.v4.exchange_binding
        body = (
            ExchangeBinding.builder()
            .admin_account("admin@corp.example")
            .exchange_account("li.lei@corp.example")
            .user_id("lilei002")
            .build()
        )
        create = CreateExchangeBindingRequest.builder().user_id_type("user_id").request_body(body).build()
        created = parsed(bindings.create(create, admin))
        assert created.status == "doing" and created.user_id == "lilei002"
        get = GetExchangeBindingRequest.builder().exchange_binding_id(created.exchange_binding_id).build()
        got = parsed(bindings.get(get, admin))
        assert got.exchange_account == "li.lei@corp.example" and got.user_id == LI_LEI_OPEN_ID
        delete = DeleteExchangeBindingRequest.builder().exchange_binding_id(created.exchange_binding_id).build()
        parsed(bindings.delete(delete, admin))
        refused = bindings.get(get, admin)
        assert not refused.success() and refused.code == 195103
