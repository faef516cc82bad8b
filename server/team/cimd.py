"""Client ID Metadata Documents (MCP 2025-11-25): a client_id that is an HTTPS URL of its metadata.

Fetching a URL a stranger chose is a server-side request forgery risk, so: https only, no
credentials or fragment in the URL, the host must resolve to public addresses only (no loopback,
private, link-local, multicast or reserved ranges), no redirects, a short timeout and a size cap.
The document must name itself (``client_id`` equal to its URL) and list its redirect URIs. Good
documents are cached in Redis (sealed like every client record) for an hour.

The request goes to the very address that was checked: the URL names that IP, while the
``Host`` header and TLS (SNI and the certificate's name check) use the client's host name. A DNS
answer that changes between the check and the connection (rebinding) therefore cannot steer the
fetch to a private address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

from server.team.config import SCOPE

MAX_BYTES = 16_384
TIMEOUT = 5.0
CACHE_TTL = 3600


class MetadataDocumentError(Exception):
    """Why a client ID metadata document was not accepted (safe to show)."""


def is_metadata_url(client_id: str) -> bool:
    parts = urlsplit(client_id)
    return parts.scheme == "https" and bool(parts.netloc) and parts.path not in ("", "/")


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolve(host: str, port: int) -> list[str]:
    answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in answers]


async def _public_address(host: str, port: int, resolve: Resolver) -> str:
    """One address of ``host``, provided every address it resolves to is public."""
    try:
        addresses = await resolve(host, port)
    except OSError:
        raise MetadataDocumentError(f"the client's host {host} does not resolve") from None
    if not addresses:
        raise MetadataDocumentError(f"the client's host {host} does not resolve")
    for address in addresses:
        if not ipaddress.ip_address(address).is_global:
            raise MetadataDocumentError(f"the client's host {host} resolves to a non-public address")
    return addresses[0]


async def fetch_client(
    url: str, *, transport: httpx2.AsyncBaseTransport | None = None, resolve: Resolver | None = None
) -> OAuthClientInformationFull:
    """The client described at ``url``.

    ``transport`` (tests) replaces the network; without ``resolve`` as well it also skips the address
    check, since a mock network has no addresses."""
    parts = urlsplit(url)
    if not is_metadata_url(url) or parts.username or parts.password or parts.fragment:
        raise MetadataDocumentError("a client_id URL must be https://host/path with no credentials or fragment")
    target, headers, extensions = url, {"Accept": "application/json"}, {}
    if transport is None or resolve is not None:
        host, port = parts.hostname or "", parts.port or 443
        address = await _public_address(host, port, resolve or system_resolve)
        pinned = f"[{address}]" if ":" in address else address
        target = urlunsplit(parts._replace(netloc=f"{pinned}:{port}"))
        headers["Host"] = parts.netloc
        extensions["sni_hostname"] = host
    async with httpx2.AsyncClient(transport=transport, timeout=TIMEOUT, follow_redirects=False) as http:
        try:
            async with http.stream("GET", target, headers=headers, extensions=extensions) as response:
                if response.status_code != 200:
                    raise MetadataDocumentError(f"the client's metadata document answered HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise MetadataDocumentError("the client's metadata document is too large")
        except httpx2.HTTPError as exc:
            raise MetadataDocumentError(
                f"the client's metadata document could not be fetched ({type(exc).__name__})"
            ) from exc
    return parse_document(url, body)


def parse_document(url: str, body: bytes) -> OAuthClientInformationFull:
    try:
        info = OAuthClientInformationFull.model_validate_json(body)
    except ValidationError as exc:
        raise MetadataDocumentError(f"the client's metadata document is invalid ({exc.error_count()} errors)") from None
    if info.client_id != url:
        raise MetadataDocumentError("the client's metadata document names another client_id")
    if not info.redirect_uris:
        raise MetadataDocumentError("the client's metadata document lists no redirect_uris")
    # A document is public: it can hold no secret, so the client authenticates with PKCE alone.
    # Without a scope of its own it may ask for ours (the only one there is).
    update = {"client_secret": None, "token_endpoint_auth_method": "none", "scope": info.scope or SCOPE}
    return info.model_copy(update=update)


def cache_document(info: OAuthClientInformationFull) -> dict[str, Any]:
    return info.model_dump(mode="json", exclude_none=True)
