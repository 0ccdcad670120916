"""RedisCoordinator in one process against the real Redis of ``make test`` (several coordinators
stand for several processes): slots, waiting and cancellation, the daily limit and budget, shared
tokens, an unavailable or hung Redis, and secrets (ACL, TLS). The multi-process tests are in
tests/test_redis_processes.py."""

from __future__ import annotations

import logging
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from redis_servers import RedisServer, free_port

import aeopp
from aeopp._redis import day_and_reset, redact_url
from aeopp._redis_scripts import UnitKeys
from aeopp.testing import PardotSimulator

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

redis = pytest.importorskip("redis")

UNIT = "0UvTEST00000000001"
SECRET = "s3cr3t-Pa55word"


@pytest.fixture
async def sim() -> AsyncIterator[PardotSimulator]:
    async with PardotSimulator(opportunities=1200, seed=3, latency=0.01) as simulator:
        yield simulator


def coordinator(url: str, prefix: str, **options: Any) -> aeopp.RedisCoordinator:
    return aeopp.RedisCoordinator(url, key_prefix=prefix, **options)


def keys(prefix: str, unit: str = UNIT) -> UnitKeys:
    return UnitKeys(prefix, unit)


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


# -- slots ------------------------------------------------------------------------------------------


async def test_slots_are_shared_by_every_coordinator(redis_url: str, key_prefix: str) -> None:
    coordinators = [coordinator(redis_url, key_prefix, slots=3) for _ in range(4)]
    running = peak = 0

    async def request(c: aeopp.RedisCoordinator) -> None:
        nonlocal running, peak
        async with c.slot(UNIT):
            running += 1
            peak = max(peak, running)
            await anyio.sleep(0.01)
            running -= 1

    async with anyio.create_task_group() as tg:
        for i in range(60):
            tg.start_soon(request, coordinators[i % 4])
    assert peak == 3
    assert sum(c.stats.acquired for c in coordinators) == 60
    assert max(c.stats.longest_wait for c in coordinators) < 1.0
    for c in coordinators:
        await c.aclose()
        await c.aclose()  # idempotent


async def test_clients_with_one_coordinator_each_never_exceed_five_at_the_simulator(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    creds = sim.credentials
    ids: list[list[int]] = []

    async def walk() -> None:
        async with coordinator(redis_url, key_prefix) as c:
            auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
            async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=c) as client:
                ids.append([o.id async for o in client.query()])
            assert client.is_open is False
            await c.admit(creds.business_unit_id)  # the client did not close the coordinator

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(walk)
    assert all(sorted(walk_ids) == sim.store.ids() for walk_ids in ids)
    assert sim.stats.max_in_flight <= 5
    assert sim.stats.errors_by_code[66] == 0


async def test_one_coordinator_serves_many_clients(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    creds = sim.credentials
    async with coordinator(redis_url, key_prefix, slots=2) as c:

        async def walk() -> None:
            auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
            async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=c) as client:
                assert [o.id async for o in client.query()] == sim.store.ids()

        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(walk)
    assert sim.stats.max_in_flight <= 2


async def test_a_waiter_cancelled_leaves_the_line_at_once(
    redis_url: str, key_prefix: str, sync_redis: Any
) -> None:
    async with (
        coordinator(redis_url, key_prefix, slots=1) as a,
        coordinator(redis_url, key_prefix, slots=1) as b,
    ):
        held = anyio.Event()
        done = anyio.Event()

        async def hold() -> None:
            async with a.slot(UNIT):
                held.set()
                await done.wait()

        async with anyio.create_task_group() as tg:
            tg.start_soon(hold)
            await held.wait()
            with anyio.move_on_after(0.3):
                async with b.slot(UNIT):
                    raise AssertionError("the slot was taken")
            started = time.monotonic()
            with anyio.CancelScope() as scope:
                tg.start_soon(lambda: _cancel_soon(scope))
                async with b.slot(UNIT):
                    raise AssertionError("the slot was taken")
            assert time.monotonic() - started < 0.5
            assert sync_redis.zcard(keys(key_prefix).queue) == 0
            done.set()
        async with b.slot(UNIT):  # nothing left behind
            assert sync_redis.zcard(keys(key_prefix).slots) == 1
    assert sync_redis.zcard(keys(key_prefix).slots) == 0


