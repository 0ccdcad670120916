"""Helpers for the peer-client tests: where the peers live and how a driver subprocess runs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio

DRIVERS = Path(__file__).parent / "drivers"
#: Directory name under $AEOPP_PEERS_DIR, and the module that proves the package is there.
PACKAGES = {"pypardot4": "pypardot", "pypardotsf": "pypardot", "tap-pardot": "tap_pardot"}


def peers_root() -> Path | None:
    """``$AEOPP_PEERS_DIR`` as a path, or None when unset."""
    value = os.environ.get("AEOPP_PEERS_DIR", "")
    return Path(value) if value else None


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced (driver stderr may echo a URL carrying a token)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


async def run_driver(script: str, target: Path, job: dict[str, Any]) -> tuple[int, str, str]:
    """Run ``drivers/<script>`` for the peer in ``target`` with ``job`` as JSON on stdin.

    The environment is minimal on purpose: no proxy variables (requests would honour them), no
    PYTHONPATH but the peer's. Returns (exit code, stdout, stderr).
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(target),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "LC_ALL": "C.UTF-8",
    }
    with anyio.fail_after(90):
        done = await anyio.run_process(
            [sys.executable, "-S", str(DRIVERS / script)],
            input=json.dumps(job).encode(),
            env=env,
            check=False,
        )
    return done.returncode, done.stdout.decode(), done.stderr.decode()
