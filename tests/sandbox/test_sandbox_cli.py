"""``python -m sandbox``: a real process serving on 127.0.0.1, printing the demo token."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx2

from bench.procs import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_sandbox_serves_the_seeded_world_on_loopback() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--admin"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert f"http://127.0.0.1:{port}" in banner
        token = banner.rsplit(" ", 1)[-1].strip()
        assert token.startswith("u-")
        deadline = time.monotonic() + 20
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as http:
            while True:
                try:
                    response = http.post(
                        "/open-apis/calendar/v4/calendars/primary", headers={"Authorization": f"Bearer {token}"}
                    )
                    break
                except httpx2.TransportError:
                    assert time.monotonic() < deadline, "the sandbox did not start"
                    time.sleep(0.1)
            assert response.json()["code"] == 0
            assert http.get("/_sandbox/log").json()["ok"] is True  # --admin turned the admin routes on
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
