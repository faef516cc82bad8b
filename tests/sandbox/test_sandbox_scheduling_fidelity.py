"""The scheduling look-ups as a user of the official lark-oapi SDK meets them (issue 11's endpoints).

Each test builds the SDK's own request objects, sends them with a user access token to the sandbox
served on loopback, and reads the SDK's parsed models: a field the sandbox misnames parses as None,
a code Feishu does not use for the case fails the assertion. The wire (method, path, repeated query
keys, body field names) is read back from the sandbox's request log.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import lark_oapi as lark
from lark_oapi.api.calendar.v4 import (
    BatchFreebusyRequest,
    BatchFreebusyRequestBody,
    GetCalendarRequest,
    ListCalendarRequest,
    ListFreebusyRequest,
    ListFreebusyRequestBody,
)
from lark_oapi.api.contact.v3 import (
    BasicBatchUserRequest,
    BasicBatchUserRequestBody,
    BatchUserRequest,
    GetUserRequest,
)
from lark_oapi.api.im.v1 import GetChatMembersRequest, SearchChatRequest
from lark_oapi.api.vc.v1 import (
    GetRoomLevelRequest,
    GetRoomRequest,
    ListRoomLevelRequest,
    ListRoomRequest,
    MgetRoomLevelRequest,
    MgetRoomLevelRequestBody,
    MgetRoomRequest,
    MgetRoomRequestBody,
    SearchRoomRequest,
    SearchRoomRequestBody,
)

from sandbox import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_CHAT_ID,
    DEMO_USER_OPEN_ID,
    EXTERNAL_OPEN_ID,
    HAN_MEIMEI_OPEN_ID,
    LI_LEI_OPEN_ID,
    ROOM_IDS,
    TEAM_CALENDAR_ID,
    Sandbox,
)
from sandbox.seed_directory import (
    BACKEND_CHAT_ID,
    CHEN_JING_PRIVATE_OPEN_ID,
    HOLIDAYS_CALENDAR_ID,
    ZHAO_MIN_RESIGNED_OPEN_ID,
)
from tests.sandbox.helpers_sandbox import DAY, WEEK_START, rfc3339
from tests.sandbox.lark_sdk import as_user, parsed

TENANT_TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"


def refused(response: Any, code: int, status: int) -> None:
    """Feishu's refusal as the SDK reports it: code, HTTP status, and the log id header."""
    assert (response.code, response.raw.status_code) == (code, status), (response.code, response.msg)
    assert response.get_log_id()


def test_profiles_by_repeated_user_ids_in_each_id_kind(client: Any, sb: Sandbox, as_demo: Any) -> None:
    users = client.contact.v3.user
    both = BatchUserRequest.builder().user_ids([LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID]).build()
    data = parsed(users.batch(both, as_demo))
    assert [(u.open_id, u.name, u.en_name) for u in data.items] == [
        (LI_LEI_OPEN_ID, "李雷", "Li Lei"),
        (HAN_MEIMEI_OPEN_ID, "韩梅梅", "Han Meimei"),
    ]
    assert data.items[0].status.is_activated is True and data.items[0].department_ids == ["od-backend"]
    wire = sb.log.matching("GET", "/open-apis/contact/v3/users/batch")[-1]
    assert wire.query["user_ids"] == [LI_LEI_OPEN_ID, HAN_MEIMEI_OPEN_ID]  # one repeated key per id (batch.md)
    li = sb.world.users[LI_LEI_OPEN_ID]
    by_union = users.batch(BatchUserRequest.builder().user_ids([li.union_id]).user_id_type("union_id").build(), as_demo)
    assert parsed(by_union).items[0].open_id == LI_LEI_OPEN_ID
    # Another tenant's user is silently left out (batch.md: users outside the range are not returned).
    assert parsed(users.batch(BatchUserRequest.builder().user_ids([EXTERNAL_OPEN_ID]).build(), as_demo)).items == []


def test_department_id_type_takes_its_two_options(client: Any, as_demo: Any) -> None:
    users = client.contact.v3.user
    request = BatchUserRequest.builder().user_ids([LI_LEI_OPEN_ID])
    ok_kind = request.department_id_type("open_department_id").build()
    assert parsed(users.batch(ok_kind, as_demo)).items[0].department_ids == ["od-backend"]
    bad = GetUserRequest.builder().user_id(LI_LEI_OPEN_ID).department_id_type("od").build()
    refused(users.get(bad, as_demo), 99992402, 400)
    refused(
        users.batch(BatchUserRequest.builder().user_ids([LI_LEI_OPEN_ID]).department_id_type("x").build(), as_demo),
        99992402,
        400,
    )


