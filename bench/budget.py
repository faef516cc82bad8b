"""Where the machine's CPU goes during a measured block: the server, the fake Feishu, the bench client.

Three processes share the machine's cores while a server is driven at concurrency 8: the bench
client (this process), the upstream (``python -m bench.upstream``, the sandbox) and the server.
When two servers hit the same throughput ceiling, the sum of the three per call is what sets it,
so bench.lark reports each part, and what each server's requests cost the upstream (new
connections, request-head bytes, the header names of its last request).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bench import procs
from bench.upstream import counts

# Both servers reach the upstream from this address (the upstream floor of bench.run uses another).
SERVER_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Upstream:
    """The fake Feishu both servers call: its process (for its CPU) and its address (for its counter)."""

    pid: int
    base_url: str


@dataclass
class Budget:
    """Where the machine's CPU went over one server's c=8 blocks, and what its upstream requests were.

    Server and upstream CPU come from /proc (10 ms ticks); the client's is this process's own
    (``time.process_time``). The counter's figures are read outside the CPU window, so reading
    them is billed to no one. Both servers reach the upstream from 127.0.0.1, and blocks do not
    overlap, so the counter's change over a block is that server's.
    """

    FIGURES: ClassVar[dict[str, str]] = {
        "cpu_ms": "server",
        "upstream_cpu_ms": "upstream",
        "client_cpu_ms": "client",
        "machine_cpu_ms": "machine",
        "upstream_connections_per_call": "connections",
        "upstream_head_bytes": "head_bytes",
    }

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("server", "upstream", "client"), 0.0))
    counted: dict[str, int] = field(default_factory=lambda: {"connections": 0, "requests": 0, "head_bytes": 0})
    last_request: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def block(self, server_pid: int, upstream: Upstream) -> AsyncIterator[None]:
        was = (await counts(upstream.base_url)).get(SERVER_HOST, {})
        cpu = (procs.cpu_seconds(server_pid), procs.cpu_seconds(upstream.pid), time.process_time())
        yield
        self.seconds["server"] += procs.cpu_seconds(server_pid) - cpu[0]
        self.seconds["upstream"] += procs.cpu_seconds(upstream.pid) - cpu[1]
        self.seconds["client"] += time.process_time() - cpu[2]
        now = (await counts(upstream.base_url)).get(SERVER_HOST, {})
        for key in self.counted:
            self.counted[key] += now.get(key, 0) - was.get(key, 0)
        self.last_request = now.get("last_request", {})

    def per_call(self, figure: str, calls: int) -> float:
        """``figure`` per call: CPU in ms (``machine`` is all three), connections, or request-head bytes."""
        if figure == "connections":
            return round(self.counted["connections"] / calls, 4)
        if figure == "head_bytes":
            return round(self.counted["head_bytes"] / max(self.counted["requests"], 1), 1)
        spent = sum(self.seconds.values()) if figure == "machine" else self.seconds[figure]
        return round(spent / calls * 1000, 3)
