"""bench/sandbox_cost.py runs: two checkouts' sandboxes served side by side, their answers compared."""

from __future__ import annotations

import pytest

from bench import procs, sandbox_cost


def test_sandbox_cost_measures_both_sides_and_compares_their_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_cost.main(["--before", str(procs.ROOT), "--blocks", "1", "--calls", "20"]) == 0
    printed = capsys.readouterr().out
    for kind in sandbox_cost.KINDS:
        assert f"{kind:9s} sandbox CPU ms/request  before" in printed
    assert "answers byte for byte the same on both sides: yes" in printed
    assert printed.startswith("load average at start") and "load average at end" in printed


def test_sandbox_cost_fails_when_the_answers_differ(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def measured(*_: object) -> tuple[dict[str, float], bool]:
        return {f"{side} {kind}": 0.0 for side in ("before", "after") for kind in sandbox_cost.KINDS}, False

    monkeypatch.setattr(sandbox_cost, "measure", measured)
    assert sandbox_cost.main(["--before", str(procs.ROOT)]) == 1
    printed = capsys.readouterr().out
    assert "answers byte for byte the same on both sides: NO" in printed and "after/before n/a" in printed
