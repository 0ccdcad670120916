"""OpportunityClient against the in-process simulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest

import aeopp
from aeopp.testing import PardotSimulator, SimulatorCredentials

pytestmark = pytest.mark.anyio

FAST = aeopp.RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01)


def make_client(sim: PardotSimulator, **kwargs: Any) -> aeopp.OpportunityClient:
    kwargs.setdefault("retry", FAST)
    creds = sim.credentials
    auth = aeopp.BearerAuth(access_token=creds.access_token, business_unit_id=creds.business_unit_id)
    return aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, **kwargs)


@pytest.fixture
async def sim() -> AsyncIterator[PardotSimulator]:
    async with PardotSimulator(opportunities=300, seed=7) as simulator:
        yield simulator


def expected_order(sim: PardotSimulator, sort_by: str, descending: bool) -> list[int]:
    """The order Pardot defines: the field, then id ascending as the tie-break."""
    records = sim.store.all()
    if sort_by == "id":
        return sorted((r.id for r in records), reverse=descending)
    sign = -1 if descending else 1

    def key(r: Any) -> tuple[Any, int]:
        value = getattr(r, sort_by)
        if sort_by == "created_at":
            value = value.timestamp()
        return (sign * value, r.id)

    return [r.id for r in sorted(records, key=key)]


# -- single records ------------------------------------------------------------------------------


@pytest.mark.parametrize("wire_format", ["json", "xml"])
@pytest.mark.parametrize("version", [3, 4])
async def test_crud_round_trip(sim: PardotSimulator, wire_format: str, version: int) -> None:
    stored = sim.store.get(1234)
    async with make_client(sim, wire_format=wire_format, version=version) as client:
        opp = await client.read(1234)
        assert opp.id == 1234
        assert opp.name == stored.name
        assert opp.value == stored.value
        assert opp.probability == stored.probability
        assert {p.id for p in opp.prospects} == set(stored.prospect_ids)
        assert opp.campaign_id == stored.campaign_id or (
            opp.campaign and opp.campaign.id == stored.campaign_id
        )
        assert opp.created_at is not None
        assert opp.created_at.tzinfo is None

        created = await client.create(
            name="Large Customer Opportunity", value=100, probability=70, prospect_email="jdoe@company.com"
        )
        assert created.name == "Large Customer Opportunity"
        assert created.value == Decimal(100)
        assert sim.store.get(created.id).name == "Large Customer Opportunity"

        updated = await client.update(created.id, name="Large Opportunity", stage="Closing", value="250.50")
        assert updated.name == "Large Opportunity"
        assert updated.value == Decimal("250.50")
        assert sim.store.get(created.id).stage == "Closing"
        cleared = await client.update(created.id, stage=None)
        assert cleared.stage is None
        assert sim.store.get(created.id).stage is None

        await client.delete(created.id)
        assert sim.store.get(created.id).deleted
        with pytest.raises(aeopp.OpportunityNotFound) as info:
            await client.read(created.id)
        assert info.value.opportunity_id == created.id
        await client.undelete(created.id)
        assert (await client.read(created.id)).name == "Large Opportunity"


async def test_the_official_examples(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        opp = await client.create(
            name="Large Customer Opportunity", value=100, probability=70, prospect_email="jdoe@company.com"
        )
        assert [p.email for p in opp.prospects] == ["jdoe@company.com"]
        read = await client.read(1234)
        assert read.id == 1234
        by_probability = [
            o.probability async for o in client.query(sort_by="probability", sort_order="ascending")
        ]
        assert by_probability == sorted(by_probability)
        assert len(by_probability) == len(sim.store)
        assert (await client.update(1234, name="Large Opportunity")).name == "Large Opportunity"
        await client.delete(1234)
        assert 1234 not in sim.store.ids()
        await client.undelete(1234)
        assert 1234 in sim.store.ids()


async def test_unknown_prospect_and_mismatch_are_typed(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        with pytest.raises(aeopp.InvalidProspect) as info:
            await client.create(name="x", value=1, probability=1, prospect_email="nobody@nowhere.example")
        assert info.value.code == 4
        with pytest.raises(aeopp.InvalidProspect):
            await client.create(name="x", value=1, probability=1, prospect_id=999_999_999)
        other = next(p for p in sim.store.prospects.values() if p.email != "jdoe@company.com")
        with pytest.raises(aeopp.ProspectMismatch):
            await client.create(
                name="x", value=1, probability=1, prospect_email="jdoe@company.com", prospect_id=other.id
            )


async def test_connector_makes_writes_fail_with_a_typed_error(sim: PardotSimulator) -> None:
    sim.settings.connector = 37
    async with make_client(sim) as client:
        with pytest.raises(aeopp.ConnectorPresent):
            await client.update(1234, name="nope")
        assert (await client.read(1234)).id == 1234


async def test_read_many_keeps_input_order_and_deduplicates(sim: PardotSimulator) -> None:
    ids = sim.store.ids()[:30]
    wanted = [ids[5], ids[1], ids[5], ids[20], ids[1]]
    async with make_client(sim) as client:
        sim.stats.reset()
        got = await client.read_many(iter(wanted))
        assert [o.id for o in got] == wanted
        assert sim.stats.requests_by_operation["read"] == 3
        with pytest.raises(aeopp.OpportunityNotFound) as info:
            await client.read_many([ids[0], 5, ids[2]])
        assert info.value.opportunity_id == 5
        skipped = await client.read_many([ids[0], 5, ids[2]], missing="skip")
        assert [o.id for o in skipped] == [ids[0], ids[2]]


async def test_read_many_stays_within_the_limit() -> None:
    async with PardotSimulator(opportunities=100, seed=1, latency=0.01) as sim:
        async with make_client(sim, max_concurrency=3) as client:
            got = await client.read_many(sim.store.ids())
        assert len(got) == 100
        assert sim.stats.max_in_flight <= 3


# -- query walks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 199, 200, 201, 401, 5000])
async def test_full_walks(n: int) -> None:
    async with PardotSimulator(opportunities=n, seed=n) as sim, make_client(sim, max_concurrency=5) as client:
        async with client.query() as walk:
            ids = [o.id async for o in walk]
        assert ids == sim.store.ids()
        assert walk.total_results == n
        assert sim.stats.max_in_flight <= 5
        assert sim.stats.errors_by_code == {}


@pytest.mark.parametrize("wire_format", ["json", "xml"])
@pytest.mark.parametrize("strategy", ["offset", "keyset"])
@pytest.mark.parametrize("sort_order", ["ascending", "descending"])
async def test_walk_formats_and_strategies(wire_format: str, strategy: str, sort_order: str) -> None:
    async with PardotSimulator(opportunities=1003, seed=3) as sim:
        async with make_client(sim, wire_format=wire_format, max_concurrency=4) as client:
            ids = [o.id async for o in client.query(strategy=strategy, sort_order=sort_order)]
        assert ids == sorted(sim.store.ids(), reverse=sort_order == "descending")
        assert sim.stats.max_in_flight <= 4


@pytest.mark.parametrize("sort_by", ["created_at", "id", "probability", "value"])
@pytest.mark.parametrize("sort_order", [None, "ascending", "descending"])
async def test_every_sort_matches_the_store(
    sim: PardotSimulator, sort_by: str, sort_order: str | None
) -> None:
    default_descending = {"created_at": True, "id": False, "probability": True, "value": True}[sort_by]
    descending = default_descending if sort_order is None else sort_order == "descending"
    async with make_client(sim) as client:
        ids = [o.id async for o in client.query(sort_by=sort_by, sort_order=sort_order, page_size=70)]
    assert ids == expected_order(sim, sort_by, descending)


def matches(r: Any, sim: PardotSimulator, f: dict[str, Any]) -> bool:
    prospects = [sim.store.prospects[p] for p in r.prospect_ids]
    checks = {
        "id_greater_than": lambda v: r.id > v,
        "id_less_than": lambda v: r.id < v,
        "probability_greater_than": lambda v: r.probability > v,
        "probability_less_than": lambda v: r.probability < v,
        "value_greater_than": lambda v: r.value > v,
        "value_less_than": lambda v: r.value < v,
        "prospect_id": lambda v: v in r.prospect_ids,
        "prospect_email": lambda v: any(p.email == v for p in prospects),
    }
    return all(checks[k](v) for k, v in f.items())


@pytest.mark.parametrize(
    "filters",
    [
        {"probability_greater_than": 50},
        {"probability_less_than": 1},
        {"probability_greater_than": 20, "probability_less_than": 60},
        {"value_greater_than": 1000},
        {"value_less_than": 500, "value_greater_than": 10},
        {"id_greater_than": 1234},
        {"id_less_than": 1300, "id_greater_than": 1100},
        {"prospect_email": "jdoe@company.com"},
    ],
)
async def test_filters_match_the_store(sim: PardotSimulator, filters: dict[str, Any]) -> None:
    expected = [r.id for r in sorted(sim.store.all(), key=lambda r: r.id) if matches(r, sim, filters)]
    async with make_client(sim) as client:
        ids = [o.id async for o in client.query(page_size=25, **filters)]
    assert ids == expected


async def test_prospect_id_filter(sim: PardotSimulator) -> None:
    pid = sim.store.get(1234).prospect_ids[0]
    expected = [r.id for r in sim.store.all() if pid in r.prospect_ids]
    async with make_client(sim) as client:
        assert sorted([o.id async for o in client.query(prospect_id=pid)]) == sorted(expected)


async def test_created_filters_match_the_store(sim: PardotSimulator) -> None:
    created = sorted(r.created_at for r in sim.store.all())
    middle = created[len(created) // 2]
    tz = __import__("zoneinfo").ZoneInfo(sim.settings.timezone)
    local = middle.astimezone(tz).replace(tzinfo=None)
    expected_after = sorted(r.id for r in sim.store.all() if r.created_at > middle)
    expected_before = sorted(r.id for r in sim.store.all() if r.created_at < middle)
    async with make_client(sim) as client:
        after = sorted([o.id async for o in client.query(created_after=local)])
        before = sorted([o.id async for o in client.query(created_before=local)])
    assert after == expected_after
    assert before == expected_before


async def test_invalid_arguments_fail_before_any_request(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        sim.stats.reset()
        for bad in (
            {"probability_greater_than": 0},
            {"probability_greater_than": 101},
            {"sort_by": "name"},
            {"sort_order": "up"},
            {"output": "everything"},
            {"page_size": 201},
            {"id_greater_than": 10, "id_less_than": 5},
            {"created_after": "tomorrow"},
            {"colour": "red"},
            {"id_greater_than": True},
        ):
            with pytest.raises(aeopp.RequestValidationError):
                client.query(**bad)
        with pytest.raises(aeopp.RequestValidationError):
            await client.query_page(limit=0)
        with pytest.raises(aeopp.RequestValidationError):
            await client.read(-1)
        assert sim.stats.requests == 0


async def test_query_page(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        page = await client.query_page(offset=200, limit=50, sort_by="id")
    assert page.total_results == len(sim.store)
    assert [o.id for o in page.opportunities] == sim.store.ids()[200:250]


async def test_bulk_and_mobile_outputs(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        sim.stats.reset()
        bulk = [o.id async for o in client.query(output="bulk")]
        assert bulk == sim.store.ids()
        sim.stats.reset()
        mobile = [o.id async for o in client.query(output="mobile")]
        assert mobile == sim.store.ids()
        assert sim.stats.requests_by_operation["query"] == 1


@pytest.mark.parametrize("max_items", [1, 150, 201, 299, 1000])
async def test_max_items_and_resume(sim: PardotSimulator, max_items: int) -> None:
    async with make_client(sim) as client:
        walk = client.query(max_items=max_items)
        head = [o.id async for o in walk]
        assert head == sim.store.ids()[:max_items]
        rest = [o.id async for o in client.query(resume=walk.cursor)]
        assert head + rest == sim.store.ids()
        token = walk.cursor.token() if walk.cursor else None
        if token:
            again = [o.id async for o in client.query(resume=token)]
            assert again == rest


async def test_resume_a_value_walk(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        every = [o.id async for o in client.query(sort_by="value", page_size=40)]
        walk = client.query(sort_by="value", page_size=40, max_items=95)
        head = [o.id async for o in walk]
        rest = [o.id async for o in client.query(sort_by="value", page_size=40, resume=walk.cursor)]
    assert head + rest == every
    with pytest.raises(aeopp.RequestValidationError, match="resume"):
        client.query(sort_by="id", resume=walk.cursor)


async def test_daily_limit_mid_walk_carries_a_cursor_to_resume_from() -> None:
    async with (
        PardotSimulator(opportunities=2000, seed=5) as sim,
        make_client(sim, max_concurrency=2) as client,
    ):
        sim.settings.daily_quota = 4
        seen: list[int] = []
        with pytest.raises(aeopp.DailyLimitExceeded) as info:
            async for opp in client.query(page_size=100):
                seen.append(opp.id)
        assert info.value.code == 122
        assert client.stats.retries == 0  # 122 is never retried
        assert client.stats.errors_by_code[122] <= 2  # at most the pages that were in flight
        cursor = info.value.cursor
        assert isinstance(cursor, aeopp.Cursor)
        assert cursor.last_id == seen[-1]
        sim.settings.daily_quota = None
        rest = [o.id async for o in client.query(page_size=100, resume=cursor)]
        assert seen + rest == sim.store.ids()


# -- early exits: nothing left running -----------------------------------------------------------


def client_tasks() -> list[str]:
    """Tasks running aeopp client code (not the simulator's)."""
    names = [task.get_name() for task in asyncio.all_tasks()]  # anyio names tasks after their function
    return [n for n in names if n.startswith("aeopp.") and not n.startswith("aeopp.testing")]


async def test_break_cancels_in_flight_requests_at_once(caplog: pytest.LogCaptureFixture) -> None:
    async with PardotSimulator(opportunities=5000, seed=2, latency=0.05) as sim:
        async with make_client(sim) as client:
            async for _opp in client.query(page_size=50):
                assert client_tasks()  # the walk's supervisor and fetchers are running
                break
            gc.collect()
            await anyio.sleep(0.1)  # let cancelled requests unwind
            settled = sim.stats.requests
            assert sim.stats.in_flight == 0
            assert client_tasks() == []
            await anyio.sleep(0.2)
            assert sim.stats.requests == settled  # nothing new was started
            assert settled < 30
    gc.collect()
    complaints = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert not [m for m in complaints if "destroyed" in m or "never awaited" in m or "Unclosed" in m]
    # nor does the simulator log a traceback for the requests the client abandoned
    assert not [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelno >= 40]


async def test_async_with_exit_and_exceptions_cancel_the_walk() -> None:
    async with PardotSimulator(opportunities=3000, seed=2, latency=0.05) as sim:
        async with make_client(sim) as client:
            with pytest.raises(ZeroDivisionError):
                async with client.query(page_size=50) as walk:
                    async for _opp in walk:
                        1 / 0  # noqa: B018
            await anyio.sleep(0.1)
            assert sim.stats.in_flight == 0
            settled = sim.stats.requests
            await anyio.sleep(0.2)
            assert sim.stats.requests == settled


async def test_cancelling_the_consumer_stops_the_walk() -> None:
    async with PardotSimulator(opportunities=3000, seed=2, latency=0.05) as sim:
        async with make_client(sim) as client:
            got: list[int] = []

            async def consume() -> None:
                async for opp in client.query(page_size=50):
                    got.append(opp.id)

            with anyio.move_on_after(0.3):
                await consume()
            gc.collect()
            await anyio.sleep(0.1)
            assert sim.stats.in_flight == 0
            settled = sim.stats.requests
            await anyio.sleep(0.2)
            assert sim.stats.requests == settled
            assert got == sim.store.ids()[: len(got)]


async def test_closing_the_client_mid_walk_is_a_clear_error() -> None:
    async with PardotSimulator(opportunities=3000, seed=2, latency=0.02) as sim:
        client = make_client(sim)
        async with client:
            walk = client.query(page_size=50)
            await walk.__anext__()
        with pytest.raises(aeopp.ClientStateError):
            async for _ in walk:
                pass


async def test_sync_iteration_is_a_type_error(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        with pytest.raises(TypeError, match="async for"):
            for _ in client.query():  # type: ignore[attr-defined]
                pass


# -- data changing during a walk -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
async def test_exactly_once_while_records_are_created_deleted_and_undeleted(seed: int) -> None:
    import random

    rng = random.Random(seed)
    async with PardotSimulator(opportunities=900, seed=seed, latency=0.005) as sim:
        initial = set(sim.store.ids())
        touched: set[int] = set()
        deleted: list[int] = []
        async with make_client(sim, max_concurrency=3) as client:
            ids: list[int] = []
            async for opp in client.query(page_size=40):
                ids.append(opp.id)
                if len(ids) % 7 == 0:
                    live = sim.store.ids()
                    victim = rng.choice(live)
                    sim.store.delete(victim)
                    deleted.append(victim)
                    touched.add(victim)
                if len(ids) % 11 == 0 and deleted:
                    back = deleted.pop(rng.randrange(len(deleted)))
                    sim.store.undelete(back)
                    touched.add(back)
                if len(ids) % 13 == 0:
                    pid = next(iter(sim.store.prospects))
                    sim.store.create(name="new", value=1, probability=1, prospect_id=pid)
                await anyio.lowlevel.checkpoint()
        assert len(ids) == len(set(ids))
        assert ids == sorted(ids)
        assert not (initial - touched) - set(ids)


# -- retries, limits, auth -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"code": 66},
        {"code": 183},
        {"http_status": 503},
        {"http_status": 502},
        {"drop": "before"},
        {"drop": "after"},
    ],
)
async def test_reads_and_queries_survive_each_fault(sim: PardotSimulator, fault: dict[str, Any]) -> None:
    async with make_client(sim) as client:
        sim.inject(times=2, operation="read", **fault)
        assert (await client.read(1234)).id == 1234
        sim.inject(times=2, operation="query", **fault)
        assert [o.id async for o in client.query(page_size=100)] == sim.store.ids()
    if "drop" in fault:
        # aiohttp itself resends a GET once when a kept-alive connection drops before any answer
        assert sim.stats.dropped == 4
    else:
        assert client.stats.retries >= 4


