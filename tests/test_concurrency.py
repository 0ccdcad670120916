"""The ordered fan-out and the adaptive limiter."""

from __future__ import annotations

import itertools

import anyio
import pytest

from aeopp._concurrency import AdaptiveLimiter, ordered_map

pytestmark = pytest.mark.anyio


async def test_results_come_in_key_order_within_the_window() -> None:
    running = peak = 0

    async def slow(key: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.001 * ((7 * key) % 5))  # finish out of order
        running -= 1
        return key * 10

    async with ordered_map(slow, range(60), window=6) as results:
        got = [value async for value in results]
    assert got == [k * 10 for k in range(60)]
    assert peak <= 6


async def test_a_failure_is_raised_in_position_and_stops_later_work() -> None:
    started: list[int] = []
    finished: list[int] = []

    async def work(key: int) -> int:
        started.append(key)
        await anyio.sleep(0.05 if key == 3 else 0.2)
        if key == 3:
            raise KeyError(key)
        finished.append(key)
        return key

    got: list[int] = []
    with pytest.raises(KeyError):
        async with ordered_map(work, range(1000), window=8) as results:
            async for value in results:
                got.append(value)
    assert got == [0, 1, 2]  # every earlier result, then the error itself, not a group
    assert len(started) <= 8  # nothing new started after the failure
    assert all(key < 3 for key in finished)  # later work was cancelled, not finished


async def test_leaving_early_cancels_the_rest() -> None:
    finished: list[int] = []

    async def work(key: int) -> int:
        await anyio.sleep(0.05)
        finished.append(key)
        return key

    async with ordered_map(work, range(100), window=5) as results:
        async for value in results:
            if value == 1:
                break
    await anyio.sleep(0.1)
    assert len(finished) <= 6


async def test_adaptive_limiter_halves_and_recovers() -> None:
    limiter = AdaptiveLimiter(5, recover_after=3, seed=1)
    assert limiter.limit == 5  # a single process gets every slot at once
    limiter.too_many()
    assert limiter.window == 2.5
    assert limiter.limit == 2
    for _ in range(10):
        limiter.too_many()
    assert limiter.window == AdaptiveLimiter.MIN_WINDOW
    assert limiter.limit == 1  # below one window: one at a time, paced
    for _ in range(1000):
        limiter.success()
    assert limiter.limit == 5  # back, slowly (about one more per 3 successes here)
    limiter.success()
    assert limiter.window == 5  # never above the ceiling


async def test_a_slow_start_adds_one_per_success_until_the_first_66() -> None:
    limiter = AdaptiveLimiter(5, recover_after=3, seed=1, slow_start=True)
    assert limiter.limit == 1
    for expected in (2, 3, 4, 5, 5):
        limiter.success()
        assert limiter.limit == expected
    limiter.too_many()
    assert limiter.window == 2.5


async def test_a_burst_of_66_halves_once() -> None:
    limiter = AdaptiveLimiter(5, seed=1)
    for _ in range(4):
        limiter.success()
    async with limiter.slot():
        pass
    limiter.too_many()
    limiter.too_many()  # the same request's task: sent before the decrease
    assert limiter.window == 2.5


async def test_below_one_requests_are_paced() -> None:
    limiter = AdaptiveLimiter(5, seed=1)
    for _ in range(5):
        limiter.too_many()
    assert limiter.window == AdaptiveLimiter.MIN_WINDOW == 0.5
    starts: list[float] = []
    for _ in range(3):
        async with limiter.slot():
            starts.append(anyio.current_time())
            await anyio.sleep(0.02)
        limiter.success()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap > 0.02 + 0.02 * 1 * 0.5 - 0.005 for gap in gaps)  # idle about 1 duration (jittered)


async def test_the_limiter_holds_its_limit() -> None:
    limiter = AdaptiveLimiter(5)
    for _ in range(4):
        limiter.success()

    async def hold() -> None:
        async with limiter.slot():
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(hold)
    assert limiter.max_in_flight == 5
    assert limiter.in_flight == 0
