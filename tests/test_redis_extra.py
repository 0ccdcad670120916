"""RedisCoordinator without the redis extra: importable from aeopp, a clear error when used.

Runs in every test environment, with or without redis installed (no Redis server needed)."""

from __future__ import annotations

import subprocess
import sys


def test_without_the_extra_the_error_names_it() -> None:
    """Runs in both test environments: with redis installed, its import is blocked in a subprocess."""
    code = (
        "import importlib.util, sys\n"
        "if importlib.util.find_spec('redis') is not None:\n"
        "    sys.modules['redis'] = None\n"
        "import aeopp\n"
        "assert 'RedisCoordinator' in aeopp.__all__\n"
        "from aeopp import RedisCoordinator\n"
        "try:\n"
        "    RedisCoordinator('redis://127.0.0.1:6379/0')\n"
        "except aeopp.CoordinatorUnavailable as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'aeopp[redis]'" in out
