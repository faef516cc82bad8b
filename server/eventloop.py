"""The event loop ``serve`` runs on: uvloop where it is installed (it is a dependency off Windows), else asyncio's.

Every message crosses several turns of the loop inside the SDK (its dispatcher hands each request
to a task of its own, and the upstream request is a few more), and uvloop's turns cost less CPU:
measured with ``python -m bench.ab`` (docs/benchmarks.md, issue 13). Team mode gets it from
uvicorn, which picks uvloop by itself when it is installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from typing import TypeVar, TypeVarTuple

import anyio

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def run(func: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> T:
    """``anyio.run`` on uvloop when it can be imported."""
    use_uvloop = importlib.util.find_spec("uvloop") is not None
    return anyio.run(func, *args, backend_options={"use_uvloop": use_uvloop})