async def _cancel_soon(scope: anyio.CancelScope) -> None:
    await anyio.sleep(0.1)
    scope.cancel()


async def test_waiting_is_first_come_first_served(redis_url: str, key_prefix: str) -> None:
    """One slot, a greedy coordinator taking it again and again, and a second one waiting: the second
    gets it the next time it is released, not after the greedy one's whole run."""
    async with (
        coordinator(redis_url, key_prefix, slots=1) as greedy,
        coordinator(redis_url, key_prefix, slots=1) as other,
    ):
        order: list[str] = []

        async def run_greedy() -> None:
            for _ in range(10):
                async with greedy.slot(UNIT):
                    order.append("greedy")
                    await anyio.sleep(0.02)

        async def run_other() -> None:
            await anyio.sleep(0.03)
            async with other.slot(UNIT):
                order.append("other")

        async with anyio.create_task_group() as tg:
            tg.start_soon(run_greedy)
            tg.start_soon(run_other)
    assert order.index("other") <= 3
    assert other.stats.longest_wait < 0.5


async def test_a_lease_is_renewed_while_its_request_runs(redis_url: str, key_prefix: str) -> None:
    async with coordinator(redis_url, key_prefix, slots=1, lease_seconds=0.6) as a:
        b = coordinator(redis_url, key_prefix, slots=1, lease_seconds=0.6)
        async with a.slot(UNIT):
            with anyio.move_on_after(1.5) as scope:  # two and a half leases
                async with b.slot(UNIT):
                    pass
            assert scope.cancelled_caught
        assert a.stats.lost_leases == 0
        async with b.slot(UNIT):
            pass
        await b.aclose()


async def test_the_lease_of_a_dead_holder_expires(redis_url: str, key_prefix: str, sync_redis: Any) -> None:
    k = keys(key_prefix)
    # A holder that never renews nor releases: a process killed while holding the slot.
    script = sync_redis.register_script(aeopp._redis_scripts.ACQUIRE)
    assert script(keys=k.slot_keys, args=[1, "dead:1", 1000, 60_000]) == 1
    async with coordinator(redis_url, key_prefix, slots=1, lease_seconds=1.0) as c:
        started = time.monotonic()
        async with c.slot(UNIT):
            waited = time.monotonic() - started
    assert 0.5 < waited < 1.0 + c.poll + 0.5


# -- daily limit and budget -------------------------------------------------------------------------


async def test_a_daily_limit_recorded_by_one_stops_the_others(
    redis_url: str, key_prefix: str, sync_redis: Any
) -> None:
    tz = ZoneInfo("America/Chicago")
    async with (
        coordinator(redis_url, key_prefix, timezone="America/Chicago") as a,
        coordinator(redis_url, key_prefix) as b,
    ):
        budgeted = coordinator(redis_url, key_prefix, daily_budget=100)
        await budgeted.admit(UNIT)
        await a.daily_limit_reached(UNIT)
        with pytest.raises(aeopp.DailyLimitExceeded) as caught:
            async with b.slot(UNIT):
                pass
        error = caught.value
        assert (error.code, error.http_status) == (122, None)
        assert "another process" in str(error)
        assert b.stats.refused == 1
        with pytest.raises(aeopp.DailyLimitExceeded, match="another process"):
            await budgeted.admit(UNIT)  # with a budget, admit looks too
        await budgeted.aclose()
        left = sync_redis.pttl(keys(key_prefix).daily_limit) / 1000
        _, reset = day_and_reset(datetime.now(timezone.utc), tz)
        assert abs(left - (reset - datetime.now(timezone.utc)).total_seconds()) < 5
        async with b.slot("0UvOTHER0000000001"):  # other business units are not concerned
            pass


async def test_the_daily_budget_counts_requests_per_day(
    redis_url: str, key_prefix: str, sync_redis: Any
) -> None:
    async with coordinator(
        redis_url, key_prefix, daily_budget=3, timezone=timezone(timedelta(hours=-5))
    ) as a:
        b = coordinator(redis_url, key_prefix, daily_budget=3)
        await a.admit(UNIT)
        await b.admit(UNIT)
        await a.admit(UNIT)
        with pytest.raises(aeopp.DailyLimitExceeded, match="daily budget of 3") as caught:
            await b.admit(UNIT)
        assert caught.value.http_status is None
        day = datetime.now(timezone(timedelta(hours=-5))).date().isoformat()
        # a's day (UTC-5) and b's (UTC) may differ around midnight; a's counter is the one named by a
        assert sync_redis.get(keys(key_prefix).budget(day)) in ("3", "2", "1")
        await b.aclose()


