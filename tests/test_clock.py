"""The one clock: the sandbox commands' test-only pin, and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server import cli
from server.clock import SANDBOX_NOW_VARIABLE, SystemClock, VirtualClock, sandbox_clock

SUNDAY_NIGHT = datetime(2026, 12, 13, 15, 50, tzinfo=UTC).timestamp()  # 23:50 in Shanghai


@pytest.mark.parametrize("value", ["2026-12-13T23:50:00+08:00", "2026-12-13T15:50:00Z", str(int(SUNDAY_NIGHT))])
def test_the_sandbox_clock_starts_where_it_is_pinned_and_runs_on(value: str) -> None:
    clock = sandbox_clock({SANDBOX_NOW_VARIABLE: value})
    assert SUNDAY_NIGHT <= clock.now() < SUNDAY_NIGHT + 60


def test_unpinned_the_sandbox_runs_on_the_machines_time() -> None:
    clock = sandbox_clock({})
    assert abs(clock.now() - SystemClock().now()) < 60


@pytest.mark.parametrize("value", ["2026-12-13T23:50", "tomorrow", "-5", "2026-13-01T00:00:00+08:00"])
def test_a_pin_without_offset_or_unreadable_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=f"{SANDBOX_NOW_VARIABLE}: expected Unix seconds or RFC 3339"):
        sandbox_clock({SANDBOX_NOW_VARIABLE: value})


def test_the_sandbox_commands_refuse_a_bad_pin_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SANDBOX_NOW_VARIABLE, "next monday")
    with pytest.raises(SystemExit) as exit_:
        cli._sandbox_clock()  # what serve --sandbox, sandbox and demo's server read it with
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and SANDBOX_NOW_VARIABLE in err


def test_time_moves_only_forward() -> None:
    for clock in (SystemClock(), VirtualClock(100.0)):
        with pytest.raises(ValueError, match="only moves forward"):
            clock.advance(-1)
    virtual = VirtualClock(100.0)
    virtual.advance(5)
    assert virtual.now() == virtual.monotonic() == 105.0
