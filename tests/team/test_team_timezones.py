"""Each team-mode user's own time zone, through the real MCP client over the team server.

The clock is pinned at Monday 2026-12-07 23:30 UTC: on Kiritimati (UTC+14) it is already
Tuesday afternoon, on Pago Pago (UTC-11) still Monday noon, a few hundred kilometres apart across
the date line. Users in those zones send the same naive time to the same tool and each gets it in
their own zone; a user with no zone of their own gets the server's (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mcp import Client

from auth.grant_cipher import GrantCipher
from sandbox.seed import DEMO_USER_OPEN_ID, HAN_MEIMEI_OPEN_ID, LI_LEI_OPEN_ID
from server.clock import VirtualClock
from server.state import CALLER_TIMEZONE
from server.team.signin import _ZONE_SCRIPT_HASH, ZONE_SCRIPT
from server.team.zones import UserZones, reseal
from tests.team.browser import SignedInUser
from tests.team.harness import Team, in_process_team

pytestmark = pytest.mark.anyio

NOW = datetime.fromisoformat("2026-12-07T23:30:00+00:00").timestamp()
EAST = "Pacific/Kiritimati"  # UTC+14: Tuesday 13:30
WEST = "Pacific/Pago_Pago"  # UTC-11: Monday 12:30
SERVER = "Asia/Shanghai"  # the server's FEISHU_TIMEZONE in the harness: Tuesday 07:30
NAIVE = {"start": "2026-12-08T09:00", "end": "2026-12-08T09:30"}


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def three_users(team: Team) -> dict[str, SignedInUser]:
    team.sb.world.users[LI_LEI_OPEN_ID].time_zone = WEST  # from the Feishu profile (lark-oapi's User model)
    return {
        EAST: team.user(DEMO_USER_OPEN_ID, timezone=EAST),  # picked on the consent page
        WEST: team.user(LI_LEI_OPEN_ID, timezone=""),  # "automatic": the profile's
        SERVER: team.user(HAN_MEIMEI_OPEN_ID, timezone=""),  # no profile zone: the server's
    }


async def test_same_naive_time_means_each_users_own_zone(redis_url: str, machine_zone: str) -> None:
    async with in_process_team(redis_url, clock=VirtualClock(NOW)) as team:
        for zone, user in three_users(team).items():
            async with team.session(user) as client:
                context = await call(client, "get_current_context", {})
                assert context["timezone"] == zone
                local_now = datetime.fromtimestamp(NOW, ZoneInfo(zone))
                assert context["now"].startswith(local_now.strftime("%Y-%m-%dT%H:%M"))
                assert context["today"]["start"].startswith(local_now.strftime("%Y-%m-%d"))

                created = await call(client, "create_event", {"summary": "Stand-up", **NAIVE})
                event_id = created["event"]["event_id"]
                stored = next(e for e in team.sb.world.events.values() if e.event_id == event_id)
                expected = datetime.fromisoformat(NAIVE["start"]).replace(tzinfo=ZoneInfo(zone))
                assert stored.start.timestamp == int(expected.timestamp())
                assert stored.start.timezone == zone


async def test_working_hours_are_each_users_own(redis_url: str, machine_zone: str) -> None:
    async with in_process_team(redis_url, clock=VirtualClock(NOW)) as team:
        for zone, user in three_users(team).items():
            async with team.session(user) as client:
                found = await call(
                    client,
                    "find_meeting_times",
                    {"attendees": ["Wang Fang"], "duration_minutes": 30, "start": "2026-12-09", "end": "2026-12-10"},
                )
                assert found["slots"], found
                for slot in found["slots"]:
                    start = datetime.fromisoformat(slot["start"])
                    local = start.astimezone(ZoneInfo(zone))
                    assert start.utcoffset() == local.utcoffset()  # rendered in the user's zone
                    assert 9 <= local.hour < 18 and local.date().isoformat() == "2026-12-09", slot


async def test_consent_page_offers_the_browser_zone_and_a_new_sign_in_keeps_the_choice(redis_url: str) -> None:
    async with in_process_team(redis_url, clock=VirtualClock(NOW)) as team:
        zones = UserZones(team.replica.redis, team.config.keys.cipher(), SERVER)
        subject = f"{team.sb.world.users[DEMO_USER_OPEN_ID].tenant_key}:{DEMO_USER_OPEN_ID}"
        chooser = team.user(DEMO_USER_OPEN_ID, timezone=EAST)
        async with team.session(chooser) as client:
            assert (await call(client, "get_current_context", {}))["timezone"] == EAST
        [page] = chooser.consent_pages
        assert f'<option value="{EAST}">' in page and f"organisation's ({SERVER})" in page
        assert f"<script>{ZONE_SCRIPT}</script>" in page  # the only script, allowed by its hash
        assert _ZONE_SCRIPT_HASH and "'unsafe-inline'" not in page

        # Signing in again from a page that sends no choice (a new profile zone appears) keeps the pick.
        team.sb.world.users[DEMO_USER_OPEN_ID].time_zone = WEST
        async with team.session(team.user(DEMO_USER_OPEN_ID)) as client:
            assert (await call(client, "get_current_context", {}))["timezone"] == EAST
        stored = await zones.get(subject)
        assert (stored.chosen, stored.profile) == (EAST, WEST)
        raw = await team.replica.redis.get(UserZones.key(subject))
        assert raw is not None and EAST.encode() not in raw and await team.replica.redis.ttl(UserZones.key(subject)) > 0

        # Something that is not a zone changes nothing; choosing "automatic" falls back to the profile's.
        async with team.session(team.user(DEMO_USER_OPEN_ID, timezone="Mars/Olympus_Mons")) as client:
            assert (await call(client, "get_current_context", {}))["timezone"] == EAST
        async with team.session(team.user(DEMO_USER_OPEN_ID, timezone="")) as client:
            assert (await call(client, "get_current_context", {}))["timezone"] == WEST
        assert CALLER_TIMEZONE.get() == ""  # set per request, never left behind


async def test_zone_records_are_sealed_per_user_and_follow_a_key_rotation(redis_url: str) -> None:
    old, new = GrantCipher.new_key(), GrantCipher.new_key()
    async with in_process_team(redis_url, key=old, clock=VirtualClock(NOW)) as team:
        async with team.session(team.user(DEMO_USER_OPEN_ID, timezone=EAST)) as client:
            await call(client, "get_current_context", {})
        redis = team.replica.redis
        subject = f"{team.sb.world.users[DEMO_USER_OPEN_ID].tenant_key}:{DEMO_USER_OPEN_ID}"
        key = UserZones.key(subject)
        # Copied onto another user's record, the seal does not open: that user gets the server's zone.
        other = "tenant0:ou_somebody_else"
        await redis.set(UserZones.key(other), (await redis.get(key)) or b"")
        assert await UserZones(redis, team.config.keys.cipher(), SERVER).effective(other) == SERVER

        rotated = GrantCipher.from_setting(f"{new},{old}")
        assert await reseal(redis, rotated) == (1, 1)
        assert await UserZones(redis, GrantCipher.from_setting(new), SERVER).effective(subject) == EAST
