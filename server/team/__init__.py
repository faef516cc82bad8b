"""Team mode: one deployment for a whole organisation (``serve --transport http --public-url URL``).

The server is an OAuth 2.1 authorization server and resource server in one ASGI app per replica;
all shared state (clients, sign-in transactions, codes, our refresh tokens, sealed Feishu grants,
locks, rate limits) lives in Redis, so any replica answers any request. Without ``--public-url``
none of this is imported: stdio or local HTTP, one user, the file token store.

- :mod:`server.team.config`: settings and the keys derived from ``FEISHU_TOKEN_KEY``.
- :mod:`server.team.records`: the authorization server's Redis records.
- :mod:`server.team.provider`: the SDK's ``OAuthAuthorizationServerProvider`` over those records.
- :mod:`server.team.access`: our access tokens (JWT, joserfc) and the resource server's verifier.
- :mod:`server.team.signin`: the consent page and the Feishu sign-in behind it.
- :mod:`server.team.cimd`: client ID metadata documents, fetched with SSRF checks.
- :mod:`server.team.identity`: the calling user's Feishu token for the one shared Feishu client.
- :mod:`server.team.app`: the ASGI app (AS routes, /mcp, /healthz, /readyz) and ``serve``.
"""
