"""Three team-mode replicas as real processes on loopback, and a round-robin "load balancer".

The replicas are ``python -m server serve --transport http --public-url … --redis-url …``
processes sharing one redis-server and the sandbox (served on loopback) as Feishu. The load
balancer is an httpx2 transport: every request, the browser's and the MCP client's alike, keeps
the public URL and Host header and is sent to the next replica in turn, so consecutive requests
of one sign-in or one tool call land on different processes. Each replica logs at DEBUG to a file.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from auth.grant_cipher import GrantCipher
from bench.procs import ROOT, free_port, python_env, stop, wait_for_port
from sandbox import Sandbox, running
from tests.team.browser import SignedInUser
from tests.team.harness import team_environ, team_sandbox


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each request to the next replica; remembers who got what (port, JSON-RPC method)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._next = itertools.cycle(ports)
        self._inner = httpx2.AsyncHTTPTransport()
        self.served: Counter[int] = Counter()
        self.trail: list[tuple[int, str]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._next)
        self.served[port] += 1
        method = ""
        if request.url.path == "/mcp" and request.method == "POST":
            try:
                method = str(json.loads(request.content).get("method", ""))
            except ValueError:
                method = "?"
        self.trail.append((port, method or request.url.path))
        request.url = request.url.copy_with(port=port)  # the Host header still names the public URL
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Kept open: the browser's client and the MCP client share this transport (see shutdown)."""

    async def shutdown(self) -> None:
        await self._inner.aclose()


@dataclass
class Cluster:
    sb: Sandbox
    public_url: str
    ports: list[int]
    logs: list[Path]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def mcp_url(self) -> str:
        return self.public_url + "/mcp"

    def balancer(self) -> RoundRobin:
        return RoundRobin(self.ports)

    def user(self, open_id: str, transport: httpx2.AsyncBaseTransport) -> SignedInUser:
        return SignedInUser(self.sb, open_id, transport)

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs)


@contextmanager
def cluster(
    redis_url: str,
    directory: Path,
    replicas: int = 3,
    *,
    user_limit: str = "100/second",  # the tests' bursts (30 calls at once) are not what limits are for
    tenant_limit: str = "1000/second",
) -> Iterator[Cluster]:
    public = f"http://127.0.0.1:{free_port()}"  # nothing listens there: RoundRobin picks the replica
    sb = team_sandbox(public)
    with running(sb) as sandbox_url:
        ports = [free_port() for _ in range(replicas)]
        environ = python_env()
        environ.update(team_environ(sandbox_url), FEISHU_TOKEN_KEY=GrantCipher.new_key(), FEISHU_LOG_LEVEL="DEBUG")
        environ.update(FEISHU_USER_RATE_LIMIT=user_limit, FEISHU_TENANT_RATE_LIMIT=tenant_limit)
        logs = [directory / f"replica-{n}.log" for n in range(replicas)]
        group = Cluster(sb, public, ports, logs)
        try:
            for port, log in zip(ports, logs, strict=True):
                command = [sys.executable, "-m", "server", "serve", "--transport", "http", "--port", str(port)]
                command += ["--public-url", public, "--redis-url", redis_url]
                with log.open("wb") as sink:
                    group.processes.append(
                        subprocess.Popen(command, cwd=ROOT, env=environ, stdout=sink, stderr=subprocess.STDOUT)
                    )
            for port, process in zip(ports, group.processes, strict=True):
                wait_for_port(port, timeout=60, process=process)
            yield group
        finally:
            for process in group.processes:
                stop(process)
            for process in group.processes:
                process.wait(timeout=15)