def test_the_day_ends_at_midnight_in_the_time_zone() -> None:
    tz = ZoneInfo("America/New_York")
    day, reset = day_and_reset(datetime(2026, 3, 8, 4, 30, tzinfo=timezone.utc), tz)  # 23:30 on the 7th
    assert day.isoformat() == "2026-03-07"
    assert reset == datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc)
    day, reset = day_and_reset(datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc), tz)  # DST starts that day
    assert day.isoformat() == "2026-03-08"
    assert reset == datetime(2026, 3, 9, 4, 0, tzinfo=timezone.utc)  # 23 hours later
    assert day_and_reset(datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc), timezone.utc)[1] == datetime(
        2026, 3, 9, tzinfo=timezone.utc
    )


async def test_a_client_stops_before_sending_when_another_process_saw_122(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    creds = sim.credentials
    async with coordinator(redis_url, key_prefix) as a, coordinator(redis_url, key_prefix) as b:
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=a) as first:
            sim.inject(code=122)
            with pytest.raises(aeopp.DailyLimitExceeded) as from_pardot:
                await first.read(sim.store.ids()[0])
            assert from_pardot.value.http_status is not None
        before = sim.stats.requests
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=b) as second:
            with pytest.raises(aeopp.DailyLimitExceeded) as local:
                await second.read(sim.store.ids()[0])
        assert sim.stats.requests == before  # nothing sent
        assert local.value.http_status is None


async def test_a_walk_stopped_by_another_process_122_has_its_cursor(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    creds = sim.credentials
    async with coordinator(redis_url, key_prefix) as a, coordinator(redis_url, key_prefix) as b:
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        seen: list[int] = []
        async with aeopp.OpportunityClient(
            auth=auth, base_url=sim.base_url, coordinator=b, max_concurrency=1
        ) as client:
            with pytest.raises(aeopp.DailyLimitExceeded) as caught:
                async for record in client.query():
                    seen.append(record.id)
                    if len(seen) == 300:
                        await a.daily_limit_reached(creds.business_unit_id)
        assert caught.value.http_status is None
        assert caught.value.cursor is not None
        assert sim.stats.errors_by_code[122] == 0
        # Resuming from the cursor once the limit is gone gives the rest, exactly once.
        redis.Redis.from_url(redis_url).delete(keys(key_prefix, creds.business_unit_id).daily_limit)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=b) as client:
            seen += [r.id async for r in client.query(resume=caught.value.cursor)]
        assert seen == sim.store.ids()


# -- tokens -----------------------------------------------------------------------------------------


class Provider:
    def __init__(self, sim: PardotSimulator, expires_in: float | None = None) -> None:
        self.sim = sim
        self.calls = 0
        self.expires_in = expires_in

    async def __call__(self) -> str:
        self.calls += 1
        await anyio.sleep(0.05)
        return self.sim.issue_token()


async def test_one_provider_call_serves_every_process(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    unit = sim.credentials.business_unit_id
    sim.settings.token_expires_after_requests = 10
    providers = [Provider(sim, expires_in=3600) for _ in range(3)]
    async with (
        coordinator(redis_url, key_prefix) as c1,
        coordinator(redis_url, key_prefix) as c2,
        coordinator(redis_url, key_prefix) as c3,
    ):

        async def walk(c: aeopp.RedisCoordinator, provider: Provider) -> None:
            auth = aeopp.BearerAuth(provider, unit)
            async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=c) as client:
                assert [o.id async for o in client.query()] == sim.store.ids()

        async with anyio.create_task_group() as tg:
            for c, provider in zip((c1, c2, c3), providers, strict=True):
                tg.start_soon(walk, c, provider)
        calls = sum(p.calls for p in providers)
        used = sim.stats.requests - sim.stats.requests_by_operation["token"] - sim.stats.errors_by_code[184]
        assert calls <= used // 10 + 2  # about one call per expiry, for all three together
        assert sum(c.stats.token_fetches for c in (c1, c2, c3)) == calls
        ttl = redis.Redis.from_url(redis_url).pttl(keys(key_prefix, unit).token)
        assert 0 < ttl <= 3600 * 900