async def test_create_with_a_dropped_answer_is_not_replayed(sim: PardotSimulator) -> None:
    before = len(sim.store)
    async with make_client(sim) as client:
        sim.inject(drop="after", operation="create")
        with pytest.raises(aeopp.WriteOutcomeUnknown, match="may or may not"):
            await client.create(name="Once", value=1, probability=1, prospect_email="jdoe@company.com")
    assert len(sim.store) == before + 1  # applied once, never twice


async def test_create_retried_on_66(sim: PardotSimulator) -> None:
    before = len(sim.store)
    async with make_client(sim) as client:
        sim.inject(code=66, times=2, operation="create")
        await client.create(name="Once", value=1, probability=1, prospect_email="jdoe@company.com")
    assert len(sim.store) == before + 1


async def test_delete_is_replayed_after_a_dropped_answer(sim: PardotSimulator) -> None:
    async with make_client(sim) as client:
        sim.inject(drop="before", operation="delete")
        await client.delete(1234)
    assert sim.store.get(1234).deleted


async def test_random_faults_during_a_walk() -> None:
    async with PardotSimulator(opportunities=3000, seed=9) as sim:
        sim.settings.busy_rate = 0.1
        sim.settings.internal_error_rate = 0.05
        sim.settings.http_error_rate = 0.05
        sim.settings.drop_before_rate = 0.03
        sim.settings.drop_after_rate = 0.03
        retry = aeopp.RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.01)
        async with make_client(sim, retry=retry, seed=1) as client:
            ids = [o.id async for o in client.query(page_size=100)]
        assert ids == sim.store.ids()
        assert client.stats.retries > 0


