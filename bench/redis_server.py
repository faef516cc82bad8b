"""A private redis-server on a free loopback port, for team mode's tests and benchmark.

Started from the ``redis-server`` binary (``.ci/run`` installs Debian's package), bound to
127.0.0.1 only, with its data in a directory we own: append-only file, fsync on every write, so
a restart (:meth:`RedisServer.restart`) shows what a deployment with persistence keeps.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.procs import free_port, wait_for_port


class RedisUnavailable(RuntimeError):
    """No redis-server binary on this machine."""


class RedisServer:
    """One redis-server process we started (stopped by its own handle, never by name)."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable(
                "redis-server is not installed: `apt-get install redis-server` (CI's .ci/run does this)"
            )
        self.binary = binary
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=15, process=self.process)

    def stop(self) -> None:
        """SIGTERM: redis flushes its append-only file and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
