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


async def test_a_66_halves_what_was_in_flight_once_per_burst() -> None:
    limiter = AdaptiveLimiter(5, seed=1)
    entered = anyio.Event()
    release = anyio.Event()
    levels: list[int] = []

    async def hold(answer_66: bool) -> None:
        async with limiter.slot():
            levels.append(limiter.in_flight)
            if len(levels) == 4:
                entered.set()
            await release.wait()
        if answer_66:  # as the client does: after the slot, in the task that sent the request
            limiter.too_many()
            limiter.too_many()  # the same request: sent before the decrease

    async with anyio.create_task_group() as tg:
        for index in range(4):
            tg.start_soon(hold, index == 3)
            await anyio.sleep(0.001)  # in this order, so the last one started with 4 in flight
        await entered.wait()
        release.set()
    assert levels == [1, 2, 3, 4]
    assert limiter.window == 2.0  # half of the 4 in flight, not of the window of 5
    limiter.too_many()  # outside any request: as if sent after the decrease, with the window in flight
    assert limiter.window == 1.0


async def test_probes_beyond_what_the_server_accepted_go_one_at_a_time() -> None:
    limiter = AdaptiveLimiter(5, seed=1)
    async with limiter.slot():
        await anyio.sleep(0.05)
    limiter.success()  # a request takes about 50 ms: a probe waits 5 ms for a 66
    assert limiter.probe_gap == pytest.approx(0.005, rel=0.2)
    starts: list[float] = []

    async def request() -> None:
        async with limiter.slot():
            starts.append(anyio.current_time())
            await anyio.sleep(0.05)
        limiter.success()

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(request)
    starts.sort()
    # One in flight was accepted: the second goes at once (the first probe), the others a gap apart.
    assert all(b - a >= 0.004 for a, b in itertools.pairwise(starts[1:]))
    # Now five were accepted: five more go together (gated, they would take four gaps or more).
    starts.clear()
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(request)
    assert max(starts) - min(starts) < 0.012


async def test_after_a_66_a_crowded_limiter_pauses_and_a_quiet_one_does_not() -> None:
    limiter = AdaptiveLimiter(5, seed=1)

    async def request() -> None:
        async with limiter.slot():
            await anyio.sleep(0.01)
        limiter.success()

    async with anyio.create_task_group() as tg:  # in a task of its own, as the client's requests
        tg.start_soon(request)
    assert not limiter._crowded()  # no 66 yet: a lone process never waits
    limiter.too_many()
    assert limiter.window == 2.5  # still one or more: not paced
    assert limiter._crowded()
    gaps: list[float] = []
    for _ in range(20):
        asked = anyio.current_time()
        async with limiter.slot():
            gaps.append(anyio.current_time() - asked)
    assert max(gaps) <= limiter.PAUSE * 0.01 + 0.005
    assert max(gaps) > 0.001  # drawn between none and half a request
    limiter._decreased_at -= 4 * limiter._patience * 0.01 + 1  # a long quiet since
    assert not limiter._crowded()


async def test_below_one_requests_are_paced() -> None:
    limiter = AdaptiveLimiter(5, seed=1)
    for _ in range(5):
        limiter.too_many()
    assert limiter.window == AdaptiveLimiter.MIN_WINDOW == 0.35
    starts: list[float] = []
    for _ in range(3):
        async with limiter.slot():
            starts.append(anyio.current_time())
            await anyio.sleep(0.02)
        limiter.success()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Idle about (1 / 0.35 - 1) request durations after each.
    assert all(gap > 0.02 + 0.02 * (1 / 0.35 - 1) - 0.005 for gap in gaps)


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
