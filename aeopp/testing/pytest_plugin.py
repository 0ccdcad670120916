"""pytest plugin (entry point ``pytest11``) giving a ``pardot_simulator`` fixture.

The fixture is async (it runs under anyio's pytest plugin, asyncio backend) and yields a running
:class:`~aeopp.testing.PardotSimulator`: 100 opportunities, seed 0, no latency, bearer auth,
unless the test has a marker such as
``@pytest.mark.pardot_simulator(opportunities=500, seed=3, latency=0.01, auth="apikey")``
(any keyword argument of ``PardotSimulator``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._simulator import PardotSimulator

__all__ = ["pardot_simulator"]

DEFAULTS: dict[str, Any] = {"opportunities": 100, "seed": 0, "latency": 0.0}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pardot_simulator(**kwargs): arguments of the PardotSimulator the pardot_simulator fixture starts "
        "(opportunities, seed, latency, jitter, auth, timezone)",
    )


@pytest.fixture
async def pardot_simulator(request: pytest.FixtureRequest) -> AsyncIterator[PardotSimulator]:
    """A running simulator on 127.0.0.1, closed after the test."""
    from ._simulator import PardotSimulator  # imported here: pytest starts without aiohttp.web

    kwargs = dict(DEFAULTS)
    marker = request.node.get_closest_marker("pardot_simulator")
    if marker is not None:
        if marker.args:
            raise TypeError("pardot_simulator marker takes keyword arguments only")
        kwargs.update(marker.kwargs)
    async with PardotSimulator(**kwargs) as sim:
        yield sim
