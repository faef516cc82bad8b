"""The consent page and the Feishu sign-in behind it.

``/authorize`` (the SDK's handler) ends at ``/consent?txn=…``: a page naming the client and the
host it will send the user back to. Approving sets a cookie bound to that transaction (so the
Feishu callback completes only in the browser that consented) and sends the browser to Feishu with
our app id, our fixed callback URL, our own PKCE pair and ``offline_access``. The callback trades
Feishu's code (Authlib), asks Feishu who signed in, stores the sealed grant, and sends the browser
back to the client with our single-use code, its ``state`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import html
import logging
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlsplit

import httpx2
from authlib.common.security import generate_token
from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from auth.errors import AuthError
from auth.grants_redis import RedisGrantStore, subject_hash
from auth.oauth import AppCredentials, Endpoints, fetch_user_info, oauth_client
from auth.record import TokenRecord
from server.team.config import CALLBACK_PATH, CONSENT_PATH, TeamConfig
from server.team.records import CodeRecord, Records, Transaction, new_secret
from server.team.zones import UserZones, known_zone, profile_zone

log = logging.getLogger("feishu_calendar_mcp.team.signin")
CODE_LIFETIME = 300
# The one script the consent page runs: it preselects the zone the browser reports (the user sees
# it and may change it). Allowed by its hash alone, so no other script can run on the page.
ZONE_SCRIPT = (
    "var s=document.getElementById('tz'),z=Intl.DateTimeFormat().resolvedOptions().timeZone;"
    "for(var i=0;i<s.options.length;i++){if(s.options[i].value===z){s.value=z;}}"
)
_ZONE_SCRIPT_HASH = base64.b64encode(hashlib.sha256(ZONE_SCRIPT.encode()).digest()).decode()
# The page may not be framed (clickjacking a consent button), cached, or leak its URL onward.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; "
    f"script-src 'sha256-{_ZONE_SCRIPT_HASH}'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class FeishuApp:
    credentials: AppCredentials
    endpoints: Endpoints
    scopes: tuple[str, ...]  # what the Feishu sign-in asks for (offline_access included)
    transport: httpx2.AsyncBaseTransport | None = None


class SignIn:
    def __init__(
        self,
        config: TeamConfig,
        records: Records,
        grants: RedisGrantStore,
        feishu: FeishuApp,
        clock: Callable[[], float] = time.time,
        zones: UserZones | None = None,
    ) -> None:
        self.config = config
        self.records = records
        self.grants = grants
        self.feishu = feishu
        self.clock = clock
        self.zones = zones
        prefix = "__Host-" if config.secure else ""
        self.cookie = prefix + "fcm-consent"  # binds the Feishu callback to the consenting browser
        self.form_cookie = prefix + "fcm-consent-form"  # binds the decision to our own page (CSRF)

    def routes(self) -> list[Route]:
        return [
            Route(CONSENT_PATH, self.consent_page, methods=["GET"]),
            Route(CONSENT_PATH, self.consent_decision, methods=["POST"]),
            Route(CALLBACK_PATH, self.feishu_callback, methods=["GET"]),
        ]

    async def consent_page(self, request: Request) -> Response:
        handle = request.query_params.get("txn", "")
        txn = await self.records.get_transaction(handle) if handle else None
        if txn is None:
            return _page(
                "Sign-in expired",
                "<p>This sign-in link has expired or was used. Start again from your assistant.</p>",
                400,
            )
        client = html.escape(txn.client_name or txn.client_id)
        host = html.escape(urlsplit(txn.redirect_uri).netloc or txn.redirect_uri)
        body = (
            f"<h1>Connect {client} to your Feishu calendar?</h1>"
            f"<p><b>{client}</b> (client id <code>{html.escape(txn.client_id)}</code>) asks to read and change "
            f"your Feishu calendar through this server, as you. After you sign in to Feishu you will be sent "
            f"back to <b>{host}</b>.</p><p>Only continue if you started this from your own assistant.</p>"
            f'<form method="post" action="{CONSENT_PATH}">'
            f'<input type="hidden" name="txn" value="{html.escape(handle)}">'
            f"{self._zone_field()}"
            '<button name="decision" value="approve">Continue to Feishu</button> '
            '<button name="decision" value="deny">Cancel</button></form>'
        )
        page = _page("Connect your Feishu calendar", body)
        # SameSite=Strict: sent back only with a form posted from our own page, never with a
        # cross-site auto-submitted one (which could otherwise approve an attacker's client).
        page.set_cookie(
            self.form_cookie,
            self.config.keys.cookie_tag("form:" + handle),
            max_age=600,
            path="/",
            secure=self.config.secure,
            httponly=True,
            samesite="strict",
        )
        return page

    async def consent_decision(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True))
        handle = form.get("txn", "")
        txn = await self.records.get_transaction(handle) if handle else None
        if txn is None:
            return _page("Sign-in expired", "<p>This sign-in has expired. Start again from your assistant.</p>", 400)
        posted_from_our_page = request.cookies.get(self.form_cookie, "")
        if not hmac.compare_digest(posted_from_our_page, self.config.keys.cookie_tag("form:" + handle)):
            log.warning("consent decision without the consent page's cookie: refused")
            return _page("Sign-in refused", "<p>Open the sign-in link from your assistant again.</p>", 400)
        if form.get("decision") != "approve":
            await self.records.get_transaction(handle, consume=True)
            return self._back_to_client(txn, error="access_denied")
        verifier = generate_token(64)
        picked = form.get("timezone")
        chosen = "" if picked == "" else known_zone(picked)  # "": automatic; not a zone: keep what is stored
        await self.records.put_transaction(handle, replace(txn, feishu_verifier=verifier, timezone=chosen))
        async with oauth_client(
            self.feishu.credentials, self.feishu.endpoints, redirect_uri=self.config.callback_url
        ) as client:
            url, _ = client.create_authorization_url(
                self.feishu.endpoints.authorize_url,
                code_verifier=verifier,
                scope=" ".join(self.feishu.scopes),
                state=handle,
            )
        response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            self.cookie,
            self.config.keys.cookie_tag(handle),
            max_age=600,
            path="/",
            secure=self.config.secure,
            httponly=True,
            samesite="lax",  # the Feishu callback is a top-level GET from Feishu's page
        )
        return response

    async def feishu_callback(self, request: Request) -> Response:
        params = request.query_params
        handle = params.get("state", "")
        txn = await self.records.get_transaction(handle, consume=True) if handle else None
        if txn is None or not txn.feishu_verifier:
            return _page("Sign-in expired", "<p>This sign-in has expired or was already completed.</p>", 400)
        cookie = request.cookies.get(self.cookie, "")
        if not hmac.compare_digest(cookie, self.config.keys.cookie_tag(handle)):
            log.warning("Feishu callback without the consenting browser's cookie: refused")
            return _page("Sign-in refused", "<p>Finish the sign-in in the browser where you started it.</p>", 400)
        if params.get("error") or not params.get("code"):
            return self._back_to_client(txn, error="access_denied")
        try:
            record, tenant = await self._exchange(params["code"], txn.feishu_verifier)
        except AuthError as exc:
            log.warning("Feishu sign-in failed: %s", exc)
            return self._back_to_client(txn, error="server_error", description="the Feishu sign-in failed")
        subject = f"{tenant}:{record.open_id}"
        await self.grants.put(subject, record)
        if self.zones is not None:
            feishu = self.feishu
            profile = await profile_zone(
                feishu.endpoints.api_base, record.access_token, record.open_id, transport=feishu.transport
            )
            await self.zones.remember(subject, chosen=txn.timezone, profile=profile)
        code = new_secret()
        await self.records.put_code(
            code,
            CodeRecord(
                client_id=txn.client_id,
                redirect_uri=txn.redirect_uri,
                redirect_uri_provided_explicitly=txn.redirect_uri_provided_explicitly,
                code_challenge=txn.code_challenge,
                scopes=txn.scopes,
                resource=txn.resource,
                subject=subject,
                expires_at=self.clock() + CODE_LIFETIME,
            ),
        )
        log.info("user %s signed in for client %s", subject_hash(subject), txn.client_id)
        response = self._back_to_client(txn, code=code)
        response.delete_cookie(self.cookie, path="/", secure=self.config.secure, httponly=True, samesite="lax")
        return response

    async def _exchange(self, code: str, verifier: str) -> tuple[TokenRecord, str]:
        """Feishu's code for tokens, and who they belong to (the record and the tenant key)."""
        feishu = self.feishu
        async with oauth_client(
            feishu.credentials, feishu.endpoints, redirect_uri=self.config.callback_url, transport=feishu.transport
        ) as client:
            try:
                token = await client.fetch_token(feishu.endpoints.token_url, code=code, code_verifier=verifier)
            except httpx2.TransportError as exc:
                raise AuthError(f"could not reach Feishu's token endpoint ({type(exc).__name__})") from exc
        who = await fetch_user_info(feishu.endpoints.api_base, str(token["access_token"]), transport=feishu.transport)
        record = TokenRecord.from_token_response(
            feishu.credentials.app_id, who.open_id, dict(token), now=self.clock(), name=who.name
        )
        return record, who.tenant_key or "tenant"

    def _zone_field(self) -> str:
        """The time zone choice (team mode keeps one per user: server/team/zones.py)."""
        if self.zones is None:
            return ""
        default = html.escape(self.zones.default)
        options = _zone_options()
        return (
            '<p><label for="tz">Your time zone (times you give without one are read in it):</label><br>'
            f'<select id="tz" name="timezone"><option value="">Automatic: your Feishu profile\'s, '
            f"else the organisation's ({default})</option>{options}</select></p>"
            f"<script>{ZONE_SCRIPT}</script>"
        )

    def _back_to_client(
        self, txn: Transaction, *, code: str | None = None, error: str | None = None, description: str | None = None
    ) -> RedirectResponse:
        url = construct_redirect_uri(
            txn.redirect_uri,
            code=code,
            error=error,
            error_description=description,
            state=txn.state,
            iss=self.config.issuer,
        )
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


@functools.cache
def _zone_options() -> str:
    """Every IANA zone this machine knows, as options (built once)."""
    names = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return "".join(f'<option value="{html.escape(z)}">{html.escape(z)}</option>' for z in ["UTC", *names])


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>" + body
    )
    return HTMLResponse(document, status_code=status, headers=PAGE_HEADERS)
