"""Query semantics of the simulator against a straightforward Python filter of ``sim.store``."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeopp._constants import ERROR_MESSAGES
from aeopp.testing import PardotSimulator, StoredOpportunity

pytestmark = pytest.mark.anyio

UTC = timezone.utc
DEFAULT_ORDER = {
    "created_at": "descending",
    "id": "ascending",
    "probability": "descending",
    "value": "descending",
}


async def query(sim: PardotSimulator, session: aiohttp.ClientSession, version: int = 4, **params: str) -> Any:
    c = sim.credentials
    headers = {"Authorization": f"Bearer {c.access_token}", "Pardot-Business-Unit-Id": c.business_unit_id}
    async with session.get(
        f"{sim.base_url}/api/opportunity/version/{version}/do/query",
        params={"format": "json", **params},
        headers=headers,
    ) as r:
        return json.loads(await r.text())


def records(body: Any) -> list[dict[str, Any]]:
    assert body["@attributes"]["stat"] == "ok", body
    found = body["result"].get("opportunity", []) if body["result"] else []
    return found if isinstance(found, list) else [found]


def code(body: Any) -> int:
    assert body["@attributes"]["stat"] == "fail", body
    assert body["err"] == ERROR_MESSAGES[body["@attributes"]["err_code"]]
    result: int = body["@attributes"]["err_code"]
    return result


def expected(
    sim: PardotSimulator,
    keep: Callable[[StoredOpportunity], bool] = lambda r: True,
    sort_by: str = "id",
    sort_order: str | None = None,
) -> list[int]:
    """The reference answer: filter, then sort with ties broken by ascending id."""
    rows = [r for r in sim.store.all() if keep(r)]
    order = sort_order or DEFAULT_ORDER[sort_by]
    rows.sort(key=lambda r: r.id)
    # sort() with reverse=True is still stable: ties keep ascending id
    rows.sort(key=lambda r: getattr(r, sort_by), reverse=order == "descending")
    return [r.id for r in rows]


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


# -- sorting -----------------------------------------------------------------------------------------


@pytest.mark.pardot_simulator(opportunities=600)
@pytest.mark.parametrize("sort_by", ["created_at", "id", "probability", "value"])
@pytest.mark.parametrize("sort_order", [None, "ascending", "descending"])
async def test_sort_orders_and_tie_break(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession, sort_by: str, sort_order: str | None
) -> None:
    sim = pardot_simulator
    params = {"sort_by": sort_by, **({"sort_order": sort_order} if sort_order else {})}
    got: list[int] = []
    for offset in range(0, 600, 200):
        got += [r["id"] for r in records(await query(sim, session, offset=str(offset), **params))]
    assert got == expected(sim, sort_by=sort_by, sort_order=sort_order)


async def test_data_has_ties_so_tie_break_matters(pardot_simulator: PardotSimulator) -> None:
    counts = Counter(r.created_at for r in pardot_simulator.store)
    assert max(counts.values()) >= 2


async def test_default_sort_is_id_ascending(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    got = [r["id"] for r in records(await query(pardot_simulator, session))]
    assert got == sorted(pardot_simulator.store.ids())
    got = [r["id"] for r in records(await query(pardot_simulator, session, sort_order="descending"))]
    assert got == sorted(pardot_simulator.store.ids(), reverse=True)


# -- filters -----------------------------------------------------------------------------------------


@pytest.mark.pardot_simulator(opportunities=400)
async def test_each_filter_is_strict(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    r0 = sim.store.get(1234)
    tz = ZoneInfo(sim.settings.timezone)
    local = r0.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    cases: list[tuple[dict[str, str], Callable[[StoredOpportunity], bool]]] = [
        ({"id_greater_than": "1234"}, lambda r: r.id > 1234),
        ({"id_less_than": "1234"}, lambda r: r.id < 1234),
        ({"probability_greater_than": str(r0.probability)}, lambda r: r.probability > r0.probability),
        ({"probability_less_than": str(r0.probability)}, lambda r: r.probability < r0.probability),
        ({"probability_greater_than": "0"}, lambda r: r.probability > 0),
        ({"probability_less_than": "100"}, lambda r: r.probability < 100),
        ({"value_greater_than": str(r0.value)}, lambda r: r.value > r0.value),
        ({"value_less_than": str(r0.value)}, lambda r: r.value < r0.value),
        ({"created_after": local}, lambda r: r.created_at > r0.created_at),
        ({"created_before": local}, lambda r: r.created_at < r0.created_at),
        (
            {"created_after": local, "created_before": "2025-01-01", "value_greater_than": "1000"},
            lambda r: r0.created_at < r.created_at < datetime(2025, 1, 1, tzinfo=tz) and r.value > 1000,
        ),
    ]
    for params, keep in cases:
        body = await query(sim, session, output="mobile", **params)
        want = expected(sim, keep)
        assert [r["id"] for r in records(body)] == want, params
        assert body["result"]["total_results"] == len(want)
    assert any(r.probability == 0 for r in sim.store)
    assert any(r.probability == 100 for r in sim.store)


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "id_greater_than": st.integers(990, 1300),
        "id_less_than": st.integers(990, 1300),
        "probability_greater_than": st.integers(0, 100),
        "probability_less_than": st.integers(0, 100),
        "value_greater_than": st.integers(0, 50_000),
        "value_less_than": st.integers(0, 50_000),
        "created_after": st.datetimes(datetime(2018, 6, 1), datetime(2026, 6, 1)),
        "created_before": st.datetimes(datetime(2018, 6, 1), datetime(2026, 6, 1)),
        "sort_by": st.sampled_from(["created_at", "id", "probability", "value"]),
        "sort_order": st.sampled_from(["ascending", "descending"]),
        "limit": st.integers(1, 200),
        "offset": st.integers(0, 150),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=FILTERS)
def test_query_matches_reference_filter(params: dict[str, Any]) -> None:
    asyncio.run(_check_query(params))


async def _check_query(params: dict[str, Any]) -> None:
    async with PardotSimulator(150, seed=7, timezone="Europe/Berlin") as sim, aiohttp.ClientSession() as s:
        tz = ZoneInfo("Europe/Berlin")
        wire = {
            k: v.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else str(v)
            for k, v in params.items()
        }
        body = await query(sim, s, **wire)
        lo = {k: v for k, v in params.items()}
        inverted = any(
            f"{f}_greater_than" in lo
            and f"{f}_less_than" in lo
            and lo[f"{f}_greater_than"] > lo[f"{f}_less_than"]
            for f in ("id", "probability", "value")
        )
        after = lo["created_after"].replace(microsecond=0, tzinfo=tz) if "created_after" in lo else None
        before = lo["created_before"].replace(microsecond=0, tzinfo=tz) if "created_before" in lo else None
        if inverted:
            assert code(body) in (17, 41, 43)
            return
        if after is not None and before is not None and after > before:
            assert code(body) == 8
            return

        def keep(r: StoredOpportunity) -> bool:
            return (
                r.id > lo.get("id_greater_than", -1)
                and r.id < lo.get("id_less_than", 10**12)
                and r.probability > lo.get("probability_greater_than", -1)
                and r.probability < lo.get("probability_less_than", 101)
                and r.value > Decimal(lo.get("value_greater_than", -1))
                and r.value < Decimal(lo.get("value_less_than", 10**12))
                and (after is None or r.created_at > after)
                and (before is None or r.created_at < before)
            )

        want = expected(sim, keep, lo.get("sort_by", "id"), lo.get("sort_order"))
        offset, limit = lo.get("offset", 0), lo.get("limit", 200)
        assert [r["id"] for r in records(body)] == want[offset : offset + limit]
        assert body["result"]["total_results"] == len(want)


async def test_prospect_filters_v3_v4(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    store = sim.store
    jdoes = store.prospects_by_email("jdoe@company.com")
    assert len(jdoes) == 2
    for p in jdoes:
        store.create(name=f"for {p.id}", value=1, probability=1, prospect_id=p.id)
    ids = {p.id for p in jdoes}
    v4 = records(await query(sim, session, prospect_email="jdoe@company.com"))
    assert [r["id"] for r in v4] == expected(sim, lambda r: bool(ids & set(r.prospect_ids)))
    v3 = records(await query(sim, session, version=3, prospect_email="JDoe@Company.com"))
    assert [r["id"] for r in v3] == expected(sim, lambda r: jdoes[0].id in r.prospect_ids)
    by_id = records(await query(sim, session, prospect_id=str(jdoes[1].id)))
    assert [r["id"] for r in by_id] == expected(sim, lambda r: jdoes[1].id in r.prospect_ids)
    both = records(await query(sim, session, prospect_id=str(jdoes[1].id), prospect_email="jdoe@company.com"))
    assert [r["id"] for r in both] == [r["id"] for r in by_id]
    other = next(p for p in store.prospects.values() if p.id not in ids)
    assert code(await query(sim, session, prospect_id=str(other.id), prospect_email="jdoe@company.com")) == 44
    assert code(await query(sim, session, prospect_id="999999")) == 3
    assert code(await query(sim, session, prospect_id="x")) == 3
    assert code(await query(sim, session, prospect_email="ghost@company.com")) == 4


async def test_deleted_are_hidden(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    sim.store.delete(1234)
    body = await query(sim, session)
    assert 1234 not in [r["id"] for r in records(body)]
    assert body["result"]["total_results"] == 99


# -- date keywords and formats ------------------------------------------------------------------------


@pytest.mark.pardot_simulator(opportunities=0, timezone="Asia/Tokyo")
async def test_date_keywords_with_fixed_clock(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    tz = ZoneInfo("Asia/Tokyo")
    now = datetime(2024, 3, 10, 1, 30, tzinfo=tz)  # 2024-03-09 16:30 UTC: the UTC date differs
    sim.settings.clock = lambda: now
    pid = sim.store.add_prospect(email="kw@example.com").id
    marks = {
        "today": datetime(2024, 3, 10, tzinfo=tz),
        "yesterday": datetime(2024, 3, 9, tzinfo=tz),
        "last_7_days": now - timedelta(days=7),
        "this_month": datetime(2024, 3, 1, tzinfo=tz),
        "last_month": datetime(2024, 2, 1, tzinfo=tz),
    }
    for mark in marks.values():
        for delta in (-1, 0, 1):
            sim.store.create(
                name="k", value=1, probability=1, prospect_id=pid, created_at=mark + timedelta(seconds=delta)
            )
    for keyword, mark in marks.items():
        after = records(await query(sim, session, created_after=keyword, output="mobile"))
        assert [r["id"] for r in after] == expected(sim, lambda r, m=mark: r.created_at > m), keyword
        before = records(await query(sim, session, created_before=keyword, output="mobile"))
        assert [r["id"] for r in before] == expected(sim, lambda r, m=mark: r.created_at < m), keyword
    # the boundary record (exactly at the mark) is in neither
    assert len(records(await query(sim, session, created_after="today", created_before="today"))) == 0


@pytest.mark.pardot_simulator(opportunities=0, timezone="America/Los_Angeles")
async def test_custom_time_forms(pardot_simulator: PardotSimulator, session: aiohttp.ClientSession) -> None:
    sim = pardot_simulator
    pid = sim.store.add_prospect(email="t@example.com").id
    at = datetime(2024, 7, 4, 19, 0, 0, tzinfo=UTC)  # 12:00 in Los Angeles (PDT)
    rec = sim.store.create(name="t", value=1, probability=1, prospect_id=pid, created_at=at)
    for text, included in (
        ("2024-07-04", True),
        ("2024-07-04 11:59", True),
        ("2024-07-04 11:59:59", True),
        ("2024-07-04T11:59:59", True),
        ("2024-07-04 12:00:00", False),
        ("2024-07-04T18:59:59Z", True),
        ("2024-07-04T19:00:00+00:00", False),
        ("2024-07-04T20:59:59+0200", True),
        ("2024-07-04T21:00:00+02", False),
        ("2024-07-04 18:59:59 UTC", True),
    ):
        got = [r["id"] for r in records(await query(sim, session, created_after=text))]
        assert got == ([rec.id] if included else []), text
    for bad in ("2024-13-01", "2019-12-31 24:59:59", "yesterdayish", "04/07/2024", "2024-07-04 1"):
        assert code(await query(sim, session, created_after=bad)) == 7, bad


# -- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected_code"),
    [
        ({"limit": "0"}, 23),
        ({"limit": "201"}, 23),
        ({"limit": "abc"}, 23),
        ({"limit": "1.5"}, 23),
        ({"offset": "-1"}, 21),
        ({"offset": "x"}, 21),
        ({"sort_by": "updated_at"}, 19),
        ({"sort_order": "up"}, 20),
        ({"id_greater_than": "10", "id_less_than": "5"}, 17),
        ({"id_greater_than": "ten"}, 16),
        ({"probability_greater_than": "60", "probability_less_than": "50"}, 41),
        ({"probability_greater_than": "101"}, 41),
        ({"probability_less_than": "x"}, 41),
        ({"value_greater_than": "10", "value_less_than": "5"}, 43),
        ({"value_less_than": "lots"}, 43),
        ({"created_after": "2024-02-01", "created_before": "2024-01-01"}, 8),
        ({"created_before": "never"}, 7),
        ({"bogus": "1"}, 5),
        ({"bogus": "1", "other": "2"}, 5),
    ],
)
async def test_query_errors(
    pardot_simulator: PardotSimulator,
    session: aiohttp.ClientSession,
    params: dict[str, str],
    expected_code: int,
) -> None:
    assert code(await query(pardot_simulator, session, **params)) == expected_code


async def test_unknown_parameter_among_known_ones_is_ignored(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    body = await query(pardot_simulator, session, bogus="1", id_greater_than="1234")
    assert [r["id"] for r in records(body)] == expected(pardot_simulator, lambda r: r.id > 1234)
    body = await query(pardot_simulator, session, limit="5", offset="0", sort_by="id")
    assert len(records(body)) == 5


@pytest.mark.pardot_simulator(opportunities=1000)
async def test_offset_walk_and_keyset_walk(
    pardot_simulator: PardotSimulator, session: aiohttp.ClientSession
) -> None:
    sim = pardot_simulator
    seen: list[int] = []
    offset = 0
    while True:
        page = records(await query(sim, session, offset=str(offset), sort_by="id", sort_order="ascending"))
        seen += [r["id"] for r in page]
        offset += 200
        if len(page) < 200:
            break
    assert seen == sim.store.ids()
    keyset: list[int] = []
    last = 0
    while True:
        page = records(await query(sim, session, id_greater_than=str(last), sort_by="id", output="bulk"))
        keyset += [r["id"] for r in page]
        if len(page) < 200:
            break
        last = page[-1]["id"]
    assert keyset == sim.store.ids()