async def test_daily_limit_is_never_retried(sim: PardotSimulator) -> None:
    sim.settings.daily_quota = 0
    async with make_client(sim) as client:
        with pytest.raises(aeopp.DailyLimitExceeded):
            await client.read(1234)
    assert sim.stats.requests == 1


async def test_adaptive_concurrency_backs_off_when_slots_are_taken() -> None:
    async with PardotSimulator(opportunities=2000, seed=4, latency=0.02) as sim:
        sim.settings.concurrency_limit = 2  # another process holds three of the five slots
        retry = aeopp.RetryPolicy(max_attempts=20, base_delay=0.005, max_delay=0.05)
        async with make_client(sim, retry=retry, seed=3) as client:
            ids = [o.id async for o in client.query(page_size=50)]
            assert client.concurrency_limit < 5
        assert ids == sim.store.ids()


@pytest.mark.parametrize(("required", "start"), [(3, 4), (4, 3)])
async def test_version_switch_on_88_and_89(sim: PardotSimulator, required: int, start: int) -> None:
    sim.settings.required_version = required
    async with make_client(sim, version=start) as client:
        assert (await client.read(1234)).id == 1234
        assert client.version == required
        assert [o.id async for o in client.query(page_size=150)] == sim.store.ids()
    assert client.stats.version_switches == 1


