"""examples/aiohttp_service.py in-process against the simulator, under many concurrent requests."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web
from redis_servers import free_port

import aeopp
from aeopp.testing import PardotSimulator

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


service = load("aiohttp_service")


@pytest.fixture
async def sim() -> AsyncIterator[PardotSimulator]:
    async with PardotSimulator(opportunities=600, seed=5, latency=0.005) as simulator:
        yield simulator


class Service:
    def __init__(self, sim: PardotSimulator) -> None:
        self.clients: list[aeopp.OpportunityClient] = []

        def factory(coordinator: Any) -> aeopp.OpportunityClient:
            c = sim.credentials
            client = aeopp.OpportunityClient(
                auth=aeopp.BearerAuth(c.access_token, c.business_unit_id), base_url=sim.base_url
            )
            self.clients.append(client)
            return client

        self.app = service.create_app(factory, lambda: None)
        self.runner = web.AppRunner(self.app, handle_signals=False, access_log=None)

    async def __aenter__(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


def expected(sim: PardotSimulator, probability_gt: int) -> list[int]:
    return [r.id for r in sim.store if r.probability > probability_gt]


async def test_many_concurrent_requests(sim: PardotSimulator) -> None:
    svc = Service(sim)
    ids = sim.store.ids()
    rng = random.Random(3)
    answers: dict[int, Any] = {}
    async with svc as url, aiohttp.ClientSession() as session:

        async def fetch(i: int) -> None:
            if i % 5 == 0:
                threshold = rng.choice([10, 50, 90])
                async with session.get(f"{url}/opportunities", params={"probability_gt": threshold}) as r:
                    assert r.status == 200
                    assert r.headers["Content-Type"].startswith("application/x-ndjson")
                    lines = (await r.text()).splitlines()
                    answers[i] = ("list", threshold, [json.loads(line)["id"] for line in lines])
            else:
                oid = rng.choice(ids)
                async with session.get(f"{url}/opportunities/{oid}") as r:
                    assert r.status == 200
                    answers[i] = ("read", oid, await r.json())

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(fetch, i)

        (client,) = svc.clients  # one client for the whole application
    assert len(answers) == 50
    for kind, key, body in answers.values():
        if kind == "list":
            assert body == expected(sim, key)
        else:
            stored = sim.store.get(key)
            assert (body["id"], body["name"], body["value"]) == (key, stored.name, str(stored.value))
    assert sim.stats.max_in_flight <= 5
    assert sim.stats.requests_by_operation["read"] == 40
    # closed at shutdown
    with pytest.raises(aeopp.ClientStateError):
        await client.read(ids[0])


async def test_filters_sort_and_limit(sim: PardotSimulator) -> None:
    async with Service(sim) as url, aiohttp.ClientSession() as session:
        params = {"probability_lt": "30", "sort_by": "value", "sort_order": "ascending", "limit": "25"}
        async with session.get(f"{url}/opportunities", params=params) as r:
            got = [json.loads(line) for line in (await r.text()).splitlines()]
        want = sorted((x for x in sim.store if x.probability < 30), key=lambda x: (x.value, x.id))[:25]
        assert [g["id"] for g in got] == [w.id for w in want]
        async with session.get(f"{url}/opportunities", params={"probability_gt": "100"}) as r:
            assert r.status == 200
            assert await r.text() == ""


async def test_errors(sim: PardotSimulator) -> None:
    async with Service(sim) as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/opportunities/1") as r:
            assert r.status == 404
            assert await r.json() == {"error": "no such opportunity"}
        async with session.get(f"{url}/opportunities/abc") as r:
            assert r.status == 400
        async with session.get(f"{url}/opportunities", params={"probability_gt": "500"}) as r:
            assert r.status == 400
            assert "probability_greater_than" in (await r.json())["error"]
        async with session.get(f"{url}/opportunities", params={"colour": "red"}) as r:
            assert r.status == 400
        sim.inject(code=122, operation="query")
        async with session.get(f"{url}/opportunities") as r:
            assert r.status == 502
            assert (await r.json())["pardot_code"] == 122


@pytest.mark.redis
async def test_several_workers_share_one_business_unit_through_redis(redis_url: str, key_prefix: str) -> None:
    """``--workers 3``: three processes on one port, each with its own client (max_concurrency 5)
    and coordinator on one Redis: together never more than five requests in flight, no code 66."""
    pytest.importorskip("redis", reason="the redis extra is not installed in this environment")
    async with PardotSimulator(opportunities=1000, seed=5, latency=0.02) as sim:
        c = sim.credentials
        port = free_port()
        env = {
            **os.environ,
            "AEOPP_BASE_URL": sim.base_url,
            "AEOPP_ACCESS_TOKEN": c.access_token,
            "AEOPP_BUSINESS_UNIT_ID": c.business_unit_id,
            "AEOPP_REDIS_URL": redis_url,
            "AEOPP_REDIS_PREFIX": key_prefix,
        }
        argv = [sys.executable, str(EXAMPLES / "aiohttp_service.py"), "--workers", "3", "--port", str(port)]
        process = await anyio.open_process(argv, env=env, stdout=None, stderr=None)
        url = f"http://127.0.0.1:{port}"
        workers: set[str] = set()
        try:
            # A new connection per request, so that the kernel spreads them over the workers.
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector) as session:
                with anyio.fail_after(30):  # until every worker has started and answered once
                    while len(workers) < 3:
                        try:
                            async with session.get(f"{url}/opportunities/1") as r:
                                workers.add(r.headers["X-Aeopp-Worker"])
                        except aiohttp.ClientConnectionError:
                            await anyio.sleep(0.1)
                workers.clear()
                answers: list[list[int]] = []

                async def fetch() -> None:
                    async with session.get(f"{url}/opportunities") as r:
                        assert r.status == 200
                        workers.add(r.headers["X-Aeopp-Worker"])
                        answers.append([json.loads(line)["id"] for line in (await r.text()).splitlines()])

                async with anyio.create_task_group() as tg:
                    for _ in range(24):
                        tg.start_soon(fetch)
        finally:
            process.terminate()
            with anyio.fail_after(20):
                await process.wait()
            await process.aclose()
        assert all(ids == sim.store.ids() for ids in answers)
        assert len(workers) >= 2
        assert sim.stats.max_in_flight <= 5
        assert sim.stats.errors_by_code[66] == 0


async def test_a_caller_leaving_mid_stream_stops_the_walk_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with PardotSimulator(opportunities=20_000, seed=5, latency=0.02) as big:
        async with Service(big) as url:
            for _ in range(3):
                async with aiohttp.ClientSession() as http, http.get(url + "/opportunities") as answer:
                    assert answer.status == 200
                    await answer.content.readline()  # one record, then hang up
            await anyio.sleep(0.3)
            sent = big.stats.requests
            await anyio.sleep(0.3)
            assert big.stats.requests == sent  # the walks stopped
            assert big.stats.in_flight == 0
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert errors == []
