"""Why signing in, refreshing or reading the token store failed, in words the user can act on.

AuthError
├── LoginRequired      nobody is signed in for this profile (or the tokens were removed)
├── ReloginRequired    the stored login is dead (refresh token expired, revoked, already used)
├── LoginFailed        a login attempt did not produce tokens (denied, timed out, state mismatch, ...)
├── TokenEndpointError Feishu's token endpoint answered with an error we have no better name for
└── StoreError         the token store cannot be used (disk full, no permission, keyring locked, ...)
    └── StoreDamaged   the store, or one profile in it, cannot be read: `login` replaces it, `logout` removes it

Every message is safe to show: none ever contains a token, a code, a verifier or the app secret.
"""

from __future__ import annotations


class AuthError(Exception):
    """Base of every auth failure; ``str()`` is the full message, ``code`` Feishu's code or 0.

    ``reason`` is what went wrong; ``login_command``, when set, is the command that fixes it
    (kept apart so the MCP layer can put it in its own "what to do" line).
    """

    def __init__(self, reason: str, *, code: int = 0, login_command: str = "") -> None:
        self.reason = reason
        self.code = code
        self.login_command = login_command
        message = reason
        if code and str(code) not in reason:
            message += f" (Feishu code {code})"
        if login_command:
            message += f"; sign in again: {login_command}"
        super().__init__(message)


class LoginRequired(AuthError):
    pass


class ReloginRequired(AuthError):
    pass


class LoginFailed(AuthError):
    pass


class TokenEndpointError(AuthError):
    def __init__(self, message: str, *, code: int = 0, error: str = "", status: int = 0) -> None:
        super().__init__(message, code=code)
        self.error = error
        self.status = status


class StoreError(AuthError):
    """The token store cannot be used; ``advice`` says what fixes it (one line with the reason)."""

    def __init__(self, reason: str, advice: str) -> None:
        super().__init__(reason)
        self.advice = advice
        self.args = (f"{reason}; {advice}",)


LOGIN = "feishu-calendar-mcp login"
LOGOUT = "feishu-calendar-mcp logout"


class StoreDamaged(StoreError):
    """The store (or one profile's entry) is unreadable: empty, truncated, the wrong shape, ...

    Both commands repair it: ``login`` writes a good entry over it, ``logout`` removes it.
    """

    def __init__(self, reason: str, *, login: str = LOGIN, logout: str = LOGOUT) -> None:
        super().__init__(reason, f"run `{login}` to sign in again (it replaces it) or `{logout}` to remove it")
        self.login_command = login
        self.logout_command = logout

    def with_commands(self, login: str, logout: str) -> StoreDamaged:
        """The same failure, naming the exact commands of the caller's settings (profile, domain)."""
        return StoreDamaged(self.reason, login=login, logout=logout)


# Refresh-token failures that no retry can fix: the user has to sign in again (feishu-api.md §7.2).
DEAD_REFRESH_CODES = frozenset({20026, 20037, 20064, 20073, 20074})

# What each token-endpoint (and consent page) code means for the person at the keyboard.
TOKEN_ERROR_MEANINGS: dict[int, str] = {
    20002: "the app secret is wrong: check FEISHU_APP_SECRET",
    20003: "the authorization code is unknown or was already used: sign in again",
    20004: "the authorization code expired (codes live 5 minutes): sign in again",
    20008: "the user does not exist",
    20009: "the app is not installed in this tenant: ask the tenant admin to install it",
    20010: "this user may not use the app: ask the tenant admin to grant access",
    20024: "the code or refresh token belongs to another app: check FEISHU_APP_ID",
    20026: "the refresh token is invalid",
    20027: "a requested scope is not enabled for the app: enable it in the developer console or drop --scope",
    20029: "the redirect URI is not registered for the app",
    20037: "the refresh token expired (a login lasts at most 365 days)",
    20048: "the app does not exist: check FEISHU_APP_ID",
    20049: "the PKCE check failed (code_verifier does not match the code_challenge): sign in again",
    20050: "Feishu's token service had an internal error: try again in a minute",
    20064: "the refresh token was revoked",
    20065: "the authorization code was already used: sign in again",
    20066: "the user's account is not active",
    20069: "the app is not enabled: enable (publish) it in the developer console",
    20071: "the redirect URI does not match the one used to ask for the code",
    20072: "Feishu's token service is temporarily unavailable: try again in a minute",
    20073: "the refresh token was already used (another program may share this app and user)",
    20074: "the app may not refresh user tokens: turn on 'refresh user_access_token' in the app's security settings",
}

REDIRECT_CODES = frozenset({20029, 20071})


def redirect_advice(redirect_uri: str) -> str:
    return (
        f"add {redirect_uri} to the app's redirect URLs (developer console > Security settings), "
        "or pass --port to match one that is registered"
    )
