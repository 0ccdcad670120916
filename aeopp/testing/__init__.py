"""aeopp.testing: a faithful simulator of the Pardot v3/v4 Opportunity API for tests, demos and benchmarks.

``PardotSimulator`` serves seeded data over real HTTP on 127.0.0.1; the pytest plugin gives a
``pardot_simulator`` fixture and ``aeopp simulate`` runs one from the command line. It is written
independently of the client: it imports none of the client's modules and shares only the plain
constants of ``aeopp._constants``, so a bug cannot hide on both sides. ``sim.credentials`` is a plain
value (a :class:`SimulatorCredentials`); build a client's auth from it with
``aeopp.BearerAuth(creds.access_token, creds.business_unit_id)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._process import SimulatorProcess
    from ._simulator import PardotSimulator
    from ._state import Fault, SimulatorCredentials, SimulatorSettings, SimulatorStats
    from ._store import Activity, Campaign, OpportunityStore, Prospect, StoredOpportunity

__all__ = [
    "Activity",
    "Campaign",
    "Fault",
    "OpportunityStore",
    "PardotSimulator",
    "Prospect",
    "SimulatorCredentials",
    "SimulatorProcess",
    "SimulatorSettings",
    "SimulatorStats",
    "StoredOpportunity",
]

#: Where each public name is defined (loaded on first use: the pytest plugin imports this package
#: in every pytest run of a project that has aeopp installed, and must cost nothing there).
_WHERE = {
    "Activity": "_store",
    "Campaign": "_store",
    "Fault": "_state",
    "OpportunityStore": "_store",
    "PardotSimulator": "_simulator",
    "Prospect": "_store",
    "SimulatorCredentials": "_state",
    "SimulatorProcess": "_process",
    "SimulatorSettings": "_state",
    "SimulatorStats": "_state",
    "StoredOpportunity": "_store",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'aeopp.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
