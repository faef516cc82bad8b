"""The MCP SDK's own OAuth client, with a scripted user at the browser.

``SignedInUser`` is what a person does after their assistant opens our /authorize URL: reads the
consent page (kept for assertions), approves, signs in to Feishu (the sandbox's consent form, as
``open_id``), and the browser follows the redirects back to the client's loopback URL, whose code,
state and iss go to the SDK client. Every request the browser makes goes to ``http`` (a transport
onto one replica, or round-robin over several), with a cookie jar like a real browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from sandbox import Sandbox

CLIENT_REDIRECT = "http://127.0.0.1:33418/callback"


@dataclass
class MemoryStorage(TokenStorage):
    tokens: OAuthToken | None = None
    client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


@dataclass
class SignedInUser:
    sb: Sandbox
    open_id: str
    transport: httpx2.AsyncBaseTransport
    approve: bool = True
    timezone: str | None = None  # what the user picks on the consent page (None: leaves it as offered)
    authorize_url: str = ""
    consent_pages: list[str] = field(default_factory=list)
    hops: list[str] = field(default_factory=list)

    async def redirect(self, url: str) -> None:
        self.authorize_url = url

    async def callback(self) -> AuthorizationCodeResult:
        async with httpx2.AsyncClient(transport=self.transport, follow_redirects=False) as browser:
            url = self.authorize_url
            for _ in range(10):
                self.hops.append(urlsplit(url).path)
                if url.startswith(CLIENT_REDIRECT):
                    query = dict(parse_qsl(urlsplit(url).query))
                    if "code" not in query:
                        raise PermissionError(f"the sign-in ended with {query}")
                    return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))
                if "/open-apis/authen/v1/authorize" in url:  # Feishu's page: the user signs in there
                    url = self.sb.consent(url, approve=self.approve, user=self.open_id)
                    continue
                page = await browser.get(url)
                if page.status_code == 200 and "/consent" in url:
                    self.consent_pages.append(page.text)
                    txn = dict(parse_qsl(urlsplit(url).query))["txn"]
                    form = {"txn": txn, "decision": "approve"}
                    if self.timezone is not None:
                        form["timezone"] = self.timezone
                    page = await browser.post(url.split("?")[0], data=form)
                if page.status_code != 302:
                    raise AssertionError(f"{url} answered {page.status_code}: {page.text[:300]}")
                url = urljoin(url, page.headers["location"])
        raise AssertionError(f"too many redirects: {self.hops}")


def oauth(
    mcp_url: str, user: SignedInUser, storage: MemoryStorage | None = None, *, metadata_url: str | None = None
) -> OAuthClientProvider:
    """The SDK's OAuth client for ``mcp_url`` (dynamic registration, or a metadata document URL)."""
    return OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Test Assistant",
            redirect_uris=[AnyUrl(CLIENT_REDIRECT)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="client_secret_post",
        ),
        storage=storage or MemoryStorage(),
        redirect_handler=user.redirect,
        callback_handler=user.callback,
        client_metadata_url=metadata_url,
    )
