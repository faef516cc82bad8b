"""An in-memory stand-in for the OS keyring (the ``keyring`` package is not installed in tests).

Thread-safe, like a real keyring daemon; ``pause`` makes each call take a moment, as a D-Bus
round trip does, which is what lets a reader's calls interleave with a writer's in race tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class FakeKeyring:
    pause: float = 0.0
    entries: dict[tuple[str, str], str] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def get_password(self, service_name: str, username: str) -> str | None:
        self._wait()
        with self._guard:
            return self.entries.get((service_name, username))

    def set_password(self, service_name: str, username: str, password: str) -> None:
        self._wait()
        with self._guard:
            self.entries[(service_name, username)] = password

    def delete_password(self, service_name: str, username: str) -> None:
        self._wait()
        with self._guard:
            self.entries.pop((service_name, username), None)

    def _wait(self) -> None:
        if self.pause:
            time.sleep(self.pause)
