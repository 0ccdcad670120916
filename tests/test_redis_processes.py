"""Real OS processes (tests/shared_walker.py) walking one simulated business unit that answers 66
past five requests in flight, sharing limits through Redis. The simulator runs in this process: its
stats (highest in-flight count, answers by code) are the truth."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from redis_servers import RedisServer
from shared_walker import Walkers

from aeopp._redis_scripts import UnitKeys
from aeopp.testing import PardotSimulator

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

redis = pytest.importorskip("redis")


@pytest.fixture
async def sim() -> AsyncIterator[PardotSimulator]:
    async with PardotSimulator(opportunities=1000, seed=7, latency=0.02) as simulator:
        simulator.warm(("json",))
        yield simulator


def configs(sim: PardotSimulator, n: int, redis_url: str | None, **options: Any) -> list[dict[str, Any]]:
    creds = sim.credentials
    base = {
        "base_url": sim.base_url,
        "business_unit_id": creds.business_unit_id,
        "access_token": creds.access_token,
        "redis_url": redis_url,
        "key_prefix": f"aeopp-test-{uuid.uuid4().hex[:12]}",
        **options,
    }
    return [dict(base) for _ in range(n)]


def exactly_once(sim: PardotSimulator, result: dict[str, Any] | None) -> None:
    assert result is not None
    assert "error" not in result, result["error"]
    assert result["ids"] == sim.store.ids()


@pytest.mark.parametrize("processes", [4, 8])
async def test_processes_share_five_slots(sim: PardotSimulator, redis_url: str, processes: int) -> None:
    async with Walkers(configs(sim, processes, redis_url)) as walkers:
        await walkers.go()
        results = await walkers.results()
    for result in results:
        exactly_once(sim, result)
    assert sim.stats.max_in_flight <= 5
    assert sim.stats.errors_by_code[66] == 0
    longest = max(r["coordinator"]["longest_wait"] for r in results if r)
    assert longest < 2.0


async def test_a_process_killed_holding_slots_gives_them_back_within_the_lease(
    sim: PardotSimulator, redis_url: str
) -> None:
    """The victim holds all five slots when it is SIGKILLed; the others, started then, wait for its
    leases to run out and finish within the lease plus their own work."""
    lease = 2.0
    sim.settings.latency = 0.5
    all_configs = configs(sim, 4, redis_url, lease_seconds=lease)
    k = UnitKeys(all_configs[0]["key_prefix"], sim.credentials.business_unit_id)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        async with Walkers(all_configs) as walkers:
            victim = walkers.ready[0]["holder_prefix"] + ":"

            def victim_holds() -> int:
                """The victim's live leases (an expired one is only removed by the next script)."""
                seconds, micros = r.time()
                live = r.zrangebyscore(k.slots, seconds * 1000 + micros // 1000, "+inf")
                return sum(1 for holder in live if holder.startswith(victim))

            await walkers.go([0])
            with anyio.fail_after(10):
                while victim_holds() < 5:  # noqa: ASYNC110  (its first page, then the fan-out)
                    await anyio.sleep(0.01)
            walkers.kill(0)
            killed = time.monotonic()
            sim.settings.latency = 0.02
            await walkers.go([1, 2, 3])
            results = await walkers.results(skip=frozenset({0}))
            finished = time.monotonic() - killed
    finally:
        r.close()
    for result in results[1:]:
        exactly_once(sim, result)
    longest = max(result["coordinator"]["longest_wait"] for result in results[1:] if result)
    assert longest > lease / 2  # they did wait for the dead process's slots
    assert finished < lease + 2.0  # (their own work, at 20 ms a page: well under a second)
    assert sim.stats.max_in_flight <= 5
    assert sim.stats.errors_by_code[66] == 0


async def test_a_redis_restart_mid_walk_loses_and_duplicates_nothing(
    sim: PardotSimulator, redis_server: Callable[..., RedisServer]
) -> None:
    server = redis_server()
    sim.settings.latency = 0.05
    async with Walkers(configs(sim, 4, server.url, redis_timeout=0.5, lease_seconds=3.0)) as walkers:
        await walkers.go()
        await anyio.sleep(0.15)
        server.stop(kill=True)
        await anyio.sleep(0.6)
        server.start()
        results = await walkers.results(timeout=60)
    for result in results:
        exactly_once(sim, result)
    assert sum(r["coordinator"]["outages"] for r in results if r) >= 1


async def test_expiring_tokens_are_renewed_once_for_every_process(redis_url: str) -> None:
    """A token lives for 25 requests (five waves of five); 4 processes walk 20 pages each with an
    OAuth provider. (Shorter lives make every in-flight request at each expiry fail with 184, up to a
    third of them, and a call gives up after three renewals in a row.)"""
    async with PardotSimulator(opportunities=4000, seed=7, latency=0.02) as sim:
        creds = sim.credentials
        sim.settings.token_expires_after_requests = 25
        oauth = {
            "token_url": creds.token_url,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        }
        async with Walkers(configs(sim, 4, redis_url, oauth=oauth)) as walkers:
            await walkers.go()
            results = await walkers.results()
        for result in results:
            exactly_once(sim, result)
        provider_calls = sim.stats.requests_by_operation["token"]
        answered = sim.stats.requests - provider_calls - sim.stats.errors_by_code[184]
    expiries = math.ceil(answered / 25)
    assert provider_calls == sum(r["renewals"] for r in results if r)
    assert provider_calls <= expiries + 2, (provider_calls, expiries)


async def test_122_in_one_process_stops_them_all(sim: PardotSimulator, redis_url: str) -> None:
    sim.settings.daily_quota = 12
    async with Walkers(configs(sim, 4, redis_url, max_concurrency=2)) as walkers:
        await walkers.go()
        results = await walkers.results()
    errors = [r["error"] for r in results if r]
    assert len(errors) == 4
    assert all(e["type"] == "DailyLimitExceeded" and e["code"] == 122 for e in errors)
    recorded = [e for e in errors if e["http_status"] is None]
    assert recorded
    assert all("another process" in e["message"] for e in recorded)
    assert all(e["cursor"] for r, e in zip(results, errors, strict=True) if r and r["count"])
    assert sim.stats.errors_by_code[122] <= 5 + 4  # those already in line when it was recorded
