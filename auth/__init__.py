"""OAuth user authorization for Feishu/Lark on Authlib, and the token store. No ``mcp`` imports here.

Public API:

- :class:`auth.login.PendingLogin`, :func:`auth.login.login_with_browser`,
  :func:`auth.login.login_with_paste`: sign a user in (PKCE S256, loopback redirect).
- :class:`auth.session.UserTokens`: a profile's access token, refreshed without races.
- :class:`auth.store.TokenStore` with :class:`auth.store.FileTokenStore`,
  :class:`auth.memory_store.MemoryTokenStore` and :class:`auth.keyring_store.KeyringTokenStore`; a store
  that cannot be read is :class:`auth.store.StoreData` damage, raised as StoreDamaged when used.
- :mod:`auth.private`: owner-only folders (0700) and files (0600), tightened when opened, written atomically.
- :class:`auth.oauth.Endpoints`, :class:`auth.oauth.AppCredentials`: where and as which app.
- :func:`auth.scopes.minimal_scopes`: what a login asks for.
- :mod:`auth.errors`: LoginRequired, ReloginRequired, LoginFailed, TokenEndpointError, StoreError,
  StoreDamaged.
"""