def test_more_than_50_profiles_is_an_invalid_parameter(client: Any, as_demo: Any) -> None:
    # batch.md caps user_ids at 50 and lists 40001 for a bad parameter (40004 is "no dept. authority").
    ids = [f"ou_sandbox{i:024d}" for i in range(51)]
    refused(client.contact.v3.user.batch(BatchUserRequest.builder().user_ids(ids).build(), as_demo), 40001, 400)


def test_one_profile_and_its_refusals(client: Any, sb: Sandbox, as_demo: Any) -> None:
    users = client.contact.v3.user
    li = sb.world.users[LI_LEI_OPEN_ID]
    by_union = GetUserRequest.builder().user_id(li.union_id).user_id_type("union_id").build()
    user = parsed(users.get(by_union, as_demo)).user
    assert (user.open_id, user.name, user.job_title) == (LI_LEI_OPEN_ID, "李雷", "Backend engineer")
    assert user.department_path[0].department_name.name == "后端组"  # user token + the scope (get.md)
    resigned = parsed(users.get(GetUserRequest.builder().user_id(ZHAO_MIN_RESIGNED_OPEN_ID).build(), as_demo)).user
    assert resigned.status.is_resigned is True
    refused(users.get(GetUserRequest.builder().user_id(EXTERNAL_OPEN_ID).build(), as_demo), 41050, 400)
    refused(users.get(GetUserRequest.builder().user_id("ou_nobody").build(), as_demo), 41012, 400)


def test_basic_names_as_the_cli_reads_them(client: Any, sb: Sandbox) -> None:
    option = as_user(sb.issue_user_token(DEMO_USER_OPEN_ID, ["contact:user.basic_profile:readonly"]))
    users = client.contact.v3.user

    def basic(ids: list[str]) -> Any:
        body = BasicBatchUserRequestBody.builder().user_ids(ids).build()
        return users.basic_batch(BasicBatchUserRequest.builder().request_body(body).build(), option)

    data = parsed(basic([LI_LEI_OPEN_ID, EXTERNAL_OPEN_ID]))  # no contact-range check (basic_batch.md)
    assert [(u.user_id, u.name, u.i18n_name.en_us) for u in data.users] == [
        (LI_LEI_OPEN_ID, "李雷", "Li Lei"),
        (EXTERNAL_OPEN_ID, sb.world.users[EXTERNAL_OPEN_ID].name, sb.world.users[EXTERNAL_OPEN_ID].en_name),
    ]
    refused(basic([LI_LEI_OPEN_ID] * 11), 40001, 400)
    refused(users.batch(BatchUserRequest.builder().user_ids([LI_LEI_OPEN_ID]).build(), option), 99991679, 403)


def test_one_calendar_is_the_data_itself(client: Any, as_demo: Any) -> None:
    calendars = client.calendar.v4.calendar
    team = parsed(calendars.get(GetCalendarRequest.builder().calendar_id(TEAM_CALENDAR_ID).build(), as_demo))
    assert (team.calendar_id, team.type, team.role) == (TEAM_CALENDAR_ID, "shared", "writer")
    holidays = parsed(calendars.get(GetCalendarRequest.builder().calendar_id(HOLIDAYS_CALENDAR_ID).build(), as_demo))
    assert holidays.role == "reader"
    missing = "feishu.cn_nothing@group.calendar.feishu.cn"
    refused(calendars.get(GetCalendarRequest.builder().calendar_id(missing).build(), as_demo), 191000, 404)


def test_calendar_list_pages_within_50_to_1000(client: Any, as_demo: Any) -> None:
    calendars = client.calendar.v4.calendar
    data = parsed(calendars.list(ListCalendarRequest.builder().page_size(50).build(), as_demo))
    assert {c.calendar_id for c in data.calendar_list} >= {TEAM_CALENDAR_ID, HOLIDAYS_CALENDAR_ID}
    assert data.has_more is False and data.sync_token and data.page_token is None
    refused(calendars.list(ListCalendarRequest.builder().page_size(49).build(), as_demo), 99992402, 400)
    refused(calendars.list(ListCalendarRequest.builder().page_size(1001).build(), as_demo), 99992402, 400)