async def test_token_provider_renews_once_for_concurrent_requests() -> None:
    async with PardotSimulator(opportunities=200, seed=1, latency=0.01) as sim:
        creds = sim.credentials
        oauth = aeopp.SalesforceOAuth(
            creds.token_url, creds.client_id, creds.client_secret, refresh_token=creds.refresh_token
        )
        auth = aeopp.BearerAuth(access_token=oauth, business_unit_id=creds.business_unit_id)
        sim.settings.token_expires_after_requests = 60
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, retry=FAST) as client:
            got = await client.read_many(sim.store.ids()[:100])
        assert len(got) == 100
        # one token at start, then one renewal each time the token expired (every 60 requests)
        assert auth.renewals <= 3
        assert client.stats.refreshes >= 1


async def test_client_credentials_grant_and_a_refused_grant() -> None:
    async with PardotSimulator(opportunities=5, seed=1) as sim:
        creds = sim.credentials
        good = aeopp.SalesforceOAuth(creds.token_url, creds.client_id, creds.client_secret)
        assert await good()
        bad = aeopp.SalesforceOAuth(creds.token_url, creds.client_id, "wrong-secret")
        with pytest.raises(aeopp.OAuthError) as info:
            await bad()
        assert "wrong-secret" not in str(info.value)


async def test_legacy_api_key_login_and_relogin() -> None:
    async with PardotSimulator(opportunities=50, seed=1, auth="apikey") as sim:
        creds = sim.credentials
        auth = aeopp.ApiKeyAuth(email=creds.email, password=creds.password, user_key=creds.user_key)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, retry=FAST) as client:
            assert (await client.read(1234)).id == 1234
            assert auth.logins == 1
            sim.settings.api_key_lifetime = 0.5
            await anyio.sleep(0.6)  # the key in use has expired: the next calls get code 1
            got = await client.read_many(sim.store.ids()[:20])
            assert len([o async for o in client.query()]) == 50
        assert len(got) == 20
        assert sim.stats.errors_by_code[1] >= 1
        assert client.stats.refreshes >= 1
        assert auth.logins >= 2
        assert "login" in sim.stats.requests_by_operation


