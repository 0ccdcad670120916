"""Seeded data, the store API and the pytest fixture of the simulator."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from aeopp.testing import PardotSimulator
from aeopp.testing._data import generate
from aeopp.testing._store import OpportunityStore

pytest_plugins = ["pytester"]

UTC = timezone.utc


def test_same_seed_same_data() -> None:
    assert generate(300, 5) == generate(300, 5)
    assert generate(300, 5)[0] != generate(300, 6)[0]


@pytest.mark.parametrize("n", [1, 2, 5, 233, 2000])
def test_example_id_1234_always_present(n: int) -> None:
    records, _, _ = generate(n, 3)
    ids = [r.id for r in records]
    assert len(ids) == n
    assert 1234 in ids
    assert ids == sorted(set(ids))


def test_data_covers_the_quirks() -> None:
    records, prospects, campaigns = generate(2000, 0)
    ids = [r.id for r in records]
    assert any(b - a > 1 for a, b in itertools.pairwise(ids))  # gaps
    assert {0, 100} <= {r.probability for r in records}
    assert all(0 <= r.probability <= 100 for r in records)
    assert {"won", "lost", "open", None} == {r.status for r in records}
    assert any(r.value != r.value.to_integral_value() for r in records)
    assert any(r.value == r.value.to_integral_value() for r in records)
    assert any("&" in r.name for r in records)
    assert any(r.name.isdigit() for r in records)
    assert any(r.stage and "/" in r.stage for r in records)
    assert max(Counter(r.created_at for r in records).values()) >= 2  # exact ties
    years = {r.created_at.year for r in records}
    assert len(years) >= 5
    for r in records:
        assert r.updated_at >= r.created_at
        assert (r.closed_at is not None) == (r.status in ("won", "lost"))
        assert r.activities
        assert r.activities[0].type == 8
    assert {8, 9, 10, 18, 19, 38} == {a.type for r in records for a in r.activities}
    emails = [p.email for p in prospects]
    assert emails.count("jdoe@company.com") == 2
    assert any("+" in e for e in emails)
    assert any("&" in c.name for c in campaigns)


def test_generation_is_fast() -> None:
    started = time.process_time()  # CPU time: other processes on the machine don't count
    records, prospects, campaigns = generate(20_000, 0)
    OpportunityStore(records, prospects, campaigns)
    assert time.process_time() - started < 2.0  # measured 0.3-0.45 s; generous for slow CI machines


def test_store_api() -> None:
    records, prospects, campaigns = generate(50, 1)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    store = OpportunityStore(records, prospects, campaigns, clock=lambda: now)
    assert len(store) == 50
    assert store.ids() == [r.id for r in records]
    pid = prospects[0].id
    new = store.create(name="n", value="1.25", probability=3, prospect_id=pid)
    assert new.id > records[-1].id
    assert new.value == Decimal("1.25")
    assert new.created_at == now
    assert store.get(new.id) is new
    assert len(store) == 51
    view = store.sorted_view("value", True)
    updated = store.update(new.id, value=10**9, status="won")
    assert updated.updated_at == now
    assert updated.activities[-1].type == 9
    assert store.sorted_view("value", True)[0].id == new.id != view[0].id  # the cached view was dropped
    store.delete(new.id)
    assert new.id not in store.ids()
    assert new.id in store.ids(include_deleted=True)
    assert len(store) == 50
    store.undelete(new.id)
    assert len(store) == 51
    p = store.add_prospect(email="New@Example.com")
    assert store.prospects_by_email("new@example.com") == [p]
    c = store.add_campaign("C")
    assert store.campaign(c.id) == c
    with pytest.raises(KeyError):
        store.create(name="x", value=1, probability=1, prospect_id=10**9)
    with pytest.raises(TypeError):
        store.update(new.id, colour="red")


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="auth"):
        PardotSimulator(auth="basic")  # type: ignore[arg-type]
    assert "stopped" in repr(PardotSimulator(3))


@pytest.mark.anyio
async def test_fixture_defaults(pardot_simulator: PardotSimulator) -> None:
    assert len(pardot_simulator.store) == 100
    assert pardot_simulator.settings.latency == 0
    assert pardot_simulator.settings.auth == "bearer"
    assert pardot_simulator.base_url.startswith("http://127.0.0.1:")
    assert (
        pardot_simulator.store.get(1234)
        == generate(100, 0)[0][[r.id for r in generate(100, 0)[0]].index(1234)]
    )


@pytest.mark.anyio
@pytest.mark.pardot_simulator(opportunities=7, seed=2, latency=0.01, auth="apikey", timezone="UTC")
async def test_fixture_marker(pardot_simulator: PardotSimulator) -> None:
    s = pardot_simulator.settings
    assert len(pardot_simulator.store) == 7
    assert (s.latency, s.auth, s.timezone) == (0.01, "apikey", "UTC")
    assert pardot_simulator.store.all() == generate(7, 2)[0]


def test_plugin_in_a_fresh_pytest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""
    )
    pytester.makepyfile(
        """
import aiohttp, pytest

@pytest.mark.anyio
@pytest.mark.pardot_simulator(opportunities=3, seed=1)
async def test_it(pardot_simulator):
    c = pardot_simulator.credentials
    async with aiohttp.ClientSession() as s:
        async with s.get(
            pardot_simulator.base_url + "/api/opportunity/version/4/do/query?format=json",
            headers={
                "Authorization": "Bearer " + c.access_token,
                "Pardot-Business-Unit-Id": c.business_unit_id,
            },
        ) as r:
            assert (await r.json())["result"]["total_results"] == 3
"""
    )
    result = pytester.runpytest("-p", "anyio", "--strict-markers", "-W", "error")
    result.assert_outcomes(passed=1)
    markers = pytester.runpytest("--markers")
    markers.stdout.fnmatch_lines(["*pardot_simulator(**kwargs)*"])