def test_chat_search_names_the_owner_in_the_id_kind_asked(client: Any, sb: Sandbox, as_demo: Any) -> None:
    chats = client.im.v1.chat
    found = parsed(chats.search(SearchChatRequest.builder().query("Product").user_id_type("union_id").build(), as_demo))
    chat = next(c for c in found.items if c.chat_id == DEMO_CHAT_ID)
    owner = sb.world.users[sb.world.chats[DEMO_CHAT_ID].owner_open_id]
    assert (chat.owner_id, chat.owner_id_type, chat.tenant_key) == (owner.union_id, "union_id", owner.tenant_key)
    assert found.has_more is False and found.page_token is None
    refused(chats.search(SearchChatRequest.builder().query("team").page_size(101).build(), as_demo), 99992402, 400)


def test_chat_members_page_and_refuse_as_the_page_lists(client: Any, sb: Sandbox, as_demo: Any) -> None:
    members = client.im.v1.chat_members

    def get(chat_id: str, **params: Any) -> Any:
        builder = GetChatMembersRequest.builder().chat_id(chat_id)
        for name, value in params.items():
            builder = getattr(builder, name)(value)
        return members.get(builder.build(), as_demo)

    seen: list[str] = []
    token = None
    while True:
        more: dict[str, str] = {"page_token": token} if token else {}
        page = parsed(get(DEMO_CHAT_ID, member_id_type="union_id", page_size=2, **more))
        assert all(m.member_id_type == "union_id" for m in page.items) and page.member_total == 4
        seen += [m.member_id for m in page.items]
        if not page.has_more:
            assert page.page_token is None
            break
        token = page.page_token
    assert seen == [sb.world.users[m].union_id for m in sb.world.chats[DEMO_CHAT_ID].member_open_ids]
    refused(get("oc_sandbox0no0such0chat000000000"), 232006, 400)  # "invalid chat_id"
    refused(get(BACKEND_CHAT_ID), 232011, 400)  # the demo user is not in it
    refused(get(DEMO_CHAT_ID, member_id_type="email"), 99992402, 400)
    refused(get(DEMO_CHAT_ID, page_size=101), 99992402, 400)


def window_body(builder: Any, lo: int, hi: int) -> Any:
    return builder.time_min(rfc3339(lo)).time_max(rfc3339(hi))


def test_batch_free_busy_in_each_id_kind_and_its_limits(client: Any, sb: Sandbox, as_demo: Any) -> None:
    freebusy = client.calendar.v4.freebusy

    def batch(ids: list[str], lo: int = WEEK_START, hi: int = WEEK_START + DAY, kind: str = "open_id") -> Any:
        body = window_body(BatchFreebusyRequestBody.builder(), lo, hi).user_ids(ids).need_rsvp_status(True).build()
        return freebusy.batch(BatchFreebusyRequest.builder().user_id_type(kind).request_body(body).build(), as_demo)

    li = sb.world.users[LI_LEI_OPEN_ID]
    data = parsed(batch([li.union_id], kind="union_id"))
    assert [entry.user_id for entry in data.freebusy_lists] == [li.union_id]
    items = data.freebusy_lists[0].freebusy_items
    assert items and all(i.start_time.endswith("+08:00") and i.rsvp_status for i in items)
    wire = sb.log.matching("POST", "/open-apis/calendar/v4/freebusy/batch")[-1]
    assert wire.query["user_id_type"] == "union_id" and set(wire.body or {}) >= {"time_min", "time_max", "user_ids"}
    refused(batch([LI_LEI_OPEN_ID] * 11), 198001, 400)  # 1-10 ids
    refused(batch([LI_LEI_OPEN_ID], hi=WEEK_START + 15 * DAY), 198003, 400)  # at most 2 weeks
    narrow = as_user(sb.issue_user_token(DEMO_USER_OPEN_ID, ["calendar:calendar.free_busy:read"]))
    body = window_body(BatchFreebusyRequestBody.builder(), WEEK_START, WEEK_START + DAY).user_ids([li.user_id]).build()
    by_user_id = BatchFreebusyRequest.builder().user_id_type("user_id").request_body(body).build()
    refused(freebusy.batch(by_user_id, narrow), 99991679, 403)  # user ids need the employee-id scope


