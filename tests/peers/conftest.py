"""Peer clients (PyPardot4, PyPardotSF, tap-pardot) run against the simulator: shared fixtures.

The peers live outside our virtualenv, each in its own ``pip install --target`` directory under
``$AEOPP_PEERS_DIR`` (``scripts/fidelity.sh`` makes them). Without that variable, or without a
package's directory, the tests skip. Each peer runs in a subprocess with ``python -S`` and
``PYTHONPATH=<its directory>``, so the three ``pypardot`` modules and their old dependencies never
meet each other or our venv.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from peerlib import PACKAGES, peers_root

_report: list[str] = []


@pytest.fixture
def peer_target(request: pytest.FixtureRequest) -> Path:
    """The target directory of the package named by the indirect ``peer_target`` parameter (or skip)."""
    name: str = request.param
    root = peers_root()
    if root is None:
        pytest.skip("AEOPP_PEERS_DIR is not set (run scripts/fidelity.sh)")
    target = root / name
    if not (target / PACKAGES[name]).is_dir():
        pytest.skip(f"{name} is not installed under {root} (run scripts/fidelity.sh)")
    return target


@pytest.fixture
def peer_report() -> list[str]:
    """Lines appended here are printed in the terminal summary (peer counts per scenario)."""
    return _report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _report:
        terminalreporter.section("peer clients against the simulator")
        for line in _report:
            terminalreporter.write_line(line)