async def test_legacy_login_failure_is_an_authentication_error() -> None:
    async with PardotSimulator(opportunities=5, seed=1, auth="apikey") as sim:
        auth = aeopp.ApiKeyAuth(email=sim.credentials.email, password="wrong", user_key="0" * 32)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, retry=FAST) as client:
            with pytest.raises(aeopp.AuthenticationError) as info:
                await client.read(1234)
        assert info.value.code == 15
        assert "wrong" not in str(info.value)


async def test_simulator_credentials_are_plain_values_with_a_secret_free_repr(sim: PardotSimulator) -> None:
    creds = sim.credentials
    assert not isinstance(creds, aeopp.BearerAuth)
    values = creds.as_dict()
    assert list(values) == [
        "base_url",
        "business_unit_id",
        "email",
        "access_token",
        "password",
        "user_key",
        "client_id",
        "client_secret",
        "refresh_token",
    ]
    assert all(isinstance(value, str) and value for value in values.values())
    assert SimulatorCredentials(**values) == creds
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        creds.access_token = "other"  # type: ignore[misc]
    assert repr(creds) == (
        f"SimulatorCredentials(base_url={creds.base_url!r}, "
        f"business_unit_id={creds.business_unit_id!r}, email={creds.email!r})"
    )
    auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
    async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url) as client:
        assert (await client.read(1234)).id == 1234


