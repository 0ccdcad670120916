"""Simulator limits and faults: concurrency 66, daily quota 122, versions 88/89, connector 37/59,
scripted and random faults, latency, stats."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from aeopp.testing import PardotSimulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(
    sim: PardotSimulator,
    session: aiohttp.ClientSession,
    op: str = "query",
    suffix: str = "",
    method: str = "GET",
    version: int = 4,
    **params: str,
) -> tuple[int, str, str]:
    c = sim.credentials
    headers = {"Authorization": f"Bearer {c.access_token}", "Pardot-Business-Unit-Id": c.business_unit_id}
    url = f"{sim.base_url}/api/opportunity/version/{version}/do/{op}{suffix}"
    async with session.request(
        method, url, params={"format": "json", "limit": "1", **params}, headers=headers
    ) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


def code(text: str) -> int | None:
    body = json.loads(text)
    if body["@attributes"]["stat"] == "ok":
        return None
    result: int = body["@attributes"]["err_code"]
    return result


@pytest.mark.pardot_simulator(latency=0.2)
async def test_sixth_concurrent_request_gets_66(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    started = time.perf_counter()
    results = await asyncio.gather(*(call(sim, session) for _ in range(6)))
    codes = Counter(code(text) for _, _, text in results)
    assert codes == {None: 5, 66: 1}
    assert sim.stats.max_in_flight == 6
    assert sim.stats.errors_by_code == {66: 1}
    assert time.perf_counter() - started < 1.0
    sim.stats.reset()
    sim.settings.concurrency_limit = None
    results = await asyncio.gather(*(call(sim, session) for _ in range(6)))
    assert all(code(text) is None for _, _, text in results)
    assert sim.stats.max_in_flight == 6
    assert sim.stats.in_flight == 0


@pytest.mark.pardot_simulator(latency=0.1)
async def test_latency_is_async(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    sim.settings.concurrency_limit = None
    started = time.perf_counter()
    results = await asyncio.gather(*(call(sim, session) for _ in range(10)))
    elapsed = time.perf_counter() - started
    assert all(code(text) is None for _, _, text in results)
    assert 0.1 <= elapsed < 0.5
    sim.settings.jitter = 0.05
    started = time.perf_counter()
    await call(sim, session)
    assert 0.1 <= time.perf_counter() - started < 0.4


async def test_daily_quota(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    now = [datetime(2025, 5, 1, 12, tzinfo=timezone.utc)]
    sim.settings.clock = lambda: now[0]
    sim.settings.daily_quota = 3
    codes = [code((await call(sim, session))[2]) for _ in range(5)]
    assert codes == [None, None, None, 122, 122]
    now[0] += timedelta(hours=11)  # 2025-05-01 19:00 in New York: same day
    assert code((await call(sim, session))[2]) == 122
    now[0] += timedelta(hours=6)  # 01:00 the next day in New York
    assert code((await call(sim, session))[2]) is None
    sim.settings.daily_quota = None
    assert code((await call(sim, session))[2]) is None


async def test_required_version(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    sim.settings.required_version = 4
    assert code((await call(sim, session, version=3))[2]) == 88
    assert code((await call(sim, session, version=4))[2]) is None
    sim.settings.required_version = 3
    assert code((await call(sim, session, version=4))[2]) == 89
    assert code((await call(sim, session, version=3))[2]) is None


@pytest.mark.parametrize("connector", [37, 59])
async def test_connector_locks_writes(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession, connector: int
) -> None:
    sim = pardot_simulator
    sim.settings.connector = connector
    assert code((await call(sim, session, "read", "/id/1234"))[2]) is None
    assert code((await call(sim, session))[2]) is None
    for op in ("create", "update", "delete", "undelete"):
        assert code((await call(sim, session, op, "/id/1234", "POST", name="x"))[2]) == connector
    assert sim.store.get(1234).name != "x"
    assert not sim.store.get(1234).deleted


async def test_injected_codes_per_operation(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    sim.inject(code=66, times=2, operation="query")
    assert code((await call(sim, session, "read", "/id/1234"))[2]) is None
    codes = [code((await call(sim, session))[2]) for _ in range(3)]
    assert codes == [66, 66, None]
    sim.inject(code=183)
    sim.inject(code=184)
    status, _, text = await call(sim, session)
    assert code(text) == 183
    status, _, text = await call(sim, session)
    assert (status, code(text)) == (401, 184)
    assert sim.stats.errors_by_code == {66: 2, 183: 1, 184: 1}
    with pytest.raises(ValueError, match="at most one"):
        sim.inject(code=66, drop="before")


async def test_injected_http_error_is_html(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    sim.inject(http_status=503)
    status, ctype, text = await call(sim, session)
    assert status == 503
    assert ctype.startswith("text/html")
    assert "<html>" in text
    assert code((await call(sim, session))[2]) is None
    assert sim.stats.http_errors_by_status == {503: 1}


async def test_drop_before_and_after(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    sim.inject(drop="before", operation="update")
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(sim, session, "update", "/id/1234", "POST", name="before")
    assert sim.store.get(1234).name != "before"
    sim.inject(drop="after", operation="update")
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(sim, session, "update", "/id/1234", "POST", name="after")
    assert sim.store.get(1234).name == "after"
    sim.inject(drop="after", operation="delete")
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(sim, session, "delete", "/id/1234", "POST")
    assert sim.store.get(1234).deleted
    assert sim.stats.dropped == 3
    assert sim.stats.in_flight == 0
    assert code((await call(sim, session))[2]) is None  # the server is still fine


async def _fault_run(rates: dict[str, float], n: int = 60) -> list[Any]:
    async with PardotSimulator(20) as sim, aiohttp.ClientSession() as session:
        for key, value in rates.items():
            setattr(sim.settings, key, value)
        sim.settings.fault_seed = 42
        out: list[Any] = []
        for _ in range(n):
            try:  # POST: aiohttp silently retries a GET whose kept-alive connection drops
                status, ctype, text = await call(sim, session, method="POST")
            except aiohttp.ClientConnectionError:
                out.append("dropped")
                continue
            out.append(status if ctype.startswith("text/html") else code(text))
        return out


async def test_random_faults_are_seeded_and_proportionate() -> None:
    rates = {"busy_rate": 0.2, "internal_error_rate": 0.2, "http_error_rate": 0.2, "drop_before_rate": 0.1}
    first = await _fault_run(rates)
    assert first == await _fault_run(rates)
    counts = Counter(first)
    assert counts[66] > 3
    assert counts[183] > 3
    assert counts[502] + counts[503] > 3
    assert counts["dropped"] > 0
    assert counts[None] > 10
    assert await _fault_run({}, 10) == [None] * 10


async def test_drop_after_rate_applies_writes(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    sim.settings.drop_after_rate = 1.0
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(sim, session, "update", "/id/1234", "POST", name="applied")
    assert sim.store.get(1234).name == "applied"


async def test_stats(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    await call(sim, session)
    await call(sim, session, "read", "/id/1234")
    await call(sim, session, "read", "/id/1")
    assert sim.stats.requests == 3
    assert sim.stats.requests_by_operation == {"query": 1, "read": 2}
    assert sim.stats.errors_by_code == {35: 1}
    assert sim.stats.max_in_flight == 1
    sim.stats.reset()
    assert sim.stats.requests == 0
    assert not sim.stats.requests_by_operation
    assert not sim.stats.errors_by_code


async def test_before_request_hook_changes_store(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    seen: list[str] = []

    def hook(operation: str, params: Any) -> None:
        seen.append(operation)
        if len(seen) == 2:
            sim.store.delete(1234)

    sim.before_request = hook
    assert code((await call(sim, session, "read", "/id/1234"))[2]) is None
    assert code((await call(sim, session, "read", "/id/1234"))[2]) == 35
    assert seen == ["read", "read"]
