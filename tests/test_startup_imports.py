"""`serve` with a set token starts without the OAuth stack, the sandbox or dateutil (start-up cost)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, sys
import server.stdio
async def _built(server, **_): pass
server.stdio.run_stdio = _built  # build the server, do not serve
from server.cli import main
main(["serve"])
heavy = ("authlib", "auth", "sandbox", "dateutil", "server.tokens", "server.login_cli")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
"""


def test_serve_with_a_token_imports_only_what_it_needs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")}
    env |= {"FEISHU_USER_ACCESS_TOKEN": "u-test", "FEISHU_TIMEZONE": "Asia/Shanghai", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout.splitlines()[-1]) == []
