"""Team mode's authorization server and resource server, driven by the mcp SDK's own OAuth client."""

from __future__ import annotations

import httpx2
import pytest
from joserfc import jwt

from sandbox.seed import DEMO_USER_OPEN_ID, LI_LEI_OPEN_ID
from server.team import cimd
from server.team.access import AccessTokens
from server.team.config import TeamConfig
from tests.team.browser import CLIENT_REDIRECT, MemoryStorage
from tests.team.harness import PUBLIC, in_process_team, whoami

pytestmark = pytest.mark.anyio
MCP = PUBLIC + "/mcp"
METADATA_URL = "https://assistant.example/oauth/client.json"


async def get(team_transport: httpx2.AsyncBaseTransport, path: str, **kwargs: object) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=team_transport, base_url=PUBLIC) as http:
        return await http.get(path, **kwargs)  # type: ignore[arg-type]


async def test_metadata_documents_say_what_the_server_supports(redis_url: str) -> None:
    async with in_process_team(redis_url) as team:
        prm = (await get(team.transport, "/.well-known/oauth-protected-resource/mcp")).json()
        assert prm["resource"] == MCP and prm["authorization_servers"] == [PUBLIC]
        asm = (await get(team.transport, "/.well-known/oauth-authorization-server")).json()
        assert asm["issuer"] == PUBLIC
        assert asm["code_challenge_methods_supported"] == ["S256"]
        assert asm["client_id_metadata_document_supported"] is True
        assert asm["authorization_response_iss_parameter_supported"] is True
        assert asm["registration_endpoint"] == PUBLIC + "/register"
        anonymous = await get(team.transport, "/mcp")
        assert anonymous.status_code == 401
        assert "resource_metadata=" in anonymous.headers["www-authenticate"]
        assert (await get(team.transport, "/healthz")).json() == {"status": "ok"}
        assert (await get(team.transport, "/readyz")).json() == {"status": "ready"}


async def test_sign_in_by_dynamic_registration_then_tool_calls_as_that_user(redis_url: str) -> None:
    async with in_process_team(redis_url) as team:
        user = team.user(DEMO_USER_OPEN_ID)
        async with team.session(user) as client:
            me = await whoami(client)
        assert me["open_id"] == DEMO_USER_OPEN_ID
        [page] = user.consent_pages
        assert "Test Assistant" in page and "127.0.0.1:33418" in page  # the client and where it sends you back
        assert user.hops[:3] == ["/authorize", "/consent", "/open-apis/authen/v1/authorize"]
        assert "/oauth/feishu/callback" in user.hops


