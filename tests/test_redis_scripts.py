"""The Lua scripts of RedisCoordinator against a real Redis, step by step against a model.

The model is exact: leases are either long (never expire within a test) or one millisecond (expired
before the next step), and places in line never lapse, so every answer of a script can be predicted:
slots never exceed the limit, the first in line gets the next free slot, an expired lease is
reclaimed, release is idempotent, and renewing a lost lease fails.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aeopp import _redis_scripts as scripts
from aeopp._redis_scripts import UnitKeys

pytestmark = pytest.mark.redis

redis = pytest.importorskip("redis")

HOLDERS = [f"p{p}:{n}" for p in range(3) for n in range(3)]
LONG_MS = 60_000
PLACE_MS = 60_000


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[object]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


class Slots(RuleBasedStateMachine):
    client: object = None

    def __init__(self) -> None:
        super().__init__()
        self.r = type(self).client
        self.keys = UnitKeys(f"aeopp-test-{uuid.uuid4().hex[:10]}", "0UvTEST0000000001")
        self.acquire = self.r.register_script(scripts.ACQUIRE)  # type: ignore[attr-defined]
        self.release_script = self.r.register_script(scripts.RELEASE)  # type: ignore[attr-defined]
        self.renew_script = self.r.register_script(scripts.RENEW)  # type: ignore[attr-defined]
        self.limit = 3
        self.held: set[str] = set()  # live leases
        self.queue: list[str] = []  # waiting, in ticket order

    def teardown(self) -> None:
        for key in self.r.scan_iter(f"{self.keys.prefix}:*"):  # type: ignore[attr-defined]
            self.r.delete(key)  # type: ignore[attr-defined]

    def live_in_redis(self) -> int:
        seconds, micros = self.r.time()  # type: ignore[attr-defined]
        now = seconds * 1000 + micros // 1000
        return int(self.r.zcount(self.keys.slots, now + 1, "+inf"))  # type: ignore[attr-defined]

    @precondition(lambda self: len(self.held) < len(HOLDERS))
    @rule(data=st.data(), short=st.booleans())
    def take(self, data: st.DataObject, short: bool) -> None:
        holder = data.draw(st.sampled_from([h for h in HOLDERS if h not in self.held]))
        lease = 1 if short else LONG_MS
        got = self.acquire(keys=self.keys.slot_keys, args=[self.limit, holder, lease, PLACE_MS])
        if holder not in self.queue:
            self.queue.append(holder)
        free = self.limit - len(self.held)
        expected = 1 if self.queue.index(holder) < free else 0
        assert got == expected
        if got == 1:
            self.queue.remove(holder)
            if short:
                time.sleep(0.003)  # the one-millisecond lease is over: as if its process had died
            else:
                self.held.add(holder)

    @rule(holder=st.sampled_from(HOLDERS))
    def release(self, holder: str) -> None:
        self.r.delete(self.keys.wake("p0"), self.keys.wake("p1"), self.keys.wake("p2"))  # type: ignore[attr-defined]
        args = [holder, self.limit, self.keys.wake_prefix, 10_000]
        removed = self.release_script(keys=self.keys.slot_keys, args=args)
        assert removed == (holder in self.held) + (holder in self.queue)
        self.held.discard(holder)
        if holder in self.queue:
            self.queue.remove(holder)
        assert self.release_script(keys=self.keys.slot_keys, args=args) == 0  # idempotent
        free = self.limit - len(self.held)
        woken = {h.split(":")[0] for h in self.queue[:free]}
        for process in ("p0", "p1", "p2"):
            listed = self.r.llen(self.keys.wake(process))  # type: ignore[attr-defined]
            assert listed == (1 if process in woken else 0)

    @rule(holders=st.lists(st.sampled_from(HOLDERS), min_size=1, max_size=4, unique=True))
    def renew(self, holders: list[str]) -> None:
        lost = self.renew_script(keys=self.keys.slot_keys, args=[LONG_MS, *holders])
        assert set(lost) == {h for h in holders if h not in self.held}

    @invariant()
    def never_more_than_the_limit(self) -> None:
        assert self.live_in_redis() == len(self.held) <= self.limit


def test_the_slot_scripts_follow_the_model(sync_redis: object) -> None:
    Slots.client = sync_redis
    run = Slots.TestCase
    run.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
    run().runTest()


def test_an_expired_lease_is_reclaimed_and_renewing_it_fails(sync_redis: object) -> None:
    keys = UnitKeys(f"aeopp-test-{uuid.uuid4().hex[:10]}", "0UvTEST0000000002")
    acquire = sync_redis.register_script(scripts.ACQUIRE)  # type: ignore[attr-defined]
    renew = sync_redis.register_script(scripts.RENEW)  # type: ignore[attr-defined]
    assert acquire(keys=keys.slot_keys, args=[1, "dead:1", 50, PLACE_MS]) == 1
    assert acquire(keys=keys.slot_keys, args=[1, "live:1", LONG_MS, PLACE_MS]) == 0  # full: waits
    time.sleep(0.08)
    assert acquire(keys=keys.slot_keys, args=[1, "live:1", LONG_MS, PLACE_MS]) == 1  # reclaimed
    assert renew(keys=keys.slot_keys, args=[LONG_MS, "dead:1", "live:1"]) == ["dead:1"]
    assert sync_redis.ttl(keys.slots) > 0  # type: ignore[attr-defined]  # keys clean themselves up


def test_a_lapsed_place_in_line_is_dropped(sync_redis: object) -> None:
    keys = UnitKeys(f"aeopp-test-{uuid.uuid4().hex[:10]}", "0UvTEST0000000003")
    acquire = sync_redis.register_script(scripts.ACQUIRE)  # type: ignore[attr-defined]
    release = sync_redis.register_script(scripts.RELEASE)  # type: ignore[attr-defined]
    assert acquire(keys=keys.slot_keys, args=[1, "a:1", LONG_MS, PLACE_MS]) == 1
    assert acquire(keys=keys.slot_keys, args=[1, "gone:1", LONG_MS, 30]) == 0  # a waiter that dies
    assert acquire(keys=keys.slot_keys, args=[1, "b:1", LONG_MS, PLACE_MS]) == 0
    assert release(keys=keys.slot_keys, args=["a:1", 1, keys.wake_prefix, 1000]) == 1
    assert acquire(keys=keys.slot_keys, args=[1, "b:1", LONG_MS, PLACE_MS]) == 0  # gone:1 is first
    time.sleep(0.05)
    assert acquire(keys=keys.slot_keys, args=[1, "b:1", LONG_MS, PLACE_MS]) == 1  # its place lapsed


def test_the_daily_flag_stops_acquire_and_admit(sync_redis: object) -> None:
    keys = UnitKeys(f"aeopp-test-{uuid.uuid4().hex[:10]}", "0UvTEST0000000004")
    acquire = sync_redis.register_script(scripts.ACQUIRE)  # type: ignore[attr-defined]
    admit = sync_redis.register_script(scripts.ADMIT)  # type: ignore[attr-defined]
    budget = keys.budget("2026-12-01")
    assert admit(keys=[keys.daily_limit, budget], args=[2, 60_000]) == [0, 0]
    assert admit(keys=[keys.daily_limit, budget], args=[2, 60_000]) == [0, 0]
    code, left = admit(keys=[keys.daily_limit, budget], args=[2, 60_000])
    assert code == 2
    assert 0 < left <= 60_000
    assert admit(keys=[keys.daily_limit, budget], args=[-1, 60_000]) == [0, 0]  # no budget: not counted
    sync_redis.set(keys.daily_limit, "122", px=5_000)  # type: ignore[attr-defined]
    code, left = admit(keys=[keys.daily_limit, budget], args=[-1, 60_000])
    assert code == 1
    assert 0 < left <= 5_000
    assert acquire(keys=keys.slot_keys, args=[5, "a:1", LONG_MS, PLACE_MS]) == -1
    assert sync_redis.zcard(keys.queue) == 0  # type: ignore[attr-defined]
