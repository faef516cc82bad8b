"""The garbage collector of a serving process: off while it starts, then on at the serving schedule."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from auth.grant_cipher import GrantCipher
from server import heap
from server.cli import main
from tests.team.harness import team_environ


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    """Each test leaves the collector as it found it (pytest's own process runs on)."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


def test_serving_freezes_what_start_up_built_and_collects_young_objects_less_often() -> None:
    heap.starting()
    assert not gc.isenabled()
    built = [[n] for n in range(1_000)]  # containers a start-up leaves behind, for good
    _, middle, old = gc.get_threshold()
    heap.serving()
    assert gc.isenabled()
    assert gc.get_threshold() == (heap.YOUNG_LIMIT, middle, old)
    assert gc.get_freeze_count() >= len(built)


def test_a_cycle_made_while_serving_is_still_collected() -> None:
    heap.starting()
    heap.serving()

    class Node:
        partner: Any = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first
    del first, second
    assert gc.collect() >= 2  # collections still run, and find cycles


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """The command sets up the root logger for the process; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("logging_restored")
def test_team_mode_serves_with_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command turns collections off while it builds; team mode used to serve with them off for good."""
    for name, value in team_environ("http://127.0.0.1:9").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FEISHU_TOKEN_KEY", GrantCipher.new_key())
    seen: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:  # instead of serving: what the replica would serve with
        seen.update(enabled=gc.isenabled(), threshold=gc.get_threshold())

    monkeypatch.setattr(uvicorn, "run", run)
    argv = ["serve", "--transport", "http", "--public-url", "https://calendar.example.com"]
    assert main([*argv, "--redis-url", "redis://127.0.0.1:9/0"]) == 0
    assert seen == {"enabled": True, "threshold": (heap.YOUNG_LIMIT, *gc.get_threshold()[1:])}
