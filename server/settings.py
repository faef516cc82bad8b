"""All configuration, read once at startup from the environment and command-line flags."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from tools.spec import Toolset

DOMAINS = {"feishu": "https://open.feishu.cn", "lark": "https://open.larksuite.com"}

# Setting name -> environment variable (documented in the README).
ENV_NAMES = {
    "app_id": "FEISHU_APP_ID",
    "app_secret": "FEISHU_APP_SECRET",
    "domain": "FEISHU_DOMAIN",
    "user_access_token": "FEISHU_USER_ACCESS_TOKEN",
    "timezone": "FEISHU_TIMEZONE",
    "log_level": "FEISHU_LOG_LEVEL",
    "profile": "FEISHU_PROFILE",
    "config_dir": "FEISHU_CONFIG_DIR",
    "token_store": "FEISHU_TOKEN_STORE",
    "login_port": "FEISHU_LOGIN_PORT",
    "token_url": "FEISHU_OAUTH_TOKEN_URL",
    "authorize_url": "FEISHU_OAUTH_AUTHORIZE_URL",
    "max_attempts": "FEISHU_MAX_ATTEMPTS",
    "call_deadline": "FEISHU_CALL_DEADLINE",
    "connect_timeout": "FEISHU_CONNECT_TIMEOUT",
    "read_timeout": "FEISHU_READ_TIMEOUT",
    "toolsets": "FEISHU_TOOLSETS",
    "read_only": "FEISHU_READ_ONLY",
    "confirm_destructive": "FEISHU_CONFIRM_DESTRUCTIVE",
    "working_hours": "FEISHU_WORKING_HOURS",
    "http_engine": "FEISHU_HTTP_ENGINE",
}

TOOLSETS: tuple[str, ...] = tuple(t for t in get_args(Toolset) if t != "context")  # "context" is always on
# Subscriptions need webhook set-up, CalDAV mints passwords, Exchange needs a super-admin:
# opt-in only, which also keeps the default tool list short.
DEFAULT_TOOLSETS = ("events", "attendees", "meetings", "rooms", "people", "freebusy", "calendars")


class Settings(BaseModel):
    """One settings object, built at startup and passed down (never read at import time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str = ""
    app_secret: SecretStr = SecretStr("")
    domain: Annotated[str, Field(description="feishu, lark, or a base URL")] = "feishu"
    user_access_token: SecretStr = SecretStr("")
    timezone: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    profile: str | None = None
    config_dir: Path | None = None
    token_store: Literal["file", "keyring"] = "file"  # noqa: S105 (a backend name, not a secret)
    login_port: int = Field(default=17653, ge=1024, le=65535)
    token_url: str | None = None
    authorize_url: str | None = None
    max_attempts: int = Field(default=4, ge=1, le=10)
    call_deadline: float = Field(default=60.0, gt=0, le=600)
    connect_timeout: float = Field(default=5.0, gt=0, le=60)
    read_timeout: float = Field(default=20.0, gt=0, le=300)
    sandbox: bool = False
    toolsets: tuple[str, ...] = DEFAULT_TOOLSETS
    read_only: bool = False
    # Without client elicitation: "proceed" (annotations already mark the tool destructive)
    # or "refuse" (destructive tools fail with an explanation).
    confirm_destructive: Literal["proceed", "refuse"] = "proceed"
    # When find_meeting_times may propose meetings, in the user's timezone.
    working_hours: str = "Mon-Fri 09:00-18:00"
    # What carries requests to Feishu under httpx2 (server/http_engine.py): aiohttp's engine when it
    # can (installed, no proxy in the environment), for about half the CPU a request, else httpx2's
    # own; "httpx2" always takes the latter.
    http_engine: Literal["aiohttp", "httpx2"] = "aiohttp"

    @field_validator("toolsets", mode="before")
    @classmethod
    def _split_toolsets(cls, value: Any) -> Any:
        names = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
        names = [n for n in names if n]
        if "all" in names:
            return TOOLSETS
        unknown = sorted(set(names) - set(TOOLSETS))
        if unknown:
            raise ValueError(f"unknown toolsets {unknown}; choose from {', '.join(TOOLSETS)} or all")
        return tuple(names)

    @field_validator("read_only", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        from tools.common.working_hours import parse

        parse(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            from tools.common.times import zone

            zone(value)
        return value or None

    @staticmethod
    def detect_timezone(environ: Mapping[str, str]) -> str:
        """This machine's IANA zone (a stdio server runs beside its user), else UTC."""
        candidates = [environ.get("TZ", "").lstrip(":")]
        with contextlib.suppress(OSError):
            candidates.append(str(Path("/etc/localtime").resolve()).partition("zoneinfo/")[2])
        from tools.common.times import TimeInputError, zone

        for name in candidates:
            if name:
                try:
                    zone(name)
                except TimeInputError:
                    continue
                return name
        return "UTC"

    @property
    def api_base(self) -> str:
        """Feishu's or Lark's API host, or a custom base URL (private deployment, sandbox)."""
        return DOMAINS.get(self.domain, self.domain).rstrip("/")

    @classmethod
    def load(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Environment first, then command-line overrides (None means "not given")."""
        values: dict[str, Any] = {}
        for name, env in ENV_NAMES.items():
            if environ.get(env):
                values[name] = environ[env]
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        values.setdefault("timezone", cls.detect_timezone(environ))
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError.from_validation(exc, values, flags=set(given)) from None


class SettingsError(ValueError):
    """A setting that cannot be used, said in one line naming where it came from (variable or flag)."""

    @classmethod
    def from_validation(cls, exc: ValidationError, values: Mapping[str, Any], flags: set[str]) -> SettingsError:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            flag = _FLAG_NAMES.get(name, f"--{name.replace('_', '-')}")
            source = flag if name in flags else ENV_NAMES.get(name, name)
            # pydantic prefixes our own validators' messages; the field is named by the source already.
            message = str(error["msg"]).removeprefix("Value error, ").removeprefix(f"{name}: ")
            shown = "" if name in _SECRET_SETTINGS else f"={values.get(name)!r}"
            problems.append(f"{source}{shown}: {message[:1].lower()}{message[1:]}")
        return cls("; ".join(problems))


_SECRET_SETTINGS = frozenset({"app_secret", "user_access_token"})
_FLAG_NAMES = {"login_port": "--port"}  # `login --port`; every other flag is the setting's name