def test_free_busy_of_someone_who_left_or_is_elsewhere_is_195100(client: Any, as_demo: Any) -> None:
    # Both pages list 195100 "user is dismiss or not exist in the tenant" for the user asked about.
    freebusy = client.calendar.v4.freebusy
    for gone in (ZHAO_MIN_RESIGNED_OPEN_ID, EXTERNAL_OPEN_ID, "ou_sandbox0no0such0user000000000"):
        body = window_body(BatchFreebusyRequestBody.builder(), WEEK_START, WEEK_START + DAY)
        batch = BatchFreebusyRequest.builder().request_body(body.user_ids([LI_LEI_OPEN_ID, gone]).build()).build()
        refused(freebusy.batch(batch, as_demo), 195100, 404)
        one = window_body(ListFreebusyRequestBody.builder(), WEEK_START, WEEK_START + DAY).user_id(gone).build()
        refused(freebusy.list(ListFreebusyRequest.builder().request_body(one).build(), as_demo), 195100, 404)
    # A private calendar: left out of a batch (never an empty "free" list), 191002 alone.
    body = window_body(BatchFreebusyRequestBody.builder(), WEEK_START, WEEK_START + DAY)
    request = BatchFreebusyRequest.builder().request_body(
        body.user_ids([LI_LEI_OPEN_ID, CHEN_JING_PRIVATE_OPEN_ID]).build()
    )
    assert [e.user_id for e in parsed(freebusy.batch(request.build(), as_demo)).freebusy_lists] == [LI_LEI_OPEN_ID]
    one = window_body(ListFreebusyRequestBody.builder(), WEEK_START, WEEK_START + DAY)
    alone = ListFreebusyRequest.builder().request_body(one.user_id(CHEN_JING_PRIVATE_OPEN_ID).build()).build()
    refused(freebusy.list(alone, as_demo), 191002, 403)


def test_batch_free_busy_refuses_a_bad_time(client: Any, as_demo: Any) -> None:
    body = BatchFreebusyRequestBody.builder().time_min("2026-11-23 10:00").time_max(rfc3339(WEEK_START + DAY))
    request = BatchFreebusyRequest.builder().request_body(body.user_ids([LI_LEI_OPEN_ID]).build()).build()
    refused(client.calendar.v4.freebusy.batch(request, as_demo), 198002, 400)


def test_free_busy_list_of_a_room_and_its_window(client: Any, sb: Sandbox) -> None:
    option = as_user(sb.issue_user_token(DEMO_USER_OPEN_ID, ["calendar:calendar:readonly"]))
    freebusy = client.calendar.v4.freebusy

    def room(hi: int) -> Any:
        body = window_body(ListFreebusyRequestBody.builder(), WEEK_START, hi).room_id(ROOM_IDS[0]).build()
        return freebusy.list(ListFreebusyRequest.builder().request_body(body).build(), option)

    assert parsed(room(WEEK_START + 7 * DAY)).freebusy_list is not None
    refused(room(WEEK_START + 91 * DAY), 190002, 400)  # at most 90 days


def test_room_search_pages_through_every_room(client: Any, sb: Sandbox, as_demo: Any) -> None:
    rooms = client.vc.v1.room

    def search(**fields: Any) -> Any:
        builder = SearchRoomRequestBody.builder()
        for name, value in fields.items():
            builder = getattr(builder, name)(value)
        return rooms.search(SearchRoomRequest.builder().request_body(builder.build()).build(), as_demo)

    seen: list[str] = []
    token = None
    while True:
        page = parsed(search(page_size=3, **({"page_token": token} if token else {})))
        seen += [r.room_id for r in page.rooms]
        assert all(isinstance(r.capacity, int) and r.room_status.status is True and r.path for r in page.rooms)
        if not page.has_more:
            assert page.page_token is None
            break
        token = page.page_token
    assert sorted(seen) == sorted(sb.world.rooms)
    refused(search(page_size=101), 121003, 400)


def test_profiles_batch_takes_only_the_base_contact_scope(client: Any, sb: Sandbox) -> None:
    # batch.md names one API scope; get.md any of four (the whole-address-book read among them).
    option = as_user(sb.issue_user_token(DEMO_USER_OPEN_ID, ["contact:contact:readonly"]))
    users = client.contact.v3.user
    refused(users.batch(BatchUserRequest.builder().user_ids([LI_LEI_OPEN_ID]).build(), option), 99991679, 403)
    assert parsed(users.get(GetUserRequest.builder().user_id(LI_LEI_OPEN_ID).build(), option)).user.name == "李雷"