async def test_a_rejected_token_is_renewed_only_if_it_is_still_the_shared_one(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    unit = sim.credentials.business_unit_id
    async with coordinator(redis_url, key_prefix) as a, coordinator(redis_url, key_prefix) as b:
        pa, pb = Provider(sim), Provider(sim)
        auth_a, auth_b = aeopp.BearerAuth(pa, unit), aeopp.BearerAuth(pb, unit)
        auth_a.attach(a.token_store(unit))
        auth_b.attach(b.token_store(unit))

        async def no_login(*args: str) -> Any:
            raise AssertionError

        headers_a, gen_a = await auth_a.headers(no_login)
        headers_b, gen_b = await auth_b.headers(no_login)
        assert headers_a == headers_b
        assert (pa.calls, pb.calls) == (1, 0)
        assert await auth_a.refresh(no_login, gen_a)  # A's token rejected: A renews it
        assert await auth_b.refresh(no_login, gen_b)  # B's (the same, old one) too: B takes A's new one
        assert (pa.calls, pb.calls) == (2, 0)
        assert (await auth_a.headers(no_login))[0] == (await auth_b.headers(no_login))[0] != headers_a
        assert await a.token_store(unit).current() == (await auth_a.headers(no_login))[0]["Authorization"][7:]  # type: ignore[union-attr]


async def test_renewals_race_to_one_provider_call(
    redis_url: str, key_prefix: str, sim: PardotSimulator
) -> None:
    unit = sim.credentials.business_unit_id
    coordinators = [coordinator(redis_url, key_prefix) for _ in range(5)]
    providers = [Provider(sim) for _ in range(5)]
    auths = [aeopp.BearerAuth(p, unit) for p in providers]
    for auth, c in zip(auths, coordinators, strict=True):
        auth.attach(c.token_store(unit))

    async def no_login(*args: str) -> Any:
        raise AssertionError

    async with anyio.create_task_group() as tg:
        for auth in auths:
            tg.start_soon(auth.headers, no_login)
    assert sum(p.calls for p in providers) == 1
    for c in coordinators:
        await c.aclose()


async def test_tokens_are_not_shared_when_turned_off(redis_url: str, key_prefix: str) -> None:
    async with coordinator(redis_url, key_prefix, share_tokens=False) as c:
        assert c.token_store(UNIT) is None


# -- Redis unavailable ------------------------------------------------------------------------------


def _closed_port_url(password: str | None = SECRET) -> str:
    auth = f"worker:{password}@" if password else ""
    return f"redis://{auth}127.0.0.1:{free_port()}/0"


async def test_without_redis_local_mode_falls_back_and_warns_once(
    sim: PardotSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    creds = sim.credentials
    caplog.set_level(logging.INFO, logger="aeopp")
    async with aeopp.RedisCoordinator(_closed_port_url(), timeout=0.5) as c:
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=c) as client:
            assert [o.id async for o in client.query()] == sim.store.ids()
        assert c.stats.local_fallbacks > 0
        assert c.stats.outages == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert SECRET not in caplog.text
    assert "***" in warnings[0].getMessage()


async def test_without_redis_raise_mode_raises_a_clear_error(sim: PardotSimulator) -> None:
    with pytest.raises(aeopp.CoordinatorUnavailable) as caught:
        async with aeopp.RedisCoordinator(_closed_port_url(), on_unavailable="raise", timeout=0.5):
            pass
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert "127.0.0.1" in str(caught.value)

    c = aeopp.RedisCoordinator(_closed_port_url(), on_unavailable="raise", timeout=0.5)
    creds = sim.credentials
    auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
    async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=c) as client:
        with pytest.raises(aeopp.CoordinatorUnavailable):
            async for _ in client.query():
                pass
    await c.aclose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers: a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


async def test_a_hung_redis_cannot_hang_a_walk(sim: PardotSimulator, silent_server: int) -> None:
    creds = sim.credentials
    started = time.monotonic()
    async with aeopp.RedisCoordinator(f"redis://127.0.0.1:{silent_server}/0", timeout=0.3) as c:
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url, coordinator=c) as client:
            assert [o.id async for o in client.query()] == sim.store.ids()
    assert time.monotonic() - started < 5
    assert c.stats.outages == 1


