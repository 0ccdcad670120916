"""The ordered fan-out and the adaptive limiter."""

from __future__ import annotations

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


async def test_adaptive_limiter_backs_off_and_recovers() -> None:
    limiter = AdaptiveLimiter(5, recover_after=3)
    for _ in range(10):
        limiter.too_many()
    assert limiter.limit == 1  # never below one
    for _ in range(3 * 4):
        limiter.success()
    assert limiter.limit == 5
    limiter.success()
    assert limiter.limit == 5  # never above the ceiling

    async def hold() -> None:
        async with limiter.slot():
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(hold)
    assert limiter.max_in_flight == 5
    assert limiter.in_flight == 0