def app_option(base_url: str) -> Any:
    """A request option carrying a tenant token this sandbox granted (the SDK's own token cache is
    process-wide, keyed by app id, so a token another test's sandbox granted could be served)."""
    with httpx2.Client(base_url=base_url) as http:
        grant = http.post(TENANT_TOKEN, json={"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}).json()
    return lark.RequestOption.builder().tenant_access_token(grant["tenant_access_token"]).build()


def test_room_directory_for_the_app_identity(base_url: str, sb: Sandbox, client: Any) -> None:
    rooms, levels = client.vc.v1.room, client.vc.v1.room_level
    option = app_option(base_url)
    seen: list[str] = []
    token = None
    while True:
        request = ListRoomRequest.builder().page_size(4)
        page = parsed(rooms.list((request.page_token(token) if token else request).build(), option))
        seen += [r.room_id for r in page.rooms]
        if not page.has_more:
            break
        token = page.page_token
    assert sorted(seen) == sorted(sb.world.rooms)
    refused(rooms.list(ListRoomRequest.builder().page_size(101).build(), option), 99992402, 400)
    room = parsed(rooms.get(GetRoomRequest.builder().room_id(ROOM_IDS[0]).build(), option)).room
    assert (room.room_id, room.name) == (ROOM_IDS[0], sb.world.rooms[ROOM_IDS[0]].name)
    floor = room.room_level_id
    on_floor = parsed(rooms.list(ListRoomRequest.builder().room_level_id(floor).build(), option)).rooms
    assert ROOM_IDS[0] in [r.room_id for r in on_floor] and all(r.room_level_id == floor for r in on_floor)
    refused(rooms.get(GetRoomRequest.builder().room_id("omm_sandbox0no0such0room").build(), option), 121004, 404)
    both = MgetRoomRequestBody.builder().room_ids([ROOM_IDS[0], ROOM_IDS[1]]).build()
    assert [
        r.room_id for r in parsed(rooms.mget(MgetRoomRequest.builder().request_body(both).build(), option)).items
    ] == [
        ROOM_IDS[0],
        ROOM_IDS[1],
    ]
    cities = parsed(levels.list(ListRoomLevelRequest.builder().build(), option)).items
    assert {c.name for c in cities} == {"Shanghai 上海", "Beijing 北京"} and all(c.has_child for c in cities)
    level = parsed(levels.get(GetRoomLevelRequest.builder().room_level_id(floor).build(), option)).room_level
    assert level.path == room.path[:-1] and level.parent_id == room.path[-2] and level.has_child is False
    ids = MgetRoomLevelRequestBody.builder().level_ids([floor]).build()
    assert (
        parsed(levels.mget(MgetRoomLevelRequest.builder().request_body(ids).build(), option)).items[0].name
        == level.name
    )
    with httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {sb.demo_token}"}) as http:
        as_user_answer = http.get("/open-apis/vc/v1/rooms")  # the pages say tenant_access_token only
    assert (as_user_answer.status_code, as_user_answer.json()["code"]) == (400, 99991668)
    assert as_user_answer.headers["X-Tt-Logid"]


def raw(client: Any, option: Any, method: Any, uri: str, queries: list[tuple[str, str]]) -> Any:
    """An endpoint the SDK has no builder for, through its generic request (as its users call them)."""
    request = (
        lark.BaseRequest.builder()
        .http_method(method)
        .uri(uri)
        .token_types({lark.AccessTokenType.USER})
        .queries(queries)
        .build()
    )
    response = client.request(request, option)
    assert response.get_log_id()
    return json.loads(response.raw.content)


def test_people_search_and_room_free_busy_through_the_sdks_generic_request(client: Any, as_demo: Any) -> None:
    found = raw(client, as_demo, lark.HttpMethod.GET, "/open-apis/search/v1/user", [("query", "Li Lei")])
    assert found["code"] == 0 and [u["open_id"] for u in found["data"]["users"]] == [LI_LEI_OPEN_ID]
    window = [("time_min", rfc3339(WEEK_START)), ("time_max", rfc3339(WEEK_START + DAY))]
    rooms = [("room_ids", ROOM_IDS[0]), ("room_ids", ROOM_IDS[1])]
    busy = raw(client, as_demo, lark.HttpMethod.GET, "/open-apis/meeting_room/freebusy/batch_get", rooms + window)
    assert busy["code"] == 0 and set(busy["data"]["free_busy"]) == {ROOM_IDS[0], ROOM_IDS[1]}
    assert busy["data"]["time_min"] == window[0][1]  # echoed, "+" intact after URL encoding