async def test_no_secret_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    async with PardotSimulator(opportunities=300, seed=1, auth="apikey") as sim:
        creds = sim.credentials
        auth = aeopp.ApiKeyAuth(email=creds.email, password=creds.password, user_key=creds.user_key)
        sim.settings.required_version = 3
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, retry=FAST) as client:
            sim.inject(code=66, times=3)
            sim.inject(drop="before", times=1)
            assert len([o async for o in client.query(page_size=50)]) == 300
            with pytest.raises(aeopp.OpportunityNotFound) as info:
                await client.read(7)
    assert caplog.records, "the client should have logged its retries and the version switch"
    text = caplog.text + repr(client) + repr(auth) + str(info.value) + repr(info.value)
    api_key = auth._api_key
    assert api_key
    for secret in (creds.password, creds.user_key, creds.access_token, creds.client_secret, api_key):
        assert secret not in text


@pytest.mark.parametrize("uses", [2, 5])
async def test_walks_survive_tokens_replaced_every_few_uses(uses: int) -> None:
    """The server replaces the token after ``uses`` requests while five are in flight: every walk
    finishes, and the provider is asked about once per expiry (single flight across the tasks)."""
    async with PardotSimulator(opportunities=3000, seed=2, latency=0.002) as sim:
        sim.settings.token_expires_after_requests = uses
        for _ in range(3):
            provided = 0

            async def provider() -> str:
                nonlocal provided
                provided += 1
                return sim.issue_token()

            auth = aeopp.BearerAuth(provider, sim.credentials.business_unit_id)
            async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url) as client:
                ids = [o.id async for o in client.query()]
            assert ids == sim.store.ids()
            answered = client.stats.requests - sum(client.stats.errors_by_code.values())
            assert provided <= answered / uses + 2