async def test_sign_in_by_client_id_metadata_document(redis_url: str) -> None:
    document = {
        "client_id": METADATA_URL,
        "client_name": "Metadata Assistant",
        "redirect_uris": [CLIENT_REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    fetched: list[str] = []

    def serve_document(request: httpx2.Request) -> httpx2.Response:
        fetched.append(str(request.url))
        return httpx2.Response(200, json=document)

    async with in_process_team(redis_url, cimd=httpx2.MockTransport(serve_document)) as team:
        user = team.user(LI_LEI_OPEN_ID)
        async with team.session(user, metadata_url=METADATA_URL) as client:
            assert (await whoami(client))["open_id"] == LI_LEI_OPEN_ID
        assert fetched == [METADATA_URL]  # then cached
        assert "Metadata Assistant" in user.consent_pages[0]


async def test_metadata_documents_are_fetched_only_from_public_https_hosts() -> None:
    for url in ("http://assistant.example/c.json", "https://assistant.example/", "https://u:p@assistant.example/c"):
        with pytest.raises(cimd.MetadataDocumentError, match="https://host/path"):
            await cimd.fetch_client(url)
    with pytest.raises(cimd.MetadataDocumentError, match="non-public address"):
        await cimd.fetch_client("https://127.0.0.1/client.json")
    with pytest.raises(cimd.MetadataDocumentError, match="names another client_id"):
        cimd.parse_document(
            "https://a.example/c.json", b'{"client_id": "https://b.example/c.json", "redirect_uris": []}'
        )


async def test_metadata_fetch_connects_to_the_address_it_checked_not_a_rebound_one() -> None:
    """A host that answers a public address to the check and a private one afterwards (DNS
    rebinding) is fetched from the public address: the request names it, and only the Host header
    and TLS name the host."""
    url = "https://assistant.example:8443/client.json"
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    lookups: list[tuple[str, int]] = []
    seen: list[httpx2.Request] = []

    async def rebinding(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return answers.pop(0)

    def serve(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"client_id": url, "redirect_uris": [CLIENT_REDIRECT]})

    info = await cimd.fetch_client(url, transport=httpx2.MockTransport(serve), resolve=rebinding)
    assert info.client_id == url and lookups == [("assistant.example", 8443)]
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34:8443/client.json"
    assert request.headers["host"] == "assistant.example:8443"
    assert request.extensions["sni_hostname"] == "assistant.example"

    async def v6(host: str, port: int) -> list[str]:
        return ["2606:2800:220:1:248:1893:25c8:1946"]

    await cimd.fetch_client(url, transport=httpx2.MockTransport(serve), resolve=v6)
    assert seen[-1].url.host == "2606:2800:220:1:248:1893:25c8:1946"

    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one private answer is enough to refuse

    async def nothing(host: str, port: int) -> list[str]:
        return []

    for resolver, why in ((mixed, "non-public address"), (nothing, "does not resolve")):
        with pytest.raises(cimd.MetadataDocumentError, match=why):
            await cimd.fetch_client(url, transport=httpx2.MockTransport(serve), resolve=resolver)
    assert len(seen) == 2  # neither refused host was asked


async def test_refused_bearers_feishu_expired_other_audience(redis_url: str) -> None:
    async with in_process_team(redis_url) as team:
        storage = MemoryStorage()
        async with team.session(team.user(DEMO_USER_OPEN_ID), storage) as client:
            await whoami(client)
        assert storage.tokens is not None
        good = storage.tokens.access_token
        claims = jwt.decode(good, team.replica.tokens._keyset).claims
        issued = AccessTokens(team.config, clock=lambda: float(claims["iat"]))
        keys_as_ours = team.config.keys
        other = TeamConfig("http://127.0.0.1:9000", team.config.redis_url, keys_as_ours)
        expired = AccessTokens(team.config, clock=lambda: float(claims["iat"]) - 2 * team.config.access_token_ttl)
        bearers = {
            "ours": good,
            "feishu": team.sb.issue_user_token(DEMO_USER_OPEN_ID, app_id="cli_team0tests0app"),
            "expired": expired.mint(
                subject=claims["sub"], client_id=claims["client_id"], scopes=["calendar"], family=claims["fam"]
            )[0],
            "other audience": AccessTokens(other).mint(
                subject=claims["sub"], client_id=claims["client_id"], scopes=["calendar"], family=claims["fam"]
            )[0],
            "same, re-minted": issued.mint(
                subject=claims["sub"], client_id=claims["client_id"], scopes=["calendar"], family=claims["fam"]
            )[0],
        }
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        status = {}
        async with httpx2.AsyncClient(transport=team.transport, base_url=PUBLIC) as http:
            for name, bearer in bearers.items():
                response = await http.post(
                    "/mcp",
                    json=body,
                    headers={
                        "Authorization": f"Bearer {bearer}",
                        "Accept": "application/json, text/event-stream",
                        "MCP-Protocol-Version": "2025-11-25",
                    },
                )
                status[name] = response.status_code
        assert status == {"ours": 200, "feishu": 401, "expired": 401, "other audience": 401, "same, re-minted": 200}


async def test_a_reused_refresh_token_revokes_the_sign_in(redis_url: str) -> None:
    async with in_process_team(redis_url) as team:
        storage = MemoryStorage()
        async with team.session(team.user(DEMO_USER_OPEN_ID), storage) as client:
            await whoami(client)
        assert storage.tokens is not None and storage.client is not None
        first_refresh = storage.tokens.refresh_token
        form = {
            "grant_type": "refresh_token",
            "client_id": storage.client.client_id or "",
            "client_secret": storage.client.client_secret or "",
        }
        async with httpx2.AsyncClient(transport=team.transport, base_url=PUBLIC) as http:
            rotated = await http.post("/token", data={**form, "refresh_token": first_refresh or ""})
            assert rotated.status_code == 200, rotated.text
            new = rotated.json()
            assert new["refresh_token"] != first_refresh
            replay = await http.post("/token", data={**form, "refresh_token": first_refresh or ""})
            assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
            # The whole sign-in is gone: the rotated refresh token and its access token too.
            after = await http.post("/token", data={**form, "refresh_token": new["refresh_token"]})
            assert after.status_code == 400
            headers = {
                "Authorization": f"Bearer {new['access_token']}",
                "Accept": "application/json, text/event-stream",
            }
            listed = await http.post(
                "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}, headers=headers
            )
            assert listed.status_code == 401


async def test_a_token_for_another_resource_is_not_issued(redis_url: str) -> None:
    async with in_process_team(redis_url) as team:
        async with httpx2.AsyncClient(transport=team.transport, base_url=PUBLIC) as http:
            registered = await http.post(
                "/register",
                json={"redirect_uris": [CLIENT_REDIRECT], "client_name": "x", "token_endpoint_auth_method": "none"},
            )
            client_id = registered.json()["client_id"]
            answer = await http.get(
                "/authorize",
                params={
                    "client_id": client_id,
                    "redirect_uri": CLIENT_REDIRECT,
                    "response_type": "code",
                    "code_challenge": "x" * 43,
                    "code_challenge_method": "S256",
                    "state": "s",
                    "resource": "https://elsewhere.example/mcp",
                },
            )
        assert answer.status_code == 302 and "error=invalid_target" in answer.headers["location"]


async def test_users_are_isolated(redis_url: str) -> None:
    """Two users through one replica: each call acts as its caller; B cannot read A's new event."""
    async with (
        in_process_team(redis_url) as team,
        team.session(team.user(DEMO_USER_OPEN_ID)) as alice,
        team.session(team.user(LI_LEI_OPEN_ID)) as bob,
    ):
        for _ in range(2):
            assert (await whoami(alice))["open_id"] == DEMO_USER_OPEN_ID
            assert (await whoami(bob))["open_id"] == LI_LEI_OPEN_ID
        made = await alice.call_tool(
            "create_event",
            {"summary": "Alice only", "start": "2026-12-01T10:00+08:00", "end": "2026-12-01T11:00+08:00"},
        )
        assert not made.is_error, made.content
        assert isinstance(made.structured_content, dict)
        event_id = made.structured_content["event"]["event_id"]
        mine = await alice.call_tool("get_event", {"event_id": event_id})
        assert not mine.is_error, mine.content
        theirs = await bob.call_tool("get_event", {"event_id": event_id})
        assert theirs.is_error  # Bob's primary calendar has no such event


async def test_a_dead_feishu_grant_sends_the_client_through_sign_in_again(redis_url: str) -> None:
    """Feishu refuses the refresh for good: the call says so, the next request is a 401, the client signs in anew."""
    async with in_process_team(redis_url) as team:
        user = team.user(DEMO_USER_OPEN_ID)
        async with team.session(user) as client:
            await whoami(client)
            team.sb.revoke_refresh_tokens(DEMO_USER_OPEN_ID)
            team.sb.expire_access_tokens()
            dead = await client.call_tool("get_current_context", {})
            assert dead.is_error and "sign in again from your MCP client" in str(dead.content)
            assert len(user.consent_pages) == 1
            assert (await whoami(client))["open_id"] == DEMO_USER_OPEN_ID  # after a new sign-in
            assert len(user.consent_pages) == 2


async def test_a_consent_decision_not_posted_from_our_page_is_refused(redis_url: str) -> None:
    """A cross-site auto-submitted "approve" carries no consent-page cookie (SameSite=Strict)."""
    async with in_process_team(redis_url) as team:
        async with httpx2.AsyncClient(transport=team.transport, base_url=PUBLIC) as http:
            registered = await http.post(
                "/register",
                json={"redirect_uris": [CLIENT_REDIRECT], "client_name": "x", "token_endpoint_auth_method": "none"},
            )
            authorize = await http.get(
                "/authorize",
                params={
                    "client_id": registered.json()["client_id"],
                    "redirect_uri": CLIENT_REDIRECT,
                    "response_type": "code",
                    "code_challenge": "x" * 43,
                    "state": "s",
                    "resource": MCP,
                },
            )
            consent = authorize.headers["location"]
            txn = consent.split("txn=")[1]
        async with httpx2.AsyncClient(transport=team.transport, base_url=PUBLIC) as attacker:  # no cookies
            forged = await attacker.post("/consent", data={"txn": txn, "decision": "approve"})
        assert forged.status_code == 400 and "Sign-in refused" in forged.text
        async with httpx2.AsyncClient(transport=team.transport, base_url=PUBLIC) as browser:
            page = await browser.get(consent)
            assert "set-cookie" in page.headers and "samesite=strict" in page.headers["set-cookie"].lower()
            real = await browser.post("/consent", data={"txn": txn, "decision": "approve"})
        assert real.status_code == 302 and "/open-apis/authen/v1/authorize" in real.headers["location"]