async def test_redis_coming_back_is_used_again(
    redis_server: Callable[..., RedisServer], key_prefix: str
) -> None:
    server = redis_server()
    async with aeopp.RedisCoordinator(server.url, key_prefix=key_prefix, timeout=0.5) as c:
        async with c.slot(UNIT):
            pass
        server.stop(kill=True)
        async with c.slot(UNIT):
            pass
        assert c.stats.local_fallbacks == 1
        server.start()
        await anyio.sleep(aeopp._redis.RETRY_AFTER + 0.1)
        async with c.slot(UNIT):
            pass
        assert c.stats.acquired == 2
        assert c.stats.outages == 1


# -- secrets, ACL, TLS ------------------------------------------------------------------------------


def test_the_password_never_shows() -> None:
    url = f"redis://worker:{SECRET}@127.0.0.1:6390/0"
    c = aeopp.RedisCoordinator(url)
    assert SECRET not in repr(c)
    assert "worker:***@127.0.0.1:6390" in repr(c)
    assert (
        redact_url("rediss://:pw@[::1]:7000/2?ssl_cert_reqs=none")
        == "rediss://:***@[::1]:7000/2?ssl_cert_reqs=none"
    )
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(aeopp.RequestValidationError) as caught:
        aeopp.RedisCoordinator(f"http://worker:{SECRET}@host/")
    assert SECRET not in str(caught.value)
    assert aeopp.RedisCoordinator.from_url(url, slots=2).slots == 2


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("slots", 0),
        ("slots", True),
        ("lease_seconds", 0.1),
        ("key_prefix", "a{b}"),
        ("daily_budget", -1),
        ("timezone", "Mars/Olympus"),
        ("on_unavailable", "ignore"),
        ("timeout", 0),
    ],
)
def test_options_are_checked(option: str, value: object) -> None:
    with pytest.raises(aeopp.RequestValidationError, match=option):
        aeopp.RedisCoordinator("redis://127.0.0.1:6379/0", **{option: value})


async def test_an_acl_user_works_and_a_refused_auth_shows_no_password(
    redis_server: Callable[..., RedisServer], key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_server(
        "--user", "default", "off", "--user", "worker", "on", f">{SECRET}", "~*", "&*", "+@all"
    )
    good = f"redis://worker:{SECRET}@127.0.0.1:{server.port}/0"
    async with aeopp.RedisCoordinator(good, key_prefix=key_prefix, on_unavailable="raise") as c:
        async with c.slot(UNIT):
            pass
        assert c.stats.acquired == 1
    wrong = "Wr0ng-" + SECRET
    bad = f"redis://worker:{wrong}@127.0.0.1:{server.port}/0"
    with pytest.raises(aeopp.CoordinatorUnavailable) as caught:
        async with aeopp.RedisCoordinator(bad, on_unavailable="raise"):
            pass
    assert wrong not in str(caught.value)
    assert "worker:***@" in str(caught.value)
    caplog.set_level(logging.DEBUG)
    async with aeopp.RedisCoordinator(bad, key_prefix=key_prefix) as c:
        await c.admit(UNIT)
        async with c.slot(UNIT):
            pass
    assert c.stats.outages == 1
    assert wrong not in caplog.text
    assert SECRET not in caplog.text


def _certificates(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "redis.crt", directory / "redis.key"
    argv = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    argv += f" -addext subjectAltName=IP:127.0.0.1 -keyout {key} -out {cert}"
    subprocess.run(argv.split(), check=True, capture_output=True)
    return cert, key


async def test_tls(redis_server: Callable[..., RedisServer], key_prefix: str, tmp_path: Path) -> None:
    cert, key = _certificates(tmp_path)
    server = redis_server(
        "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
        "--tls-auth-clients", "no", "--requirepass", SECRET, tls=True,
    )  # fmt: skip
    url = f"rediss://:{SECRET}@127.0.0.1:{server.port}/0?ssl_ca_certs={cert}"
    async with aeopp.RedisCoordinator(url, key_prefix=key_prefix, on_unavailable="raise") as c:
        async with c.slot(UNIT):
            pass
        assert SECRET not in repr(c)
    plain = f"redis://:{SECRET}@127.0.0.1:{server.port}/0"
    with pytest.raises(aeopp.CoordinatorUnavailable) as caught:
        async with aeopp.RedisCoordinator(plain, on_unavailable="raise", timeout=0.5):
            pass
    assert SECRET not in str(caught.value)
