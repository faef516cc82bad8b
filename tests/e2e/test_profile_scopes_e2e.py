"""Department, city, title and email need their own contact field scopes: without them people are
still found, the answer says once which field is hidden and which scope shows it, and telling two
people apart falls back to what the token may read. Through the MCP client on the sandbox."""

from __future__ import annotations

import pytest

from sandbox.seed_directory import ZHANG_WEI_BACKEND_OPEN_ID, ZHANG_WEI_SALES_OPEN_ID
from tests.e2e.scheduling_harness import pinned_sandbox, session

pytestmark = pytest.mark.anyio

SEARCH = ["contact:user:search", "calendar:calendar"]
BASE = [*SEARCH, "contact:contact.base:readonly", "contact:user.base:readonly"]
PATH = "contact:user.department_path:readonly"
EMPLOYEE = "contact:user.employee:readonly"
EMAIL = "contact:user.email:readonly"


async def test_without_field_scopes_people_are_found_and_the_note_names_each_scope_once() -> None:
    async with session(pinned_sandbox(), scopes=BASE) as mcp:
        found = await mcp.call("find_people", query="Zhang Wei")
        reads = [(r.method, r.path.rsplit("/", 1)[-1]) for r in mcp.sent("/contact/v3/users")]
    people = {p["open_id"]: p for p in found["people"]}
    # Department ids (from the profile) still tell the two apart; nothing else is readable.
    assert people[ZHANG_WEI_BACKEND_OPEN_ID]["department"] == "od-backend"
    assert people[ZHANG_WEI_SALES_OPEN_ID]["department"] == "od-sales"
    assert all(p["city"] == p["job_title"] == p["email"] == "" for p in people.values())
    note = found["note"]
    assert note.count("Hidden for want of scopes") == 1 and "2 people are named 张伟" in note
    for scope in (PATH, EMPLOYEE, EMAIL):
        assert note.count(f"({scope})") == 1 and f"login --scope {PATH}" in note
    # The single read found no department names, so the other profile came in one batch read.
    assert reads == [("GET", ZHANG_WEI_BACKEND_OPEN_ID), ("GET", "batch")] or reads == [
        ("GET", ZHANG_WEI_SALES_OPEN_ID),
        ("GET", "batch"),
    ]


async def test_each_granted_scope_shows_its_fields_and_leaves_the_note() -> None:
    async with session(pinned_sandbox(), scopes=[*BASE, PATH, EMPLOYEE]) as mcp:
        found = await mcp.call("find_people", query="Zhang Wei")
        batch = mcp.sent("/contact/v3/users/batch")
    assert {(p["department"], p["city"]) for p in found["people"]} == {("Backend", "Shanghai"), ("Sales", "Beijing")}
    assert f"email ({EMAIL})" in found["note"] and PATH not in found["note"] and EMPLOYEE not in found["note"]
    assert batch == []  # department names come from single reads, one per person


async def test_with_every_scope_there_is_no_scope_note() -> None:
    async with session(pinned_sandbox()) as mcp:
        found = await mcp.call("find_people", query="Zhang Wei")
    assert "Hidden for want of scopes" not in found["note"] and all(p["email"] for p in found["people"])


async def test_without_any_profile_scope_the_search_alone_answers() -> None:
    async with session(pinned_sandbox(), scopes=SEARCH) as mcp:
        found = await mcp.call("find_people", query="韩梅梅")
    assert found["people"][0]["department"] == "od-design"
    assert "(contact:contact.base:readonly)" in found["note"]


async def test_telling_two_apart_falls_back_to_what_the_token_may_read() -> None:
    async with session(pinned_sandbox(), scopes=[*BASE, "calendar:calendar.free_busy:read"]) as mcp:
        message = await mcp.fail("get_free_busy", people=["Zhang Wei"], start="2026-11-24", end="2026-11-24")
    assert "matches 2 people" in message
    assert f"od-backend; {ZHANG_WEI_BACKEND_OPEN_ID}" in message and f"od-sales; {ZHANG_WEI_SALES_OPEN_ID}" in message
    assert message.count("Hidden for want of scopes") == 1 and PATH in message
