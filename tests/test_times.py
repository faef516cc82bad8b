"""Time inputs in every accepted form, and their Feishu wire forms."""

from __future__ import annotations

from datetime import date

import pytest

from tools.common import times


@pytest.mark.parametrize(
    ("value", "tz", "unix"),
    [
        ("2026-11-23T15:00:00+08:00", None, 1795417200),
        ("2026-11-23T07:00:00Z", None, 1795417200),
        ("2026-11-23T15:00", "Asia/Shanghai", 1795417200),
        ("2026-11-23 15:00:00", "Asia/Shanghai", 1795417200),
        ("2026-11-23T08:00", "Europe/London", 1795417200 + 3600),
        ("1795417200", None, 1795417200),
        (1795417200, None, 1795417200),
    ],
)
def test_instants(value: str | int, tz: str | None, unix: int) -> None:
    parsed = times.parse_time(value, tz)
    assert parsed.instant is not None and int(parsed.instant.timestamp()) == unix
    assert times.time_info(parsed, tz) == ({"timestamp": str(unix)} | ({"timezone": tz} if tz else {}))


def test_dates_are_all_day_and_whole_days_in_windows() -> None:
    parsed = times.parse_time("2026-11-23", "Asia/Shanghai")
    assert parsed.day == date(2026, 11, 23) and parsed.is_all_day
    assert times.time_info(parsed, "Asia/Shanghai") == {"date": "2026-11-23"}
    zone = times.zone("Asia/Shanghai")
    assert times.unix_seconds(parsed.as_instant(zone)) == "1795363200"
    assert times.unix_seconds(parsed.as_instant(zone, end_of_day=True)) == "1795449600"


@pytest.mark.parametrize(
    ("value", "tz", "message"),
    [
        ("2026-11-23T15:00", None, "no UTC offset"),
        ("2026-02-30", None, "not a real date"),
        ("next tuesday", None, "RFC 3339"),
        ("99999999999", None, "range"),
        (True, None, "expected a time"),
        ("2026-11-23T15:00", "Nowhere/City", "timezone: unknown IANA zone"),
    ],
)
def test_rejections_name_the_field(value: object, tz: str | None, message: str) -> None:
    with pytest.raises(times.TimeInputError) as info:
        times.parse_time(value, tz, "start")
    assert str(info.value).startswith("start: ") and message in str(info.value)


def test_rendering_keeps_the_events_own_zone() -> None:
    assert times.render_time_info({"timestamp": "1795417200", "timezone": "Asia/Shanghai"}) == (
        "2026-11-23T15:00:00+08:00"
    )
    assert times.render_time_info({"timestamp": "1795417200", "timezone": "America/New_York"}) == (
        "2026-11-23T02:00:00-05:00"
    )
    assert times.render_time_info({"date": "2026-11-23"}) == "2026-11-23"
    assert times.render_time_info({"timestamp": "x"}) is None
    assert times.render_time_info(None) is None


@pytest.mark.parametrize(
    ("value", "tz", "instead"),
    [
        ("2027-03-28T02:30", "Europe/Berlin", "2027-03-28T03:30+02:00"),
        ("2027-03-14 02:00", "America/New_York", "2027-03-14T03:00-04:00"),
        ("2027-03-28T02:59:59", "Europe/Berlin", "2027-03-28T03:59:59+02:00"),
    ],
)
def test_a_local_time_the_clocks_skip_is_refused_with_the_instant_it_would_mean(
    value: str, tz: str, instead: str
) -> None:
    """Read with the old offset, 02:30-03:30 in Berlin's spring gap reached Feishu as start == end (190002)."""
    with pytest.raises(times.TimeInputError) as info:
        times.parse_time(value, tz, "start")
    message = str(info.value)
    assert message.startswith(f"start: {value.replace(' ', 'T')} does not exist in {tz}") and instead in message


@pytest.mark.parametrize(
    ("value", "tz", "unix"),
    [
        ("2026-11-01T01:30", "America/New_York", 1793511000),  # the repeated hour: its first (EDT) instant
        ("2027-03-28T03:00", "Europe/Berlin", 1806195600),  # the first minute after the gap
        ("2027-03-28T01:59", "Europe/Berlin", 1806195540),  # the last minute before it
    ],
)
def test_times_beside_a_clock_change_are_read(value: str, tz: str, unix: int) -> None:
    parsed = times.parse_time(value, tz)
    assert parsed.instant is not None and int(parsed.instant.timestamp()) == unix
