"""One settings object from the environment and flags: names, precedence, refusals, secrets kept secret."""

from __future__ import annotations

import pytest

from server.settings import DEFAULT_TOOLSETS, ENV_NAMES, Settings, SettingsError


def test_every_setting_has_its_environment_variable() -> None:
    environ = {
        "FEISHU_APP_ID": "cli_x",
        "FEISHU_APP_SECRET": "s3cret-value",
        "FEISHU_DOMAIN": "lark",
        "FEISHU_TIMEZONE": "Europe/Berlin",
        "FEISHU_LOG_LEVEL": "debug",
        "FEISHU_MAX_ATTEMPTS": "2",
        "FEISHU_CALL_DEADLINE": "30",
        "FEISHU_CONNECT_TIMEOUT": "2.5",
        "FEISHU_READ_TIMEOUT": "7",
        "FEISHU_TOOLSETS": "events,rooms",
        "FEISHU_READ_ONLY": "yes",
        "FEISHU_CONFIRM_DESTRUCTIVE": "refuse",
        "FEISHU_WORKING_HOURS": "Sun-Thu 08:30-17:00",
    }
    settings = Settings.load(environ)
    assert settings.app_id == "cli_x" and settings.api_base == "https://open.larksuite.com"
    assert (settings.timezone, settings.log_level) == ("Europe/Berlin", "DEBUG")
    assert (settings.max_attempts, settings.call_deadline) == (2, 30.0)
    assert (settings.connect_timeout, settings.read_timeout) == (2.5, 7.0)
    assert settings.toolsets == ("events", "rooms") and settings.read_only is True
    assert settings.confirm_destructive == "refuse"
    assert settings.working_hours == "Sun-Thu 08:30-17:00"
    assert set(ENV_NAMES.values()) >= set(environ)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("weekdays 9-5", "expected a form like"),
        ("Mon-Fri 18:00-09:00", "after the start"),
        ("Mon-Fry 09:00-17:00", "day"),
    ],
)
def test_working_hours_are_refused_naming_the_form(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Settings.load({"FEISHU_WORKING_HOURS": text, "FEISHU_TIMEZONE": "UTC"})


def test_working_hours_read_day_ranges_and_lists() -> None:
    from tools.common.working_hours import parse

    assert parse("Mon-Fri 09:00-18:00").weekdays == frozenset(range(5))
    assert parse("Sun-Thu 08:30-17:00").weekdays == frozenset({6, 0, 1, 2, 3})
    assert parse("Mon,Wed,Fri 10:00-12:00").weekdays == frozenset({0, 2, 4})
    assert parse("sat 9:00-13:00").describe() == "Sat 09:00-13:00"


def test_flags_beat_the_environment_and_none_means_not_given() -> None:
    environ = {"FEISHU_DOMAIN": "lark", "FEISHU_TOOLSETS": "rooms", "FEISHU_TIMEZONE": "UTC"}
    settings = Settings.load(environ, domain="http://127.0.0.1:8900/", toolsets=None)
    assert settings.api_base == "http://127.0.0.1:8900"
    assert settings.toolsets == ("rooms",)
    assert Settings.load({"FEISHU_TIMEZONE": "UTC"}).toolsets == DEFAULT_TOOLSETS


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        ({"FEISHU_TIMEZONE": "Mars/Olympus"}, "timezone"),
        ({"FEISHU_MAX_ATTEMPTS": "0"}, "max_attempts"),
        ({"FEISHU_CONNECT_TIMEOUT": "-1"}, "connect_timeout"),
        ({"FEISHU_LOG_LEVEL": "chatty"}, "log_level"),
        ({"FEISHU_CONFIRM_DESTRUCTIVE": "maybe"}, "confirm_destructive"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(environ: dict[str, str], field: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.load({"FEISHU_TIMEZONE": "UTC", **environ})
    message = str(refused.value)
    assert message.startswith(f"{ENV_NAMES[field]}=") and "\n" not in message


def test_a_bad_flag_is_named_as_the_flag() -> None:
    with pytest.raises(SettingsError, match=r"^--timezone='Mars/Olympus': unknown IANA zone"):
        Settings.load({"FEISHU_TIMEZONE": "UTC"}, timezone="Mars/Olympus")
    with pytest.raises(SettingsError, match=r"^--port=80: input should be greater than or equal to 1024"):
        Settings.load({}, login_port=80)


def test_a_bad_secret_is_never_shown() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.load({"FEISHU_TIMEZONE": "UTC"}, app_secret=["s3cret-value"])
    assert str(refused.value) == "--app-secret: input should be a valid string"  # no value shown


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    settings = Settings.load(
        {"FEISHU_TIMEZONE": "UTC", "FEISHU_APP_SECRET": "s3cret-value", "FEISHU_USER_ACCESS_TOKEN": "u-tok3n"}
    )
    shown = repr(settings) + str(settings.model_dump())
    assert "s3cret-value" not in shown and "u-tok3n" not in shown
    assert settings.app_secret.get_secret_value() == "s3cret-value"


def test_timezone_falls_back_to_the_machine() -> None:
    assert Settings.load({"TZ": ":Asia/Tokyo"}).timezone == "Asia/Tokyo"
